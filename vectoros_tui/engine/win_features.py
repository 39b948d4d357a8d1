"""What the history model knows about an open deal at a moment: its features, by name.

Every feature is computed from a :class:`DealRecord` as it stood at the moment (see the
store's as-of view) and the moment itself, never from anything later. Each has a short
phrase for the reasons a deal's probability comes with ("in negotiation", "close date
45 days past").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from vectoros_tui.engine.dates import as_utc, end_of_day
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES

# Stages as features; "unknown" is an open deal whose stage then is not known (an
# imported history often keeps only how deals ended).
STAGE_FEATURES = (*OPEN_STAGES, "unknown")

# Deal age in bands (upper bounds, days): the chance of closing soon rises and then falls
# with age, which no single slope follows; bands are a discrete-time survival model's
# baseline hazard. The first band is the reference.
AGE_BANDS = (14, 30, 60, 120, 240)
AGE_FEATURES = (
    *(f"age:{low + 1}-{high}" for low, high in itertools.pairwise(AGE_BANDS)),
    f"age:{AGE_BANDS[-1] + 1}+",
)

FEATURES: tuple[str, ...] = (
    *(f"stage:{stage}" for stage in STAGE_FEATURES),
    *AGE_FEATURES,
    "days_in_stage",
    "value",
    "no_close_date",
    "close_overdue",
    "closes_in_window",
    "days_to_close",
    "no_activity",
    "days_since_activity",
    "rep_probability",
    "no_rep_probability",
    "owner_rate",
    "quarter_month:2",
    "quarter_month:3",
    "quarter_end",
)

# The last days of a quarter, when reps push deals to close: a window that holds them
# closes more than its months alone say. Training windows fall anywhere against the
# calendar, and one ending a few days before a quarter's end is mostly that quarter's
# last month yet misses the rush, while the next, mostly a first month, catches it.
QUARTER_END_DAYS = 7


@dataclass(frozen=True)
class DealFeatures:
    """A matrix of features (one row per deal) and the raw numbers the reasons quote."""

    matrix: NDArray[np.float64]
    age_days: NDArray[np.float64]
    stage_days: NDArray[np.float64]
    close_days: NDArray[np.float64]  # days from the moment to the close date; NaN: none
    activity_days: NDArray[np.float64]  # days since the last activity; NaN: none
    values: NDArray[np.float64]
    rep_probability: NDArray[np.float64]  # percent; NaN: none
    owner_rate: NDArray[np.float64]  # the owner's past rate of winning within a window
    base_rate: float  # everyone's
    stages: tuple[str, ...]
    quarter_share: tuple[float, float, float]  # of the window's days in months 1, 2, 3
    quarter_end: float  # days of quarters' last weeks in the window, in weeks


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_STAGE_INDEX = {stage: i for i, stage in enumerate(STAGE_FEATURES)}
UNKNOWN_STAGE = _STAGE_INDEX["unknown"]


def micros(moment: datetime) -> float:
    """``moment`` (aware) in microseconds since the epoch: whole numbers below 2**53, so
    a float holds them exactly and their differences are the timedeltas' own."""
    return (moment - _EPOCH) / _MICROSECOND


def stage_feature(stage: str | None) -> int:
    """The position in :data:`STAGE_FEATURES` of a deal's stage: an open stage, else
    unknown."""
    return _STAGE_INDEX.get(stage or "", UNKNOWN_STAGE)


@dataclass(frozen=True)
class DealColumns:
    """The fields of deals that the features read, one array each, in place of records: a
    training grid of a 100,000-deal history builds its rows from the store's arrays
    without a record per deal and cut-off. Moments are :func:`micros`, NaN: none."""

    stage: NDArray[np.intp]  # position in STAGE_FEATURES
    created: NDArray[np.float64]
    stage_changed: NDArray[np.float64]  # the stage's last change, else the creation
    value: NDArray[np.float64]
    close_day: NDArray[np.float64]  # the close date's proleptic ordinal
    last_activity: NDArray[np.float64]
    probability: NDArray[np.float64]  # percent

    def patched(self, rows: Sequence[int], fresh: DealColumns) -> DealColumns:
        """These columns with ``rows`` replaced by ``fresh``'s, in order (a copy)."""
        taken = np.asarray(rows, dtype=np.intp)
        patched = {}
        for field in fields(self):
            column = getattr(self, field.name).copy()
            column[taken] = getattr(fresh, field.name)
            patched[field.name] = column
        return DealColumns(**patched)

    @classmethod
    def of(cls, deals: Sequence[DealRecord]) -> DealColumns:
        nan = math.nan
        return cls(
            np.array([stage_feature(d.stage) for d in deals], dtype=np.intp),
            np.array([nan if d.created_at is None else micros(d.created_at) for d in deals]),
            np.array(
                [
                    nan if (at := d.stage_changed_at or d.created_at) is None else micros(at)
                    for d in deals
                ]
            ),
            np.array([nan if d.value is None else d.value for d in deals], dtype=np.float64),
            np.array(
                [nan if d.close_date is None else d.close_date.toordinal() for d in deals],
                dtype=np.float64,
            ),
            np.array(
                [nan if d.last_activity_at is None else micros(d.last_activity_at) for d in deals]
            ),
            np.array(
                [nan if d.probability is None else d.probability for d in deals], dtype=np.float64
            ),
        )


