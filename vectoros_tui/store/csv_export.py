"""Export a workspace's deals as CSV (spreadsheet-safe, re-importable) or JSON.

Deals are streamed from one query in creation order, a thousand at a time, so exporting
100k deals never holds them all in memory, and the export is one consistent snapshot.

CSV: text cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab
or carriage return) get a leading ``'``; ``csv_import`` removes it again, so a round trip
is exact. ``value`` and ``probability`` are plain numbers. The ``source_id`` column is the
deal's source id, or its own id when it has none: importing the file back into the same
workspace updates those deals instead of copying them, and into another workspace copies
them once.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any, Literal

from sqlmodel import col, select

from vectoros_tui.engine.stages import normalise_stage
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.tables import Deal, Workspace
from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    NEXT_STEP_FIELDS,
    FieldError,
    ValidationError,
)
from vectoros_tui.store.views import DealView, iso

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from vectoros_tui.store.store import Store

__all__ = ["CSV_COLUMNS", "export_deals", "neutralise"]

CSV_COLUMNS = (
    "id",
    "source_id",
    *DEAL_FIELDS,
    *NEXT_STEP_FIELDS,
    "created_at",
    "closed_at",
    "updated_at",
)
BATCH = 1000
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def neutralise(text: str | None) -> str:
    """A text cell no spreadsheet will evaluate: ``=1+1`` becomes ``'=1+1``."""
    if text is None:
        return ""
    return "'" + text if _FORMULA.match(text) else text


def _number(value: float) -> str:
    """``1200.5`` and ``1000000``, never ``1e+06``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _csv_row(deal: DealView) -> list[str]:
    return [
        str(deal.id),
        neutralise(deal.source_id or str(deal.id)),
        neutralise(deal.title),
        neutralise(deal.company),
        _number(deal.value),
        deal.stage,
        str(deal.probability),
        neutralise(deal.contact_name),
        neutralise(deal.contact_email),
        iso(deal.close_date) or "",
        deal.outcome or "",
        neutralise(deal.lost_reason),
        neutralise(deal.next_step),
        iso(deal.next_step_due) or "",
        iso(deal.created_at) or "",
        iso(deal.closed_at) or "",
        iso(deal.updated_at) or "",
    ]


def _filters(workspace_id: uuid.UUID, stage: str | None, outcome: str | None) -> list[Any]:
    errors: list[FieldError] = []
    conditions: list[Any] = [Deal.workspace_id == workspace_id]
    if stage:
        try:
            conditions.append(Deal.stage == normalise_stage(stage)[0])
        except ValueError as exc:
            errors.append(FieldError("stage", str(exc)))
    if outcome == "open":
        conditions.append(col(Deal.outcome).is_(None))
    elif outcome in ("won", "lost"):
        conditions.append(Deal.outcome == outcome)
    elif outcome:
        errors.append(FieldError("outcome", f"must be open, won or lost (got {outcome!r})"))
    if errors:
        raise ValidationError(errors)
    return conditions


def _deals(
    store: Store,
    workspace_id: uuid.UUID,
    stage: str | None,
    outcome: str | None,
    owner_id: uuid.UUID | None = None,
) -> Generator[DealView, None, None]:
    conditions = _filters(workspace_id, stage, outcome)
    if owner_id is not None:
        conditions.append(col(Deal.owner_id) == owner_id)
    with store.db.read() as session:
        if session.get(Workspace, workspace_id) is None:
            raise NotFoundError(f"workspace {workspace_id} does not exist")
        query = (
            select(Deal)
            .where(*conditions)
            .order_by(col(Deal.created_at), col(Deal.id))
            .execution_options(yield_per=BATCH)
        )
        for row in session.exec(query):
            yield DealView.from_row(row)
            session.expunge(row)


def export_deals(
    store: Store,
    workspace_id: uuid.UUID,
    out_stream: SupportsWrite[str],
    *,
    fmt: Literal["csv", "json"] = "csv",
    stage: str | None = None,
    outcome: str | None = None,
    owner_id: uuid.UUID | None = None,
) -> int:
    """Write the workspace's deals (optionally one stage, or ``open``/``won``/``lost``,
    or one member's) to ``out_stream``; returns how many were written.

    CSV has the columns of :data:`CSV_COLUMNS`; JSON is ``{"deals": [...], "total": N}``
    with each deal as ``DealView.to_api()``. Raises ``ValidationError`` for a bad
    filter or format and ``NotFoundError`` for a missing workspace, before writing.
    """
    if fmt not in ("csv", "json"):
        raise ValidationError([FieldError("format", f"must be csv or json (got {fmt!r})")])
    deals = _deals(store, workspace_id, stage, outcome, owner_id)
    try:
        first = next(deals, None)  # validates and runs the query before anything is written
        return _write(out_stream, fmt, first, deals)
    finally:
        deals.close()


def _write(
    out_stream: SupportsWrite[str], fmt: str, first: DealView | None, rest: Iterator[DealView]
) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out_stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        if first is not None:
            writer.writerow(_csv_row(first))
            count = 1
            for deal in rest:
                writer.writerow(_csv_row(deal))
                count += 1
        return count
    out_stream.write('{"deals": [')
    if first is not None:
        out_stream.write("\n  " + json.dumps(first.to_api(), ensure_ascii=False))
        count = 1
        for deal in rest:
            out_stream.write(",\n  " + json.dumps(deal.to_api(), ensure_ascii=False))
            count += 1
        out_stream.write("\n")
    out_stream.write(f'], "total": {count}}}\n')
    return count
