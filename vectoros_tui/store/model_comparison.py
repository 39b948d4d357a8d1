"""Both forecast models side by side, which one `auto` picks, why, and their track record.

The forecast screen asks for this in a worker after its own (rep) forecast is on screen:
the history model's band for the open deals as they stand now, the last cut-offs replayed
for both models (how often each band held what closed), and the calibration of each
model's per-deal chances. A fitted model and its track record are kept per workspace,
window, day and outcomes (how many deals have closed, and how many there are), so a
save that only edits an open deal re-simulates without refitting.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np

from vectoros_tui.engine.dates import end_of_day
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.win_features import reason_labels
from vectoros_tui.engine.win_model import WinModel
from vectoros_tui.store.as_of import WorkspaceHistory
from vectoros_tui.store.backtest import Step, last_cutoff, replay
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.history_forecast import (
    NotEnoughHistory,
    TrainingGrid,
    cutoff_step_days,
    fit_until,
    simulate,
)
from vectoros_tui.store.model_payload import DataSize
from vectoros_tui.store.model_store import ModelStore

TRACK_RECORD_CUTOFFS: Final = 6
_KEPT: Final = 4


@dataclass(frozen=True)
class Band:
    p5: float
    p50: float
    p95: float


@dataclass(frozen=True)
class Comparison:
    window_days: int
    history: Band | None  # None: not enough history
    cutoffs: int | None  # how many past windows the history model learned from
    note: str  # a sentence: why the history model is missing, or how much it learned from
    default: str  # "history" or "rep": what --model auto uses
    reason: str  # why
    track: dict[str, Any] | None  # replay(): cutoffs, summary, calibration
    model: WinModel | None = None  # the history model (None: too little history)


@dataclass
class _Fitted:
    fit: tuple[WinModel, int] | str  # (model, its training cut-offs) or why there is none
    track: dict[str, Any] | None


_cache: OrderedDict[Hashable, _Fitted] = OrderedDict()
_lock = threading.Lock()


def compare_models(
    deals: DealService,
    workspace_id: uuid.UUID,
    current: Sequence[DealRecord],
    window_days: int,
    now: datetime,
    *,
    simulations: int = 10_000,
    seed: int = 0,
    kept: ModelStore | None = None,
) -> Comparison:
    """The history model's band for ``current``'s open deals at ``now``, and the track
    record of both models over the last cut-offs whose windows have passed. With
    ``kept``, the day's fit and track record kept in the database are used when they
    hold for this data (the CLI, the server and every rep's app share them), and kept
    when made here."""
    # Refit when outcomes change (a deal won, lost or reopened), not on every edit of an
    # open deal: the band below is simulated from the deals as they are now either way.
    data = _data_size(current)
    key = (workspace_id, *data, window_days, now.date())
    with _lock:
        fitted = _cache.get(key)
    if fitted is None:
        fitted = _fit(deals, kept, workspace_id, current, data, window_days, now, simulations, seed)
        with _lock:
            _cache[key] = fitted
            while len(_cache) > _KEPT:
                _cache.popitem(last=False)
    open_deals = [d for d in current if d.is_open]
    if isinstance(fitted.fit, str):
        return Comparison(
            window_days,
            None,
            None,
            fitted.fit[:1].upper() + fitted.fit[1:],
            "rep",
            "there is too little history to learn from",
            fitted.track,
        )
    model, cutoffs = fitted.fit
    _, totals = simulate(model, open_deals, now, window_days, simulations, seed)
    p5, p50, p95 = (float(x) for x in np.percentile(totals, (5, 50, 95)))
    note = (
        f"History model: {cutoffs} past windows (every {cutoff_step_days(window_days)} "
        f"days): {model.rows:,} open deals, {model.wins:,} won within {window_days} days"
    )
    if unlearned := model.unlearned():
        note += "; not learned yet: " + reason_labels(unlearned)
    return Comparison(
        window_days,
        Band(p5, p50, p95),
        cutoffs,
        note,
        "history",
        _why_history(fitted.track),
        fitted.track,
        model,
    )


def prepare(
    deals: DealService,
    kept: ModelStore,
    workspace_id: uuid.UUID,
    now: datetime,
    window_days: int = 30,
    *,
    simulations: int = 10_000,
    seed: int = 0,
) -> None:
    """Fit the day's history model and replay its track record now, kept for every
    process that forecasts today: a workspace just written whole (the demo) would
    otherwise have its first forecast, CLI or screen, read the whole history and fit."""
    current = deals.records(workspace_id)
    data = _data_size(current)
    _fit(deals, kept, workspace_id, current, data, window_days, now, simulations, seed)


def kept_history_fit(
    deals: DealService,
    kept: ModelStore,
    workspace_id: uuid.UUID,
    window_days: int,
    now: datetime,
) -> tuple[WinModel, int] | None:
    """The history model kept today for the window, found with two small reads instead of
    the whole workspace: the one :func:`compare_models` will find kept and make the
    default. None when none holds (nothing kept, too little history, data changed)."""
    data = DataSize(*deals.closed_and_total(workspace_id))
    found = kept.fit(workspace_id, window_days, data, now.date())
    return found if isinstance(found, tuple) else None


def _data_size(current: Sequence[DealRecord]) -> DataSize:
    return DataSize(sum(1 for d in current if d.outcome), len(current))


def _fit(
    deals: DealService,
    kept: ModelStore | None,
    workspace_id: uuid.UUID,
    current: Sequence[DealRecord],
    data: DataSize,
    window_days: int,
    now: datetime,
    simulations: int,
    seed: int,
) -> _Fitted:
    day = now.date()
    fit: tuple[WinModel, int] | str | None = None
    track = None
    if kept is not None:
        fit = kept.fit(workspace_id, window_days, data, day)
        track = kept.track(workspace_id, window_days, data, day)
        if fit is not None and (track is not None or isinstance(fit, str)):
            return _Fitted(fit, track)
    # The whole history is read only when something is missing: a fit of 100,000 deals
    # and the track record's six fits are the slow part of the screen.
    history = WorkspaceHistory.load(deals.db, workspace_id, current)
    grid = TrainingGrid(history, window_days)
    if fit is None:
        try:
            model, training = fit_until(grid, now)
            fit = (model, training.cutoffs)
        except NotEnoughHistory as exc:
            fit = str(exc)
        if kept is not None:
            kept.keep_fit(workspace_id, window_days, data, day, fit)
    cutoffs = _track_cutoffs(history, window_days, now)
    track = (
        replay(history, cutoffs, window_days, ("rep", "history"), simulations // 4, seed, grid)
        if cutoffs
        else None
    )
    if kept is not None and track is not None and not isinstance(fit, str):
        kept.keep_track(workspace_id, window_days, day, track)
    return _Fitted(fit, track)


def _track_cutoffs(history: WorkspaceHistory, window_days: int, now: datetime) -> list[datetime]:
    first = history.first_created
    if first is None:
        return []
    last = last_cutoff(now, window_days)
    step = Step(1, "mo")
    found = [end_of_day(step.back(last, k)) for k in range(TRACK_RECORD_CUTOFFS)]
    return sorted(c for c in found if c >= end_of_day(first))


def _why_history(track: dict[str, Any] | None) -> str:
    if not track:
        return "enough history to learn from"
    summary = track["summary"]
    learned, rep = summary.get("history", {}), summary.get("rep", {})
    if not learned.get("cutoffs"):
        return "enough history to learn from (too little before the last months to score)"
    return (
        "its band held what closed in "
        f"{held(learned)} of the last {learned['cutoffs']} months; "
        f"the reps' in {held(rep)} of {rep.get('cutoffs', 0)}"
    )


def held(summary: dict[str, Any]) -> int:
    """How many cut-offs' actuals fell within the model's P5–P95."""
    return round(summary.get("coverage_p5_p95", 0.0) * summary.get("cutoffs", 0))


def forget() -> None:
    """Drop every kept fit (tests; a database swapped under the app)."""
    with _lock:
        _cache.clear()
