"""The first frame of the app, read with the standard library's sqlite3.

Importing SQLAlchemy and SQLModel takes longer than the 1 s a rep should wait for the
pipeline, so `vectoros` reads the board (workspaces, per-stage totals and top cards) from
the SQLite file read-only and paints it while the real store opens behind it. Anything
unusual — Postgres, a file that is missing, locked, or at another schema revision — returns
None and the app takes its normal path, which reports problems properly.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.store.board import AGEING_DAYS, BOARD_CARDS, StageColumn
from vectoros_tui.store.revision import SCHEMA_HEAD


class Named(Protocol):
    @property
    def id(self) -> object: ...
    @property
    def name(self) -> str: ...


W = TypeVar("W", bound=Named)


def choose_workspace(workspaces: Sequence[W], ref: str | None) -> W | None:
    """The named workspace (name or id, any case), else the first; None when there is none."""
    if not workspaces:
        return None
    return named_workspace(workspaces, ref) or workspaces[0]


def named_workspace(workspaces: Sequence[W], ref: str | None) -> W | None:
    wanted = (ref or "").strip().casefold()
    if not wanted:
        return None
    return next((w for w in workspaces if w.name.casefold() == wanted or str(w.id) == wanted), None)


@dataclass(frozen=True)
class QuickWorkspace:
    id: str
    name: str


@dataclass(frozen=True)
class QuickStart:
    workspace: QuickWorkspace
    columns: list[StageColumn]
    # A workspace was asked for by name or id but none matched (the first one is shown).
    ref_not_found: bool = False


# SQLAlchemy's SQLite storage: UUIDs as 32 hex digits, timestamps as naive UTC text.
_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"

_TOTALS = """
    SELECT stage, count(*), sum(value), sum(value * probability) / 100.0,
           sum(CASE WHEN stage_changed_at <= :aged THEN 1 ELSE 0 END),
           sum(CASE WHEN close_date < :today THEN 1 ELSE 0 END)
    FROM deals WHERE workspace_id = :workspace AND outcome IS NULL GROUP BY stage
"""
_TOP = """
    SELECT id, title, company, value, stage, probability, close_date, stage_changed_at,
        next_step, next_step_due
    FROM deals WHERE workspace_id = :workspace AND stage = :stage AND outcome IS NULL
    ORDER BY value DESC, id LIMIT :limit
"""


def read_quick_start(path: Path, workspace_ref: str | None, now: datetime) -> QuickStart | None:
    """The board of the workspace the app will open, or None (see the module's note)."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        return _read(connection, workspace_ref, now.astimezone(UTC))
    except (sqlite3.Error, ValueError, TypeError):  # a value not as the store writes it
        return None
    finally:
        connection.close()


def _read(connection: sqlite3.Connection, ref: str | None, now: datetime) -> QuickStart | None:
    revision = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    if revision != [(SCHEMA_HEAD,)]:
        return None
    workspaces = [
        QuickWorkspace(str(uuid.UUID(hex_id)), name)
        for hex_id, name in connection.execute(
            "SELECT id, name FROM workspaces ORDER BY name, created_at"
        )
    ]
    chosen = choose_workspace(workspaces, ref)
    if chosen is None:
        return None  # the welcome screen needs the full store
    params = {
        "workspace": uuid.UUID(chosen.id).hex,
        "aged": (now - timedelta(days=AGEING_DAYS)).replace(tzinfo=None).strftime(_TIMESTAMP),
        "today": now.date().isoformat(),
    }
    totals = {row[0]: row[1:] for row in connection.execute(_TOTALS, params)}
    columns = []
    for stage in OPEN_STAGES:
        count, total, weighted, aged, late = totals.get(stage, (0, 0, 0, 0, 0))
        top = connection.execute(_TOP, {**params, "stage": stage, "limit": BOARD_CARDS})
        columns.append(
            StageColumn(
                stage=stage,
                deals=[_card(row) for row in top],
                count=count,
                total_value=float(total or 0),
                weighted_value=float(weighted or 0),
                ageing=int(aged or 0),
                overdue=int(late or 0),
            )
        )
    ref_not_found = bool((ref or "").strip()) and named_workspace(workspaces, ref) is None
    return QuickStart(chosen, columns, ref_not_found)


def _card(row: tuple) -> DealRecord:
    """What a card needs of a deal (the record's other fields are left empty: the full
    snapshot replaces these cards moments later)."""
    (deal_id, title, company, value, stage, probability, close_date, stage_changed_at) = row[:8]
    next_step, next_step_due = row[8:]
    return DealRecord(
        id=str(uuid.UUID(deal_id)),
        title=title,
        company=company,
        value=float(value),
        stage=stage,
        probability=probability,
        close_date=date.fromisoformat(close_date) if close_date else None,
        stage_changed_at=datetime.strptime(stage_changed_at, _TIMESTAMP).replace(tzinfo=UTC),
        next_step=next_step,
        next_step_due=date.fromisoformat(next_step_due) if next_step_due else None,
    )
