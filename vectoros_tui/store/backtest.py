"""Keeping score: replay as-of forecasts at past cut-offs and compare them with what closed.

At each cut-off T the pipeline is rebuilt as it stood then, each model forecasts the
revenue those open deals win in the window after T from what was known at T, and the
actual is the revenue they did win in it. Scored per model:

* coverage: how often the actual fell within P5–P95 and P10–P90 (a calibrated 90% band
  holds it about 90% of the time);
* pinball (quantile) loss at 0.05, 0.5 and 0.95, and their mean: lower is better, and it
  rewards a band that is both honest and narrow;
* bias of the P50 (sum of P50s over sum of actuals, less one) and its mean absolute error;
* the band's mean width.

Models: ``rep`` (the reps' probabilities, the original method), ``history`` (the learned
model, where there was enough history at T) and ``run_rate``, a naive baseline: the
revenue won in the 90 days before T per window as its P50, and the spread of the revenue
won in each of the six windows before T as its band.
"""

from __future__ import annotations

import calendar
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from vectoros_tui.engine.dates import end_of_day, utc_now
from vectoros_tui.store.as_of import Closings, WorkspaceHistory, micros
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.history_forecast import (
    NotEnoughHistory,
    TrainingGrid,
    fit_until,
    simulate,
)

MODELS: Final = ("rep", "history", "run_rate")
QUANTILES: Final = (5, 10, 50, 90, 95)
PINBALL_LEVELS: Final = (5, 50, 95)
RUN_RATE_DAYS: Final = 90
RUN_RATE_WINDOWS: Final = 6
_STEP = re.compile(r"^\s*(\d{1,3})\s*(d|w|mo)\s*$")


class BacktestInputError(ValueError):
    """A bad range or step; the message names it."""


@dataclass(frozen=True)
class Step:
    count: int
    unit: str  # d | w | mo

    @classmethod
    def parse(cls, text: str) -> Step:
        match = _STEP.match(text or "")
        if not match or int(match.group(1)) == 0:
            raise BacktestInputError(
                f"--every {text!r}: use a number of days, weeks or months, like 30d, 2w or 1mo"
            )
        return cls(int(match.group(1)), match.group(2))

    def back(self, moment: datetime, times: int = 1) -> datetime:
        if self.unit == "d":
            return moment - timedelta(days=self.count * times)
        if self.unit == "w":
            return moment - timedelta(weeks=self.count * times)
        months = moment.year * 12 + moment.month - 1 - self.count * times
        year, month = divmod(months, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)


def last_cutoff(today: datetime, window_days: int) -> datetime:
    """The latest cut-off whose whole window has passed by ``today``."""
    return end_of_day(today - timedelta(days=window_days + 1))


