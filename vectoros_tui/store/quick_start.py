"""The first frame of the app, read with the database driver alone.

Importing SQLAlchemy and SQLModel takes longer than the 1 s a rep should wait for the
pipeline, so `vectoros` reads the board (workspaces, per-stage totals and top cards)
read-only with the database driver (store.driver_reads), and paints it while the real
store opens behind it. Anything unusual returns None and the app takes its normal path,
which reports problems properly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.store.board import AGEING_DAYS, BOARD_CARDS, StageColumn
from vectoros_tui.store.driver_reads import (
    SQLITE_TIMESTAMP,
    Rows,
    as_uuid,
    raw_id,
    read_postgres,
    read_sqlite,
    schema_is_current,
)
from vectoros_tui.store.driver_values import day, moment


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


def matching_workspaces(workspaces: Sequence[W], ref: str) -> list[W]:
    """The workspaces ``ref`` names, as the CLI reads it: by id when it spells one, else
    by name (any case). More than one is for the caller to refuse."""
    try:
        wanted = str(uuid.UUID(str(ref).strip()))
    except ValueError:
        name = str(ref).strip().casefold()
        return [w for w in workspaces if w.name.casefold() == name]
    return [w for w in workspaces if str(w.id) == wanted]


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
    at = now.astimezone(UTC)
    return read_sqlite(path, lambda rows, postgres: _read(rows, workspace_ref, at, postgres))


def read_quick_start_postgres(
    url: str, workspace_ref: str | None, now: datetime
) -> QuickStart | None:
    """As :func:`read_quick_start`, from a Postgres database (``url`` as the store takes
    it), with psycopg alone."""
    at = now.astimezone(UTC)
    return read_postgres(url, lambda rows, postgres: _read(rows, workspace_ref, at, postgres))


def _read(rows: Rows, ref: str | None, now: datetime, postgres: bool) -> QuickStart | None:
    if not schema_is_current(rows):
        return None
    workspaces = [
        QuickWorkspace(str(as_uuid(raw)), name)
        for raw, name in rows("SELECT id, name FROM workspaces ORDER BY name, created_at", {})
    ]
    chosen = choose_workspace(workspaces, ref)
    if chosen is None:
        return None  # the welcome screen needs the full store
    aged = now - timedelta(days=AGEING_DAYS)
    params: dict[str, Any] = {
        "workspace": raw_id(chosen.id, postgres),
        "aged": aged if postgres else aged.replace(tzinfo=None).strftime(SQLITE_TIMESTAMP),
        "today": now.date() if postgres else now.date().isoformat(),
    }
    totals = {row[0]: row[1:] for row in rows(_TOTALS, params)}
    columns = []
    for stage in OPEN_STAGES:
        count, total, weighted, aged_count, late = totals.get(stage, (0, 0, 0, 0, 0))
        top = rows(_TOP, {**params, "stage": stage, "limit": BOARD_CARDS})
        columns.append(
            StageColumn(
                stage=stage,
                deals=[_card(row) for row in top],
                count=int(count),
                total_value=float(total or 0),
                weighted_value=float(weighted or 0),
                ageing=int(aged_count or 0),
                overdue=int(late or 0),
            )
        )
    ref_not_found = bool((ref or "").strip()) and named_workspace(workspaces, ref) is None
    return QuickStart(chosen, columns, ref_not_found)


def _card(row: tuple[Any, ...]) -> DealRecord:
    """What a card needs of a deal (the record's other fields are left empty: the full
    snapshot replaces these cards moments later)."""
    (deal_id, title, company, value, stage, probability, close_date, stage_changed_at) = row[:8]
    next_step, next_step_due = row[8:]
    return DealRecord(
        id=str(as_uuid(deal_id)),
        title=title,
        company=company,
        value=float(value),
        stage=stage,
        probability=probability,
        close_date=day(close_date),
        stage_changed_at=moment(stage_changed_at),
        next_step=next_step,
        next_step_due=day(next_step_due),
    )
