"""The first frame of the app, read with the database driver alone.

Importing SQLAlchemy and SQLModel takes longer than the 1 s a rep should wait for the
pipeline, so `vectoros` reads the board (workspaces, per-stage totals and top cards)
read-only, with the standard library's sqlite3 or with psycopg, and paints it while the
real store opens behind it. Anything unusual — a file that is missing or locked, a server
that does not answer, a database at another schema revision — returns None and the app
takes its normal path, which reports problems properly.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.store.board import AGEING_DAYS, BOARD_CARDS, StageColumn
from vectoros_tui.store.driver_values import day, moment
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
# Postgres hands back uuid, aware datetime and date objects, and takes them as parameters.
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
# Connecting to a server that does not answer must not hold up the first frame for long:
# the full start-up path then connects (and reports) as it always does.
_PG_CONNECT_SECONDS = 2

Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


def read_quick_start(path: Path, workspace_ref: str | None, now: datetime) -> QuickStart | None:
    """The board of the workspace the app will open, or None (see the module's note)."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        return _read(
            lambda sql, params: connection.execute(sql, params).fetchall(),
            workspace_ref,
            now.astimezone(UTC),
            postgres=False,
        )
    except (sqlite3.Error, ValueError, TypeError):  # a value not as the store writes it
        return None
    finally:
        connection.close()


def read_quick_start_postgres(
    url: str, workspace_ref: str | None, now: datetime
) -> QuickStart | None:
    """As :func:`read_quick_start`, from a Postgres database (``url`` as the store takes
    it), with psycopg alone: in a read-only transaction, giving up on any error."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency of the app
        return None
    conninfo = _libpq_url(url)
    if conninfo is None:
        return None
    try:
        with psycopg.connect(conninfo, connect_timeout=_PG_CONNECT_SECONDS) as connection:
            connection.read_only = True
            # A table locked by another process's migration must not hold the frame up.
            connection.execute(f"SET LOCAL statement_timeout = '{_PG_CONNECT_SECONDS}s'")
            connection.execute("SET LOCAL lock_timeout = '500ms'")

            def rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
                return connection.execute(_PG_PARAMETER.sub(r"%(\1)s", sql), params).fetchall()

            return _read(rows, workspace_ref, now.astimezone(UTC), postgres=True)
    except Exception:  # unreachable, refused, timed out, unexpected data
        # Only a head start: whatever went wrong, the normal path opens (and reports).
        return None


_PG_PARAMETER = re.compile(r"(?<!:):(\w+)")


def _libpq_url(url: str) -> str | None:
    """The store's ``postgresql+psycopg://`` URL as libpq reads it."""
    prefix = "postgresql+psycopg://"
    return "postgresql://" + url[len(prefix) :] if url.startswith(prefix) else None


def _read(rows: Rows, ref: str | None, now: datetime, *, postgres: bool) -> QuickStart | None:
    if rows("SELECT version_num FROM alembic_version", {}) != [(SCHEMA_HEAD,)]:
        return None
    workspaces = [
        QuickWorkspace(str(_uuid(raw_id)), name)
        for raw_id, name in rows("SELECT id, name FROM workspaces ORDER BY name, created_at", {})
    ]
    chosen = choose_workspace(workspaces, ref)
    if chosen is None:
        return None  # the welcome screen needs the full store
    aged = now - timedelta(days=AGEING_DAYS)
    params: dict[str, Any] = {
        "workspace": uuid.UUID(chosen.id) if postgres else uuid.UUID(chosen.id).hex,
        "aged": aged if postgres else aged.replace(tzinfo=None).strftime(_TIMESTAMP),
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


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _card(row: tuple[Any, ...]) -> DealRecord:
    """What a card needs of a deal (the record's other fields are left empty: the full
    snapshot replaces these cards moments later)."""
    (deal_id, title, company, value, stage, probability, close_date, stage_changed_at) = row[:8]
    next_step, next_step_due = row[8:]
    return DealRecord(
        id=str(_uuid(deal_id)),
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