@dataclass(frozen=True)
class _Seen:
    deals: list[DealRecord]
    columns: DealColumns
    owners: OwnerRates
    owner_rate: NDArray[np.float64]


class ColumnsReuse:
    """The columns (and owners' rates) of the deals a caller forecasts again and again,
    as the forecast screen does after every save: rows are read again only for records
    that are not the very objects seen last time. A save replaces one record of 14,000,
    and reading them all into columns was a third of the forecast the save waits for.
    What is kept is replaced whole and never written to."""

    # Past this share of changed rows, reading all again is as quick.
    _PATCH_SHARE = 0.1

    def __init__(self) -> None:
        self._seen: _Seen | None = None

    def of(
        self, deals: Sequence[DealRecord], owners: OwnerRates
    ) -> tuple[DealColumns, NDArray[np.float64]]:
        """The columns of ``deals`` and each one's owner's rate by ``owners``."""
        seen = self._seen
        changed: list[int] | None = None
        if seen is not None and seen.owners is owners and len(seen.deals) == len(deals):
            pairs = enumerate(zip(seen.deals, deals, strict=True))
            changed = [i for i, (then, now) in pairs if then is not now]
            if len(changed) > self._PATCH_SHARE * len(deals):
                changed = None
        if seen is not None and changed == []:
            return seen.columns, seen.owner_rate
        if seen is None or changed is None:
            columns = DealColumns.of(deals)
            owner_rate = _owner_rates(deals, owners)
        else:
            fresh = [deals[i] for i in changed]
            columns = seen.columns.patched(changed, DealColumns.of(fresh))
            owner_rate = seen.owner_rate.copy()
            owner_rate[changed] = _owner_rates(fresh, owners)
        self._seen = _Seen(list(deals), columns, owners, owner_rate)
        return columns, owner_rate


def _owner_rates(deals: Sequence[DealRecord], owners: OwnerRates) -> NDArray[np.float64]:
    return np.array([owners.rate(d.owner_id) for d in deals], dtype=np.float64)


def _days_before(moment: float, then: NDArray[np.float64]) -> NDArray[np.float64]:
    """Days from ``then`` to ``moment`` (micros; NaN stays NaN), none below zero."""
    return np.maximum((moment - then) / 1e6 / 86_400.0, 0.0)


def deal_features(
    deals: Sequence[DealRecord],
    moment: datetime,
    window_days: int,
    owners: OwnerRates | None = None,
    reuse: ColumnsReuse | None = None,
) -> DealFeatures:
    """The features of open ``deals`` as of the end of ``moment``'s day (UTC) for a
    ``window_days`` forecast; with ``owners`` (learned before ``moment``), each owner's
    past rate as one of them. ``reuse``: the columns of the deals seen last by it, read
    again only where they changed.

    The end of the day, as a forecast as of a past day, a backtest's cut-offs and the
    training rows take it: today's forecast is then the same at 9:00 and at 17:00 until
    the deals change, in the app, the CLI and the server alike. At the moment itself,
    deal ages and days in stage moved with the clock, and so did every figure."""
    rates = owners or _NO_OWNERS
    if reuse is None:
        columns, owner_rate = DealColumns.of(deals), _owner_rates(deals, rates)
    else:
        columns, owner_rate = reuse.of(deals, rates)
    day_end = end_of_day(moment)
    found = column_features(columns, day_end, window_days, owner_rate, rates.base)
    return replace(found, stages=tuple(STAGE_FEATURES[i] for i in columns.stage))