def backtest(
    deals: DealService,
    workspace_id: uuid.UUID,
    *,
    window_days: int = 30,
    every: str = "1mo",
    start: datetime | None = None,
    end: datetime | None = None,
    models: tuple[str, ...] = MODELS,
    simulations: int = 5_000,
    seed: int = 0,
    now: datetime | None = None,
    owner_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Replay the forecasts at cut-offs ``every`` apart, back from ``end`` (default: the
    last day whose whole window has passed) to ``start`` (default: twelve cut-offs).
    With ``owner_id``, of that member's deals (by today's owner): the models still learn
    from the whole workspace."""
    step = Step.parse(every)
    today = now or utc_now()
    current = deals.records(workspace_id)
    history = WorkspaceHistory.load(deals.db, workspace_id, current)
    first = history.first_created
    if first is None:
        raise BacktestInputError("the workspace has no deals: there is no history to replay")
    latest = last_cutoff(today, window_days)
    last = end_of_day(end) if end is not None else latest
    if last > latest:
        raise BacktestInputError(
            f"--to {last.date().isoformat()}: its {window_days}-day window has not passed "
            f"yet; the latest cut-off is {latest.date().isoformat()}"
        )
    earliest = end_of_day(first)
    if last < earliest:
        # Said of --to itself: the --from a rep did not give would only puzzle.
        raise BacktestInputError(
            f"--to {last.date().isoformat()} is before the first deal "
            f"({earliest.date().isoformat()})"
        )
    begin = end_of_day(start) if start is not None else max(step.back(last, 11), earliest)
    if begin < earliest:
        raise BacktestInputError(
            f"--from {begin.date().isoformat()} is before the first deal "
            f"({earliest.date().isoformat()})"
        )
    if begin > last:
        raise BacktestInputError(
            f"--from {begin.date().isoformat()} is after --to {last.date().isoformat()}"
        )
    cutoffs = []
    cutoff, times = last, 0
    while cutoff >= begin:
        cutoffs.append(cutoff)
        times += 1
        cutoff = end_of_day(step.back(last, times))
    cutoffs.reverse()

    mine = None if owner_id is None else str(owner_id)
    replayed = replay(history, cutoffs, window_days, models, simulations, seed, owner=mine)
    return {
        "workspace_id": str(workspace_id),
        "timeframe": f"{window_days}d",
        "every": every,
        "from": cutoffs[0].date().isoformat(),
        "to": cutoffs[-1].date().isoformat(),
        "simulations": simulations,
        # Lost deals at 0 (see engine.unpriced): before the import no deal's amount is
        # known, and the reps' model, which counts an unknown amount as $0, forecasts $0.
        "amounts_at_close": history.amounts_at_close,
        **replayed,
    }


def replay(
    history: WorkspaceHistory,
    cutoffs: list[datetime],
    window_days: int,
    models: tuple[str, ...] = MODELS,
    simulations: int = 5_000,
    seed: int = 0,
    grid: TrainingGrid | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Each model's forecast at each cut-off against what closed, their scores, and the
    calibration of their per-deal chances of winning within the window; with ``owner``
    (a user id), of that member's deals only."""
    from vectoros_tui.engine.forecast import forecast_distribution, window_win_probabilities

    window = timedelta(days=window_days)
    grid = grid or TrainingGrid(history, window_days)
    chances: dict[str, list[tuple[float, bool]]] = {m: [] for m in models if m != "run_rate"}
    ids = [record.id for record in history.current]
    rows = []
    for index, cutoff in enumerate(cutoffs):
        open_then = [
            d for d in history.at(cutoff, open_only=True) if owner is None or d.owner_id == owner
        ]
        # What closed, as arrays: a record per deal closed in a window was most of a
        # 100,000-deal workspace's replay.
        closed = history.closings(cutoff, cutoff + window)
        won = _won_by(closed, owner)
        won_in_window = {
            ids[position]: 0.0 if value != value else value  # NaN: no value
            for position, value in zip(
                closed.position[won].tolist(), closed.value[won].tolist(), strict=True
            )
        }
        actual = sum(won_in_window.get(d.id, 0.0) for d in open_then)
        forecasts: dict[str, dict[str, float] | None] = {}
        if "rep" in models:
            _, totals = forecast_distribution(
                open_then,
                f"{window_days}d",
                simulations=simulations,
                seed=seed + index,
                now=cutoff,
                top_deals=0,
            )
            forecasts["rep"] = _quantiles(totals)
            rep = window_win_probabilities(open_then, window_days, cutoff)
            chances["rep"] += [(p, i in won_in_window) for i, p in rep.items()]
        if "history" in models:
            try:
                model, _ = fit_until(grid, cutoff)
            except NotEnoughHistory:
                forecasts["history"] = None
            else:
                features, totals = simulate(
                    model, open_then, cutoff, window_days, simulations, seed + index
                )
                forecasts["history"] = _quantiles(totals)
                learned = model.probabilities(features.matrix)
                chances["history"] += [
                    (float(p), d.id in won_in_window)
                    for d, p in zip(open_then, learned, strict=True)
                ]
        if "run_rate" in models:
            span = max(timedelta(days=RUN_RATE_DAYS), RUN_RATE_WINDOWS * window)
            recent = history.closings(cutoff - span, cutoff)
            won = _won_by(recent, owner)
            forecasts["run_rate"] = _run_rate(
                recent.closed_at[won], np.nan_to_num(recent.value[won]), cutoff, window
            )
        rows.append(
            {
                "cutoff": cutoff.date().isoformat(),
                "open_deals": len(open_then),
                "pipeline_value": round(sum(d.value or 0.0 for d in open_then), 2),
                "actual": round(actual, 2),
                "forecasts": forecasts,
            }
        )
    return {
        "cutoffs": rows,
        "summary": {name: score(rows, name) for name in models},
        "calibration": {name: calibration(pairs) for name, pairs in chances.items()},
    }


