"""The forecasts kept day by day, each set against what its deals then won.

A run kept on day D forecast the deals open at the end of D; once its window has passed,
its actual is the revenue those deals won within the window (rebuilt from the history,
as a backtest does), and whether it fell within the run's P5–P95.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from vectoros_tui.engine.dates import end_of_day
from vectoros_tui.store.as_of import WorkspaceHistory
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.model_store import ModelStore


def forecast_history(
    deals: DealService,
    models: ModelStore,
    workspace_id: uuid.UUID,
    window_days: int,
    now: datetime,
) -> list[dict[str, Any]]:
    runs = models.runs(workspace_id, window_days)
    if not runs:
        return []
    window = timedelta(days=window_days)
    current = deals.records(workspace_id)
    history = WorkspaceHistory.load(deals.db, workspace_id, current)
    actuals: dict[Any, float | None] = {}
    for day in sorted({run.day for run in runs}):
        cutoff = end_of_day(datetime(day.year, day.month, day.day))
        if cutoff + window > now:
            actuals[day] = None  # its window has not passed
            continue
        won = history.closed_between(cutoff, cutoff + window)
        actuals[day] = sum(
            won[d.id].value or 0.0
            for d in history.at(cutoff)
            if d.is_open and d.id in won and won[d.id].outcome == "won"
        )
    found = []
    for run in runs:
        actual = actuals[run.day]
        found.append(
            {
                "day": run.day.isoformat(),
                "model": run.model,
                "p5": run.p5,
                "p50": run.p50,
                "p95": run.p95,
                "mean": run.mean,
                "open_deals": run.open_deals,
                "actual": None if actual is None else round(actual, 2),
                "within_band": None if actual is None else run.p5 <= actual <= run.p95,
            }
        )
    return found