def column_features(
    columns: DealColumns,
    moment: datetime,
    window_days: int,
    owner_rate: NDArray[np.float64],
    base_rate: float,
) -> DealFeatures:
    """:func:`deal_features` of deals given as columns, with each deal's owner's past
    rate and everyone's (``stages`` is left empty: a training grid has no use for it)."""
    count = len(columns.stage)
    matrix = np.zeros((count, len(FEATURES)))
    column = {name: i for i, name in enumerate(FEATURES)}
    now = micros(as_utc(moment))
    # The stage features come first, in STAGE_FEATURES' order.
    matrix[np.arange(count), columns.stage] = 1.0
    age = _days_before(now, columns.created)
    in_stage = _days_before(now, columns.stage_changed)
    values = np.where(np.isnan(columns.value), 0.0, columns.value)
    to_close = columns.close_day - moment.date().toordinal()
    dated = ~np.isnan(to_close)
    matrix[:, column["no_close_date"]] = ~dated
    matrix[:, column["close_overdue"]] = dated & (to_close < 0)
    matrix[:, column["closes_in_window"]] = dated & (to_close >= 0) & (to_close <= window_days)
    # Signed log scale: a week either way matters, a year less than 52 weeks.
    signed = np.copysign(np.log1p(np.abs(to_close)), to_close)
    matrix[:, column["days_to_close"]] = np.where(dated, signed, 0.0)
    since_activity = _days_before(now, columns.last_activity)
    active = ~np.isnan(since_activity)
    matrix[:, column["no_activity"]] = ~active
    matrix[:, column["days_since_activity"]] = np.where(active, np.log1p(since_activity), 0.0)
    rep = columns.probability
    said = ~np.isnan(rep)
    matrix[:, column["no_rep_probability"]] = ~said
    matrix[:, column["rep_probability"]] = np.where(said, rep / 100.0, 0.0)
    band = np.searchsorted(np.array(AGE_BANDS, dtype=float), np.nan_to_num(age), side="left")
    for index, name in enumerate(AGE_FEATURES, start=1):
        matrix[band == index, column[name]] = 1.0
    matrix[:, column["days_in_stage"]] = np.log1p(np.nan_to_num(in_stage))
    matrix[:, column["value"]] = np.log1p(values)
    matrix[:, column["owner_rate"]] = _logit(owner_rate) - _logit(np.full(count, base_rate))
    # Wins bunch up at quarter ends: where the window falls in the quarter matters.
    shares = quarter_shares(moment, window_days)
    matrix[:, column["quarter_month:2"]] = shares[1]
    matrix[:, column["quarter_month:3"]] = shares[2]
    rush = quarter_end_share(moment, window_days)
    matrix[:, column["quarter_end"]] = rush
    return DealFeatures(
        matrix,
        age,
        in_stage,
        to_close,
        since_activity,
        values,
        rep,
        owner_rate,
        base_rate,
        (),
        shares,
        rush,
    )


# Rows a rep's own rate is worth as much as: below it, a rep's rate leans on everyone's.
OWNER_PRIOR_ROWS = 40


@dataclass(frozen=True)
class OwnerRates:
    """Each owner's share of open deals won within the window at past cut-offs, shrunk
    towards everyone's (``base``) by :data:`OWNER_PRIOR_ROWS` rows of it."""

    counts: dict[str, tuple[float, float]]  # owner id -> (won, rows)
    base: float

    @classmethod
    def learn(
        cls, owners: Sequence[str | None], won: Sequence[bool], repeats: int = 1
    ) -> OwnerRates:
        """``repeats``: how many rows tell of each deal's one window (overlapping
        training windows hold it several times); each row counts that much less."""
        counts: dict[str, tuple[float, float]] = {}
        for owner, win in zip(owners, won, strict=True):
            if owner:
                wins, rows = counts.get(owner, (0.0, 0.0))
                counts[owner] = (wins + int(win) / repeats, rows + 1 / repeats)
        total = len(won)
        return cls(counts, (sum(won) / total) if total else 0.0)

    def rate(self, owner: str | None) -> float:
        wins, rows = self.counts.get(owner or "", (0, 0))
        return (wins + OWNER_PRIOR_ROWS * self.base) / (rows + OWNER_PRIOR_ROWS)


_NO_OWNERS = OwnerRates({}, 0.0)


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(clipped / (1 - clipped))


