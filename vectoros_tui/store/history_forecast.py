"""The history model's forecast of a workspace: trained on the workspace's own past.

Training rows are the open deals at cut-offs a third of a window apart (each at the end
of a day), from the end of the first deal's creation day plus one window up to the
forecast's moment, each labelled with how its window after the cut-off ended: won, lost or
still open. Only cut-offs whose whole window has passed by the forecast's moment are used,
so an as-of forecast learns nothing from later outcomes.

Why a third of a window: the calendar effects (which month of the quarter a window holds,
a quarter's last week) are learned from where the training windows fall. Windows one 30-day
window apart keep nearly the same place against the months (they drift 0.4 days a month),
so all of them might start a week into a month while a forecast made at a month's end
covers exactly one month: a place no training window had, and its calendar effects were
then guessed from the others. Three phases put every forecast's window within five days of
a learned one. Overlapping windows share deals and days, so they are not three times the
evidence: the history thresholds and the owners' rates count each deal's window once, and
the parameters' covariance counts each run of three overlapping windows as one cluster.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from vectoros_tui.engine.dates import end_of_day
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.forecast import REPORTED_PERCENTILES
from vectoros_tui.engine.stages import stage_index
from vectoros_tui.engine.unpriced import WonAmounts
from vectoros_tui.engine.win_features import (
    FEATURES,
    OWNER_PRIOR_ROWS,
    REASON_GROUPS,
    ColumnsReuse,
    DealFeatures,
    OwnerRates,
    column_features,
    deal_features,
    describe,
    micros,
    reason_group,
)
from vectoros_tui.engine.win_model import (
    LOST,
    MIN_TRAINING_ROWS,
    MIN_WINS,
    STILL_OPEN,
    WON,
    LogitReuse,
    WinModel,
    enough_history,
    fit_win_model,
    simulate_won_totals,
)
from vectoros_tui.plain_json import dumps
from vectoros_tui.store.model_payload import model_to_json

if TYPE_CHECKING:  # its SQLAlchemy is not needed to forecast from a fit kept
    from vectoros_tui.store.as_of import WorkspaceHistory

REASONS_PER_DEAL = 3
# Training cut-offs per window length (see the module's docstring).
PHASES = 3


def cutoff_step_days(window_days: int) -> int:
    """Days between training cut-offs: whole days, so every cut-off is a day's end; a
    window shorter than PHASES days is stepped a day at a time."""
    return max(1, window_days // PHASES)


class NotEnoughHistory(ValueError):
    """Too little history to learn from; the message says how much there is."""


@dataclass(frozen=True)
class Training:
    matrix: NDArray[np.float64]
    outcome: NDArray[np.int64]
    period: NDArray[np.int64]
    cutoffs: int

    @property
    def wins(self) -> int:
        return int((self.outcome == WON).sum())


class TrainingGrid:
    """The training rows of a workspace's history for one window length, cut-off by
    cut-off, on a grid :data:`PHASES` to a window from the end of the first deal's creation
    day. Each cut-off's rows are built once, so a backtest's many as-of fits share them."""

    def __init__(self, history: WorkspaceHistory, window_days: int) -> None:
        self.history = history
        self.window_days = window_days
        self.window = timedelta(days=window_days)
        self.step = timedelta(days=cutoff_step_days(window_days))
        # How many training windows each day falls in: a deal's window counts this often.
        self.overlap = max(1, round(self.window / self.step))
        self._blocks: dict[datetime, tuple[NDArray[np.float64], NDArray[np.int64]]] = {}
        # Each block's rows' owners, as the history's codes (-1: nobody).
        self._owners: dict[datetime, NDArray[np.int64]] = {}
        # The last fit's parameters: the next cut-off's fit starts from them.
        self.last_theta: NDArray[np.float64] | None = None
        # Each moment's fit: a backtest per rep replays the same cut-offs for each.
        self.fits: dict[datetime, tuple[WinModel, Training]] = {}

    def cutoffs(self, until: datetime) -> list[datetime]:
        """The grid's cut-offs whose whole window has passed by ``until``."""
        first = self.history.first_created
        if first is None:
            return []
        found = []
        # Each at the end of a day, as every forecast's moment is (deal_features): the
        # rows learned from are measured as the deals forecast from them are.
        cutoff = end_of_day(first) + self.window
        # A window that ended before anything ever closed says nothing of how deals close:
        # an export that starts mid-stream (nothing closed in its first months) would
        # otherwise teach that young deals, and every deal then, never close.
        closed = self.history.first_closed
        while cutoff + self.window <= until:
            if closed is not None and closed <= cutoff + self.window:
                found.append(cutoff)
            cutoff += self.step
        return found

    def block(self, cutoff: datetime) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        if cutoff not in self._blocks:
            # The owners' rates at a cut-off come from the windows that had ended by then.
            earlier = self.cutoffs(cutoff)
            for before in earlier:
                self.block(before)
            # Built from the history's arrays, not from a record per deal: the cut-offs of
            # a 100,000-deal workspace's 18 months are half a million rows.
            positions, columns, owners = self.history.open_columns(cutoff)
            wins, rows, base = self._owner_counts(earlier)
            nobody = (0 + OWNER_PRIOR_ROWS * base) / OWNER_PRIOR_ROWS  # OwnerRates.rate(None)
            rates = np.append((wins + OWNER_PRIOR_ROWS * base) / (rows + OWNER_PRIOR_ROWS), nobody)
            matrix = column_features(columns, cutoff, self.window_days, rates[owners], base).matrix
            # How each window ended, from the history as it stood at the window's end (a
            # deal closed then and reopened since still closed then).
            ended, won = self.history.ended(cutoff, cutoff + self.window)
            outcome = np.where(ended[positions], np.where(won[positions], WON, LOST), STILL_OPEN)
            self._blocks[cutoff] = (matrix, outcome.astype(np.int64))
            self._owners[cutoff] = owners
        return self._blocks[cutoff]

    def _owner_counts(
        self, cutoffs: list[datetime]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """Per owner code, wins and rows at these (built) cut-offs, and everyone's rate:
        :meth:`OwnerRates.learn` of their rows, as arrays."""
        owners = np.concatenate([self._owners[c] for c in cutoffs] or [np.zeros(0, np.int64)])
        won = np.concatenate(
            [self._blocks[c][1] == WON for c in cutoffs] or [np.zeros(0, np.bool_)]
        )
        total = len(won)
        base = int(won.sum()) / total if total else 0.0
        # Nobody's and an empty id's rows count for everyone's rate only.
        size = self.history.texts
        named = np.array([bool(self.history.text(code)) for code in range(size)] + [False])
        chosen = named[owners]
        # Overlapping windows count a deal's window several times: the counts are scaled
        # to one phase's, so the prior weighs what it would against distinct windows (as
        # OwnerRates.learn with repeats=overlap).
        wins = np.bincount(owners[chosen], weights=won[chosen], minlength=size) / self.overlap
        rows = np.bincount(owners[chosen], minlength=size) / self.overlap
        return wins, rows, base

    def owner_rates(self, cutoffs: list[datetime]) -> OwnerRates:
        """Each owner's rate of winning within the window at these (built) cut-offs."""
        wins, rows, base = self._owner_counts(cutoffs)
        owners = np.concatenate([self._owners[c] for c in cutoffs] or [np.zeros(0, np.int64)])
        # In the order the owners first appear, as OwnerRates.learn has them.
        seen, first = np.unique(owners, return_index=True)
        counts = {
            str(self.history.text(code)): (float(wins[code]), float(rows[code]))
            for code in seen[np.argsort(first)].tolist()
            if code >= 0 and rows[code] > 0
        }
        return OwnerRates(counts, base)

    def until(self, moment: datetime) -> Training:
        """Every row a forecast at ``moment`` may learn from."""
        cutoffs = self.cutoffs(moment)
        blocks = [self.block(c) for c in cutoffs]
        if not blocks:
            return Training(
                np.zeros((0, len(FEATURES))), np.zeros(0, np.int64), np.zeros(0, np.int64), 0
            )
        return Training(
            np.vstack([m for m, _ in blocks]),
            np.concatenate([o for _, o in blocks]),
            np.concatenate([np.full(len(o), i, dtype=np.int64) for i, (_, o) in enumerate(blocks)]),
            len(cutoffs),
        )


def fit_until(grid: TrainingGrid, moment: datetime) -> tuple[WinModel, Training]:
    """The model learned from what was known at ``moment``; raises :class:`NotEnoughHistory`."""
    if moment in grid.fits:
        return grid.fits[moment]
    training = grid.until(moment)
    # The evidence is the distinct windows': the overlapping ones count each about thrice.
    rows = round(len(training.outcome) / grid.overlap)
    wins = round(training.wins / grid.overlap)
    if not enough_history(rows, wins):
        raise NotEnoughHistory(
            f"too little history for the history model: {rows:,} open-deal periods and "
            f"{wins:,} wins within {grid.window_days} days in "
            f"{-(-training.cutoffs // grid.overlap)} past windows; it needs at least "
            f"{MIN_TRAINING_ROWS} and {MIN_WINS}"
        )
    model = fit_win_model(
        training.matrix,
        training.outcome,
        training.period,
        grid.last_theta,
        clusters=training.period // grid.overlap,
    )
    grid.last_theta = model.theta
    owners = grid.owner_rates(grid.cutoffs(moment))
    history = grid.history
    unpriced = WonAmounts.of(history.won_amounts(moment)) if history.amounts_at_close else None
    grid.fits[moment] = (replace(model, owners=owners, unpriced=unpriced), training)
    return grid.fits[moment]


@dataclass(frozen=True)
class ForecastReuse:
    """What a caller that forecasts the same deals again and again (the forecast screen,
    after every save) keeps between forecasts: the deals' inputs and win logits, computed
    again only for the deals that changed."""

    columns: ColumnsReuse = field(default_factory=ColumnsReuse)
    logits: LogitReuse = field(default_factory=LogitReuse)


def simulate(
    model: WinModel,
    open_deals: list[DealRecord],
    moment: datetime,
    window_days: int,
    simulations: int,
    seed: int | None,
    reuse: ForecastReuse | None = None,
) -> tuple[DealFeatures, NDArray[np.float64]]:
    features = deal_features(
        open_deals, moment, window_days, model.owners, None if reuse is None else reuse.columns
    )
    values, unpriced = if_won(model, features)
    totals = simulate_won_totals(
        model,
        features.matrix,
        values,
        simulations,
        np.random.default_rng(seed),
        None if reuse is None else reuse.logits,
        unpriced,
    )
    return features, totals


def if_won(
    model: WinModel, features: DealFeatures
) -> tuple[NDArray[np.float64], NDArray[np.bool_] | None]:
    """Each deal's revenue if won (an unpriced one's: the mean won amount, where the
    model has amounts to stand in, see :mod:`vectoros_tui.engine.unpriced`) and which
    deals are unpriced (None: every deal's own value counts, 0 or not)."""
    if model.unpriced is None:
        return features.values, None
    return model.unpriced.priced(features.values)


def history_forecast_and_totals(
    model: WinModel,
    cutoffs: int,
    open_deals: list[DealRecord],
    moment: datetime,
    window_days: int,
    simulations: int,
    seed: int | None,
    goal: float | None = None,
    scenario: str = "likely",
    *,
    deal_rows: bool = True,
    reuse: ForecastReuse | None = None,
    known_rows: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """The forecast of ``open_deals`` (as they stand at ``moment``) by ``model``, learned
    from ``cutoffs`` past windows, and the simulated totals it summarises (the forecast
    screen draws them). Its JSON has every key of the reps' forecast (so a reader of
    either finds what it reads) plus the model's own. ``deal_rows=False`` leaves
    ``forecasted_deals`` empty: the screen lists the deals by the reps' probabilities, and
    a row with reasons per open deal was a fifth of the time of a team's forecast.
    ``reuse``: see :class:`ForecastReuse`. ``known_rows``: deal id -> its row in
    ``forecasted_deals``, for the deals whose row is known to be what this forecast would
    build (see :func:`known_deal_rows`)."""
    features, totals = simulate(model, open_deals, moment, window_days, simulations, seed, reuse)
    values = features.values
    percentiles = dict(
        zip(REPORTED_PERCENTILES, np.percentile(totals, REPORTED_PERCENTILES), strict=True)
    )
    mean = float(totals.mean()) if len(totals) else 0.0
    spread = float(totals.std()) if len(totals) else 0.0
    cases = {"worst": percentiles[5], "likely": percentiles[50], "best": percentiles[95]}
    outcomes = model.outcome_probabilities(features.matrix)
    chances = outcomes[:, WON]
    worth, _ = if_won(model, features)
    pipeline = float(values.sum())
    result = {
        "model": "history",
        "timeframe": f"{window_days}d",
        "scenario": scenario,
        "predicted_revenue": _money(cases.get(scenario, cases["likely"])),
        "confidence": round(1.0 - min(spread / mean, 1.0), 3) if mean > 0 else 0.0,
        "revenue_goal": None if goal is None else _money(goal),
        # As the reps' forecast says it: JSON has no infinity, a zero goal's coverage is 0.
        "pipeline_coverage": None
        if goal is None
        else round(pipeline / goal, 3)
        if goal > 0
        else 0.0,
        "breakdown_by_stage": _by_stage(open_deals, values, worth, chances),
        "deals_analyzed": len(open_deals),
        # No value (a blank is stored as 0): $0 if won, unless the workspace's amounts
        # are filled in at the close, where each is counted as an amount won before
        # (``unpriced_if_won``). Either way the forecast says how many there are.
        "unpriced_deals": int(np.count_nonzero(values == 0.0)),
        "unpriced_if_won": None if model.unpriced is None else model.unpriced.to_json(),
        "worst_case": _money(percentiles[5]),
        "likely_case": _money(percentiles[50]),
        "best_case": _money(percentiles[95]),
        "mean_forecast": _money(float(totals.mean())),
        "standard_deviation": _money(float(totals.std())),
        "total_pipeline_value": _money(pipeline),
        "training": _training_summary(model, cutoffs, window_days),
        "simulation_stats": {
            "num_simulations": simulations,
            **{f"p{k}": _money(v) for k, v in percentiles.items()},
        },
        "forecasted_deals": _deal_rows(
            model, open_deals, features, worth, outcomes, known_rows or {}
        )
        if deal_rows
        else [],
    }
    if goal is not None:
        result["goal"] = _money(goal)
        hits = np.count_nonzero(totals >= goal) / len(totals) if len(totals) else 0.0
        result["probability_of_hitting_goal"] = round(float(hits), 4)
    return result, totals


def kept_forecast(
    model: WinModel,
    cutoffs: int,
    open_deals: list[DealRecord],
    moment: datetime,
    window_days: int,
    simulations: int,
    seed: int | None,
    goal: float | None,
    scenario: str,
    *,
    earlier: Mapping[str, Any] | None,
    with_inputs: bool,
) -> dict[str, Any]:
    """:func:`history_forecast_and_totals`'s forecast as it is kept: {"result", "open_deals"}, and
    ``with_inputs`` its "inputs" (see :func:`forecast_inputs`). The rows of deals that did
    not change are taken from ``earlier``, the forecast kept earlier the same day for the
    same question (see :func:`known_deal_rows`)."""
    fit, digests = "", []
    if earlier is not None or with_inputs:
        fit, digests = fit_digest(model, cutoffs), deal_digests(open_deals)
    result, _ = history_forecast_and_totals(
        model,
        cutoffs,
        open_deals,
        moment,
        window_days,
        simulations,
        seed,
        goal=goal,
        scenario=scenario,
        known_rows=None if earlier is None else known_deal_rows(earlier, fit, open_deals, digests),
    )
    found = {"result": result, "open_deals": len(open_deals)}
    if with_inputs:
        found["inputs"] = forecast_inputs(fit, open_deals, digests)
    return found


def _by_stage(
    deals: list[DealRecord],
    values: NDArray[np.float64],
    worth: NDArray[np.float64],
    chances: NDArray[np.float64],
) -> list[dict[str, Any]]:
    """Per stage: deals, value, revenue if won (``worth``) x chance of winning within the
    window, mean chance."""
    groups: dict[str, list[int]] = {}
    for index, deal in enumerate(deals):
        groups.setdefault(deal.stage or "unknown", []).append(index)
    return [
        {
            "stage": stage,
            "deals": len(rows),
            "total_value": _money(float(values[rows].sum())),
            "weighted_value": _money(float((worth[rows] * chances[rows]).sum())),
            "avg_probability": round(float(chances[rows].mean()), 3),
        }
        for stage, rows in sorted(groups.items(), key=lambda item: (stage_index(item[0]), item[0]))
    ]


def _training_summary(model: WinModel, cutoffs: int, window_days: int) -> dict[str, Any]:
    return {
        "cutoffs": cutoffs,
        "open_deal_periods": model.rows,
        "won_within_window": model.wins,
        "lost_within_window": model.losses,
        "base_rate": round(model.base_rate, 4),
        "period_sd": round(model.period_sd, 3),
        "window_days": window_days,
        "cutoff_every_days": cutoff_step_days(window_days),
        "minimum": {"open_deal_periods": MIN_TRAINING_ROWS, "won_within_window": MIN_WINS},
        # Reasons no past window showed varying (e.g. stages before an import's day).
        "not_learned": list(model.unlearned()),
    }


def _deal_rows(
    model: WinModel,
    deals: list[DealRecord],
    features: DealFeatures,
    worth: NDArray[np.float64],
    outcomes: NDArray[np.float64],
    known: Mapping[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per open deal, its chances at the window's end (``outcomes``: per deal P(still
    open), P(won), P(lost)) and its strongest reasons, most expected revenue first."""
    order = np.argsort(-(worth * outcomes[:, WON]), kind="stable")
    # The rows to build (the others are known): their pushes only.
    fresh = np.array([i for i, d in enumerate(deals) if d.id not in known], dtype=np.intp)
    pushes = model.contributions(features.matrix[fresh])
    groups = np.array([REASON_GROUPS.index(reason_group(f)) for f in FEATURES])
    by_reason = np.zeros((len(fresh), len(REASON_GROUPS)))
    for index in range(len(REASON_GROUPS)):
        by_reason[:, index] = pushes[:, groups == index].sum(axis=1)
    # Every deal's strongest reason groups in one sort (one per deal was a third of a
    # forecast of 14,000 deals).
    ranked = np.argsort(-np.abs(by_reason), axis=1, kind="stable")[:, :REASONS_PER_DEAL]
    # Python floats and ints once per array: indexing numpy element by element (and
    # float() of each) was most of the cost of 14,000 rows.
    values, if_won_values = features.values[fresh].tolist(), worth[fresh].tolist()
    won, lost, still = (outcomes[fresh, column].tolist() for column in (WON, LOST, STILL_OPEN))
    pushed = by_reason.tolist()
    strongest_of = ranked.tolist()
    built = {}
    for j, i in enumerate(fresh.tolist()):
        deal = deals[i]
        push = pushed[j]
        built[i] = {
            "deal_id": deal.id,
            "title": deal.title,
            "value": round(values[j], 2),
            "value_if_won": round(if_won_values[j], 2),
            "stage": deal.stage or "unknown",
            "winProbabilityInWindow": round(won[j], 4),
            "lossProbabilityInWindow": round(lost[j], 4),
            "stillOpenProbability": round(still[j], 4),
            "reasons": [
                {
                    "reason": REASON_GROUPS[k],
                    "text": describe(REASON_GROUPS[k], features, i),
                    "effect": "raises" if push[k] > 0 else "lowers",
                    "logit": round(push[k], 3),
                }
                for k in strongest_of[j]
                if abs(push[k]) > 1e-6
            ],
        }
    return [built[i] if i in built else known[deals[i].id] for i in order.tolist()]


def _money(amount: float) -> float:
    return round(float(amount), 2) if math.isfinite(amount) else 0.0


# --- what a kept forecast keeps of its deals ---------------------------------------------
#
# A team's forecast lists 14,000 deals with their reasons, and building those rows was a
# third of it. After one deal changed, every other deal's row is what it was: the same
# fit, day and window, and the same fields of the deal. A kept forecast keeps a digest of
# each deal's fields with the fit's, and the next forecast takes the rows of the deals
# whose digest it finds again.


def fit_digest(model: WinModel, cutoffs: int) -> str:
    """A digest of the fit as it is kept: equal for the fit read back."""
    text = dumps(model_to_json(model, cutoffs))
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def deal_digests(deals: Sequence[DealRecord]) -> list[str]:
    """A digest per open deal of the fields its row in a history forecast reads
    (moments as whole microseconds, dates as ordinals: their repr took most of the time)."""
    return [
        hashlib.blake2b(
            repr(
                (
                    d.id,
                    d.title,
                    d.stage,
                    d.value,
                    d.probability,
                    None if d.created_at is None else micros(d.created_at),
                    None if d.stage_changed_at is None else micros(d.stage_changed_at),
                    None if d.close_date is None else d.close_date.toordinal(),
                    None if d.last_activity_at is None else micros(d.last_activity_at),
                    d.owner_id,
                )
            ).encode(),
            digest_size=12,
        ).hexdigest()
        for d in deals
    ]


def forecast_inputs(
    fit: str, deals: Sequence[DealRecord], digests: Sequence[str]
) -> dict[str, Any]:
    """What a kept forecast keeps of its inputs: the fit's digest, and per deal its digest
    and last activity (which a later forecast at the same activities revision takes
    instead of reading every deal's activities again)."""
    return {
        "fit": fit,
        "deals": {
            deal.id: [
                digest,
                None if deal.last_activity_at is None else deal.last_activity_at.isoformat(),
            ]
            for deal, digest in zip(deals, digests, strict=True)
        },
    }


def known_deal_rows(
    kept: Mapping[str, Any], fit: str, deals: Sequence[DealRecord], digests: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The rows of ``kept`` (a forecast kept with its inputs for the same day, window and
    runs) that a forecast of ``deals`` (with these digests) by the fit ``fit`` would build
    again; none from a payload not as this version keeps it."""
    try:
        inputs = kept["inputs"]
        if inputs["fit"] != fit:
            return {}
        before = inputs["deals"]
        same = {
            deal.id
            for deal, digest in zip(deals, digests, strict=True)
            if (then := before.get(deal.id)) is not None and then[0] == digest
        }
        rows = kept["result"]["forecasted_deals"]
        return {row["deal_id"]: row for row in rows if row["deal_id"] in same}
    except (LookupError, TypeError, AttributeError):
        return {}