def calibration(pairs: list[tuple[float, bool]], bins: int = 10) -> list[dict[str, Any]]:
    """Predicted against observed: deals binned by their predicted chance (tenths), each
    bin's mean prediction and the share that did win."""
    found = []
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        inside = [(p, w) for p, w in pairs if low <= p < high or (index == bins - 1 and p == 1)]
        if not inside:
            continue
        found.append(
            {
                "from": low,
                "to": high,
                "deals": len(inside),
                "predicted": round(sum(p for p, _ in inside) / len(inside), 4),
                "observed": round(sum(1 for _, w in inside if w) / len(inside), 4),
            }
        )
    return found


def _quantiles(totals: np.ndarray) -> dict[str, float]:
    values = np.percentile(totals, QUANTILES) if len(totals) else np.zeros(len(QUANTILES))
    return {f"p{q}": round(float(v), 2) for q, v in zip(QUANTILES, values, strict=True)}


def _won_by(closed: Closings, owner: str | None) -> np.ndarray:
    """Which of ``closed`` were won (of ``owner``'s deals then, with one)."""
    if owner is None:
        return closed.won
    return closed.won & np.array([o == owner for o in closed.owner], dtype=np.bool_)


def _run_rate(
    closed_at: np.ndarray, values: np.ndarray, cutoff: datetime, window: timedelta
) -> dict[str, float]:
    """From the deals won (when, in microseconds, and for how much, in the history's
    order: the sums are the same as a record per deal gave)."""

    def won_between(start: datetime, end: datetime) -> float:
        return sum(values[(micros(start) < closed_at) & (closed_at <= micros(end))].tolist())

    recent = won_between(cutoff - timedelta(days=RUN_RATE_DAYS), cutoff)
    per_window = recent * window.days / RUN_RATE_DAYS
    past = [
        won_between(cutoff - (k + 1) * window, cutoff - k * window) for k in range(RUN_RATE_WINDOWS)
    ]
    band = np.percentile(past, [q for q in QUANTILES if q != 50])
    found = {f"p{q}": round(float(v), 2) for q, v in zip((5, 10, 90, 95), band, strict=True)}
    found["p50"] = round(per_window, 2)
    return found


def pinball(actual: float, predicted: float, level: float) -> float:
    """The quantile loss of ``predicted`` as the ``level`` quantile of ``actual``."""
    gap = actual - predicted
    return max(level * gap, (level - 1.0) * gap)


def score(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    scored = [(r["actual"], r["forecasts"][name]) for r in rows if r["forecasts"].get(name)]
    if not scored:
        return {"cutoffs": 0, "note": "no cut-off had enough history for this model"}
    actual = np.array([a for a, _ in scored])
    band = {q: np.array([f[f"p{q}"] for _, f in scored]) for q in QUANTILES}
    losses = {
        f"p{q}": float(
            np.mean([pinball(a, p, q / 100) for a, p in zip(actual, band[q], strict=True)])
        )
        for q in PINBALL_LEVELS
    }
    total = float(actual.sum())
    return {
        "cutoffs": len(scored),
        "coverage_p5_p95": _share((band[5] <= actual) & (actual <= band[95])),
        "coverage_p10_p90": _share((band[10] <= actual) & (actual <= band[90])),
        "pinball": {k: round(v, 2) for k, v in losses.items()},
        "mean_pinball": round(float(np.mean(list(losses.values()))), 2),
        "p50_bias": round(float(band[50].sum()) / total - 1.0, 4) if total > 0 else None,
        "p50_mae": round(float(np.abs(band[50] - actual).mean()), 2),
        "mean_band_width": round(float((band[95] - band[5]).mean()), 2),
        "actual_total": round(total, 2),
    }


def _share(hits: np.ndarray) -> float:
    return round(float(hits.mean()), 4) if len(hits) else math.nan