def quarter_shares(moment: datetime, window_days: int) -> tuple[float, float, float]:
    """The shares of the window's days (the ``window_days`` after ``moment``) that fall in
    the first, second and third month of their quarter."""
    counts = [0, 0, 0]
    day = moment.date()
    for offset in range(1, window_days + 1):
        current = day + timedelta(days=offset)
        counts[(current.month - 1) % 3] += 1
    total = max(window_days, 1)
    return counts[0] / total, counts[1] / total, counts[2] / total


def quarter_end_share(moment: datetime, window_days: int) -> float:
    """How many of the window's days (the ``window_days`` after ``moment``) are among
    the last :data:`QUARTER_END_DAYS` of a quarter, over that many: 1 for each quarter's
    whole last week the window holds."""
    day = moment.date()
    found = 0
    for offset in range(1, window_days + 1):
        current = day + timedelta(days=offset)
        if current.month % 3 == 0 and (current + timedelta(days=QUARTER_END_DAYS)).month != (
            current.month
        ):
            found += 1
    return found / QUARTER_END_DAYS


def reason_group(name: str) -> str:
    """The reason a feature speaks to: features of one reason (the close-date ones, say)
    add up to one push, said once."""
    if name.startswith(("stage:", "age:", "quarter_month:")):
        return name.split(":", 1)[0]
    if name in ("no_close_date", "close_overdue", "closes_in_window", "days_to_close"):
        return "close"
    if name in ("no_activity", "days_since_activity"):
        return "activity"
    if name in ("rep_probability", "no_rep_probability"):
        return "rep"
    if name == "owner_rate":
        return "owner"
    return name


REASON_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(reason_group(f) for f in FEATURES))
# Each reason as a sentence names it.
REASON_LABELS: dict[str, str] = {
    "stage": "stage",
    "age": "age",
    "days_in_stage": "time in stage",
    "value": "value",
    "close": "close date",
    "activity": "recent activity",
    "rep": "the rep's probability",
    "owner": "the owner's record",
    "quarter_month": "month of the quarter",
    "quarter_end": "quarter end",
}
assert set(REASON_LABELS) == set(REASON_GROUPS), "every reason has its label"


def reason_labels(groups: Iterable[str]) -> str:
    """Reasons as a sentence names them, in a list ("stage, close date")."""
    return ", ".join(REASON_LABELS.get(group, group) for group in groups)


def describe(group: str, features: DealFeatures, row: int) -> str:
    """The phrase for one reason of one deal, with the deal's own numbers."""
    if group == "stage":
        stage = features.stages[row]
        return "stage not known then" if stage == "unknown" else f"in {stage}"
    if group == "age":
        return f"{_days_text(features.age_days[row])} old"
    if group == "days_in_stage":
        return f"{_days_text(features.stage_days[row])} in its stage"
    if group == "value":
        return f"value {features.values[row]:,.0f}"
    if group == "close":
        days = features.close_days[row]
        if math.isnan(days):
            return "no close date"
        if days < 0:
            return f"close date {_days_text(-days)} past"
        return "closes today" if days == 0 else f"closes in {_days_text(days)}"
    if group == "activity":
        since = features.activity_days[row]
        return (
            "no activity logged" if math.isnan(since) else f"last activity {_days_text(since)} ago"
        )
    if group == "rep":
        probability = features.rep_probability[row]
        if math.isnan(probability):
            return "no rep probability"
        return f"rep says {probability:.0f}%"
    if group == "owner":
        return (
            f"its owner won {features.owner_rate[row]:.0%} within a window before "
            f"(everyone {features.base_rate:.0%})"
        )
    if group == "quarter_month":
        last = features.quarter_share[2]
        if last >= 0.5:
            return f"{last:.0%} of the window in a quarter's last month"
        first = features.quarter_share[0]
        return f"{first:.0%} of the window in a quarter's first month"
    if group == "quarter_end":
        rush = features.quarter_end
        if rush >= 2:
            return f"{int(rush)} quarters' last weeks in the window"
        if rush >= 1:
            return "a quarter's last week in the window"
        if rush > 0:
            return f"{round(rush * QUARTER_END_DAYS)} of a quarter's last 7 days in the window"
        return "no quarter end in the window"
    return group


def _days_text(days: float) -> str:
    if math.isnan(days):
        return "? days"
    whole = int(days)
    return "1 day" if whole == 1 else f"{whole:,} days"
