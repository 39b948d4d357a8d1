"""What the history model keeps in the database: its last fit per workspace and window,
with the day's track record beside it, and each day's forecasts (for the forecast's own
history).

A fit is reused while the workspace's data has not moved much and for a week at most,
so repeated forecasts (CLI runs, the server, the app, the first one of a new day) skip
the fit, which reads the whole history. The track record replays the last months, which
move with the calendar: it is kept for its day. Writes are upserts: two processes keeping
the same day's run or fit both succeed, the later one wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vectoros_tui.engine.win_model import WinModel
from vectoros_tui.store.database import Database
from vectoros_tui.store.model_payload import (
    DataSize,
    close_enough,
    fit_holds,
    model_from_json,
    model_to_json,
)
from vectoros_tui.store.tables import ForecastRun, ModelFit, utcnow

_FITS = ModelFit.__table__  # type: ignore[attr-defined]
_RUNS = ForecastRun.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class KeptRun:
    day: date
    window_days: int
    model: str
    p5: float
    p50: float
    p95: float
    mean: float
    open_deals: int


class ModelStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _insert(self) -> Any:
        return postgres_insert if self.db.engine.dialect.name == "postgresql" else sqlite_insert

    # --- fits -----------------------------------------------------------------------

    def fit(
        self, workspace_id: uuid.UUID, window_days: int, data: DataSize, day: date
    ) -> tuple[WinModel, int] | str | None:
        """What was kept for about this much data: (model, training cut-offs), or the
        reason there was too little history, or None (nothing kept, or kept for data that
        has changed too much since, or too long ago).

        A fit reads the whole history (seconds on a big workspace), and one more closed
        deal among thousands barely moves it: it is reused until the closed deals or the
        deals change by more than :func:`close_enough` allows, and for
        :data:`~vectoros_tui.store.model_payload.FIT_KEPT_DAYS` at most."""
        with self.db.read() as session:
            row = session.get(ModelFit, (workspace_id, window_days))
            if row is None:
                return None
            then = row.payload.get("data")
            if isinstance(row.payload.get("not_enough"), str):
                # More history may be enough now (another day brings more periods to learn
                # from): only the same day and the very same data reuse the verdict.
                same = row.fitted_for == day and then == list(data)
                return str(row.payload["not_enough"]) if same else None
            if not fit_holds(row.fitted_for, day):
                return None
            if not isinstance(then, list) or not close_enough(DataSize(*then), data):
                return None
            return model_from_json(row.payload)

    def keep_fit(
        self,
        workspace_id: uuid.UUID,
        window_days: int,
        data: DataSize,
        day: date,
        fitted: tuple[WinModel, int] | str,
    ) -> None:
        """Keep a fit (model, cut-offs) or the reason there was too little history, with
        how much data it saw."""
        payload: dict[str, Any] = (
            {"not_enough": fitted} if isinstance(fitted, str) else model_to_json(*fitted)
        )
        payload["data"] = list(data)
        values = {
            "fingerprint": _text(data),
            "fitted_for": day,
            "payload": payload,
            "updated_at": utcnow(),
        }
        with self.db.write() as session:
            statement = self._insert()(_FITS).values(
                workspace_id=workspace_id, window_days=window_days, **values
            )
            session.connection().execute(
                statement.on_conflict_do_update(
                    index_elements=["workspace_id", "window_days"], set_=values
                )
            )

    def track(
        self, workspace_id: uuid.UUID, window_days: int, data: DataSize, day: date
    ) -> dict[str, Any] | None:
        """The track record kept for ``day`` beside the fit (see :meth:`keep_track`), if
        the fit still holds for ``data``; else None."""
        with self.db.read() as session:
            row = session.get(ModelFit, (workspace_id, window_days))
            if row is None or row.payload.get("track_for") != day.isoformat():
                return None
            then, track = row.payload.get("data"), row.payload.get("track")
            if not isinstance(then, list) or not isinstance(track, dict):
                return None
            return track if close_enough(DataSize(*then), data) else None

    def keep_track(
        self, workspace_id: uuid.UUID, window_days: int, day: date, track: dict[str, Any]
    ) -> None:
        """Keep both models' track record for ``day`` (a replay of the last cut-offs,
        which fits a model per cut-off) beside the fit, so the forecast screen of every rep
        on the workspace reads it instead of replaying it. Nothing is kept without a fit
        that serves the day to go with."""
        with self.db.write() as session:
            row = session.get(ModelFit, (workspace_id, window_days))
            if row is None or not fit_holds(row.fitted_for, day):
                return
            row.payload = {**row.payload, "track": track, "track_for": day.isoformat()}
            row.updated_at = utcnow()

    # --- each day's forecasts -------------------------------------------------------

    def keep_run(self, workspace_id: uuid.UUID, run: KeptRun) -> None:
        values = {
            "p5": run.p5,
            "p50": run.p50,
            "p95": run.p95,
            "mean": run.mean,
            "open_deals": run.open_deals,
            "computed_at": utcnow(),
        }
        with self.db.write() as session:
            statement = self._insert()(_RUNS).values(
                workspace_id=workspace_id,
                day=run.day,
                window_days=run.window_days,
                model=run.model,
                **values,
            )
            session.connection().execute(
                statement.on_conflict_do_update(
                    index_elements=["workspace_id", "day", "window_days", "model"], set_=values
                )
            )

    def runs(self, workspace_id: uuid.UUID, window_days: int) -> list[KeptRun]:
        """The kept forecasts for the window, oldest first."""
        with self.db.read() as session:
            rows = session.execute(
                select(_RUNS)
                .where(_RUNS.c.workspace_id == workspace_id, _RUNS.c.window_days == window_days)
                .order_by(_RUNS.c.day, _RUNS.c.model)
            ).all()
        return [
            KeptRun(
                r.day if isinstance(r.day, date) else date.fromisoformat(str(r.day)),
                r.window_days,
                r.model,
                r.p5,
                r.p50,
                r.p95,
                r.mean,
                r.open_deals,
            )
            for r in rows
        ]


def _text(fingerprint: Hashable) -> str:
    return str(fingerprint)[:500]
