"""What the history model knows about an open deal at a moment: its features, by name.

Every feature is computed from a :class:`DealRecord` as it stood at the moment (see the
store's as-of view) and the moment itself, never from anything later. Each has a short
phrase for the reasons a deal's probability comes with ("in negotiation", "close date
45 days past").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

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
)


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


def _days(later: datetime, earlier: datetime | None) -> float:
    if earlier is None:
        return math.nan
    return max((later - earlier).total_seconds() / 86_400.0, 0.0)


def deal_features(
    deals: Sequence[DealRecord],
    moment: datetime,
    window_days: int,
    owners: OwnerRates | None = None,
) -> DealFeatures:
    """The features of open ``deals`` at ``moment`` for a ``window_days`` forecast; with
    ``owners`` (learned before ``moment``), each owner's past rate as one of them."""
    count = len(deals)
    matrix = np.zeros((count, len(FEATURES)))
    column = {name: i for i, name in enumerate(FEATURES)}
    age = np.full(count, math.nan)
    in_stage = np.full(count, math.nan)
    to_close = np.full(count, math.nan)
    since_activity = np.full(count, math.nan)
    values = np.zeros(count)
    rep = np.full(count, math.nan)
    stages = []
    today = moment.date()
    shares = quarter_shares(moment, window_days)
    for row, deal in enumerate(deals):
        stage = deal.stage if deal.stage in OPEN_STAGES else "unknown"
        stages.append(stage)
        matrix[row, column[f"stage:{stage}"]] = 1.0
        age[row] = _days(moment, deal.created_at)
        in_stage[row] = _days(moment, deal.stage_changed_at or deal.created_at)
        values[row] = deal.value or 0.0
        if deal.close_date is None:
            matrix[row, column["no_close_date"]] = 1.0
        else:
            days = (deal.close_date - today).days
            to_close[row] = days
            matrix[row, column["close_overdue"]] = float(days < 0)
            matrix[row, column["closes_in_window"]] = float(0 <= days <= window_days)
            # Signed log scale: a week either way matters, a year less than 52 weeks.
            matrix[row, column["days_to_close"]] = math.copysign(math.log1p(abs(days)), days)
        if deal.last_activity_at is None:
            matrix[row, column["no_activity"]] = 1.0
        else:
            since_activity[row] = _days(moment, deal.last_activity_at)
            matrix[row, column["days_since_activity"]] = math.log1p(since_activity[row])
        if deal.probability is None:
            matrix[row, column["no_rep_probability"]] = 1.0
        else:
            rep[row] = deal.probability
            matrix[row, column["rep_probability"]] = deal.probability / 100.0
    band = np.searchsorted(np.array(AGE_BANDS, dtype=float), np.nan_to_num(age), side="left")
    for index, name in enumerate(AGE_FEATURES, start=1):
        matrix[band == index, column[name]] = 1.0
    matrix[:, column["days_in_stage"]] = np.log1p(np.nan_to_num(in_stage))
    matrix[:, column["value"]] = np.log1p(values)
    rates = owners or OwnerRates({}, 0.0)
    owner_rate = np.array([rates.rate(d.owner_id) for d in deals]) if count else np.zeros(0)
    matrix[:, column["owner_rate"]] = _logit(owner_rate) - _logit(np.full(count, rates.base))
    # Wins bunch up at quarter ends: where the window falls in the quarter matters.
    matrix[:, column["quarter_month:2"]] = shares[1]
    matrix[:, column["quarter_month:3"]] = shares[2]
    return DealFeatures(
        matrix,
        age,
        in_stage,
        to_close,
        since_activity,
        values,
        rep,
        owner_rate,
        rates.base,
        tuple(stages),
        shares,
    )


# Rows a rep's own rate is worth as much as: below it, a rep's rate leans on everyone's.
OWNER_PRIOR_ROWS = 40


@dataclass(frozen=True)
class OwnerRates:
    """Each owner's share of open deals won within the window at past cut-offs, shrunk
    towards everyone's (``base``) by :data:`OWNER_PRIOR_ROWS` rows of it."""

    counts: dict[str, tuple[int, int]]  # owner id -> (won, rows)
    base: float

    @classmethod
    def learn(cls, owners: Sequence[str | None], won: Sequence[bool]) -> OwnerRates:
        counts: dict[str, tuple[int, int]] = {}
        for owner, win in zip(owners, won, strict=True):
            if owner:
                wins, rows = counts.get(owner, (0, 0))
                counts[owner] = (wins + int(win), rows + 1)
        total = len(won)
        return cls(counts, (sum(won) / total) if total else 0.0)

    def rate(self, owner: str | None) -> float:
        wins, rows = self.counts.get(owner or "", (0, 0))
        return (wins + OWNER_PRIOR_ROWS * self.base) / (rows + OWNER_PRIOR_ROWS)


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
    return group


def _days_text(days: float) -> str:
    if math.isnan(days):
        return "? days"
    whole = int(days)
    return "1 day" if whole == 1 else f"{whole:,} days"
