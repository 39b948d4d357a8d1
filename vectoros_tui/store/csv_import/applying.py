"""apply_import: write a plan in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from vectoros_tui.store.csv_import.results import (
    ImportFileError,
    ImportPlan,
    ImportResult,
    RowError,
)
from vectoros_tui.store.csv_import.vocabulary import OWNER
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.owners import address_for
from vectoros_tui.store.tables import Deal, Workspace
from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    NEXT_STEP_FIELDS,
    ValidationError,
    clean_deal,
)
from vectoros_tui.store.views import DealView

if TYPE_CHECKING:
    from vectoros_tui.store.store import Store


def _existing(
    store: Store, workspace_id: uuid.UUID, source_ids: list[str]
) -> tuple[dict[str, DealView], dict[str, DealView]]:
    """Deals matching the plan: by source id, and (for ids that are deal UUIDs of deals
    without a source id, as our exports write) by id."""
    by_source: dict[str, DealView] = {}
    by_uuid: dict[str, DealView] = {}
    uuids: dict[uuid.UUID, str] = {}
    for sid in source_ids:
        try:
            uuids[uuid.UUID(sid)] = sid
        except ValueError:
            continue
    with store.db.read() as session:
        if session.get(Workspace, workspace_id) is None:
            raise NotFoundError(f"workspace {workspace_id} does not exist")
        for chunk in _chunks(source_ids, 500):
            for row in session.exec(
                select(Deal).where(
                    Deal.workspace_id == workspace_id, col(Deal.source_id).in_(chunk)
                )
            ).all():
                assert row.source_id is not None  # the IN above matched it
                by_source[row.source_id] = DealView.from_row(row)
        for chunk in _chunks(list(uuids), 500):
            for row in session.exec(
                select(Deal).where(
                    Deal.workspace_id == workspace_id,
                    col(Deal.id).in_(chunk),
                    col(Deal.source_id).is_(None),
                )
            ).all():
                sid = uuids[row.id]
                if sid not in by_source:
                    by_uuid[sid] = DealView.from_row(row)
    return by_source, by_uuid


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_import(
    store: Store, workspace_id: uuid.UUID, plan: ImportPlan, *, dry_run: bool = False
) -> ImportResult:
    """Write a plan: every row or, if the file had any error, nothing.

    Raises :class:`ImportFileError` listing the plan's errors before touching the
    database. With ``dry_run`` nothing is written and the counts say what would happen.

    New deals get every field from the file. Existing deals (same source id) change only
    in the fields the file has a column for (see :func:`merge_into`), so importing a file
    of, say, titles and emails does not reset stages. Rows whose source id is the id of a
    deal of this workspace without a source id (``vectoros export`` writes those) update
    that deal instead of creating a copy.
    """
    if plan.errors:
        raise ImportFileError(plan.errors)
    source_ids = [sid for sid, _ in plan.rows]
    by_source, by_uuid = _existing(store, workspace_id, source_ids)
    owners = plan_owners(plan)
    members = {m.email: m.id for m in store.owners.members(workspace_id)}
    new_members = joining(owners, set(members))
    present = {f for f in plan.header_map if f in (*DEAL_FIELDS, *NEXT_STEP_FIELDS)}
    lines = plan.lines if len(plan.lines) == len(plan.rows) else [0] * len(plan.rows)
    rows: list[tuple[str, dict[str, Any]]] = []
    errors: list[RowError] = []
    created = updated = unchanged = 0
    for (sid, clean), line in zip(plan.rows, lines, strict=True):
        current = by_source.get(sid) or by_uuid.get(sid)
        if current is None:
            rows.append((sid, clean))
            created += 1
            continue
        before = current.editable_fields()
        owner = owners.get(clean.get(OWNER, ""))
        try:
            final = merge_into(before, clean, present)
        except ValidationError as exc:
            errors.extend(
                RowError(
                    line,
                    plan.header_map.get(e.field, e.field),
                    f"{e.field} {e.message} (with the deal's stored fields)",
                )
                for e in exc.errors
            )
            continue
        rows.append((sid, clean))
        reassigned = owner is not None and members.get(owner[0]) != current.owner_id
        if reassigned or any(before.get(k) != v for k, v in final.items()):
            updated += 1
        else:
            unchanged += 1
    if errors:
        raise ImportFileError(errors)
    if dry_run:
        return ImportResult(
            created, updated, unchanged, plan.total_rows, dry_run=True, new_members=new_members
        )
    # The merge runs again inside the write transaction, against the state stored then.
    counts = store.deals.upsert_many(
        workspace_id,
        rows,
        merge=lambda stored, row: merge_into(stored, row, present),
        owners=owners,
    )
    return ImportResult(
        counts["created"],
        counts["updated"],
        counts["unchanged"],
        plan.total_rows,
        new_members=new_members,
    )


def plan_owners(plan: ImportPlan) -> dict[str, tuple[str, str | None]]:
    """The owners a plan's rows name: text as written -> (email, name)."""
    return {c[OWNER]: address_for(c[OWNER]) for _, c in plan.rows if c.get(OWNER)}


def joining(owners: Mapping[str, tuple[str, str | None]], members: set[str]) -> tuple[str, ...]:
    """The owners not yet members (by email), as "Name <email>" or the email, sorted."""
    new: dict[str, str | None] = {}
    for email, name in owners.values():  # "Ann Rep" and "ANN REP" are one new member
        if email not in members:
            new.setdefault(email, name)
    return tuple(f"{new[e]} <{e}>" if new[e] else e for e in sorted(new))


def merge_into(
    current: Mapping[str, Any], clean: Mapping[str, Any], present: set[str]
) -> dict[str, Any]:
    """An existing deal's fields updated with a row's, for the fields in ``present``.

    A stage column decides the outcome too (``Proposal`` reopens a won deal). Without
    one, a won/lost outcome closes the deal and an empty one keeps the stored outcome.
    A deal that is not lost loses its lost reason; a deal whose outcome changes without
    a probability column gets the usual probability (won 100, lost 0, else the stage's).
    Raises ``ValidationError`` if the result is not a valid deal.
    """
    merged = dict(current)
    for name in present:
        merged[name] = clean[name]
    if "stage" in present:
        merged["outcome"] = clean["outcome"]
    elif "outcome" in present:
        if clean["outcome"]:
            merged["stage"] = "closed"
        else:
            merged["outcome"] = current["outcome"]
    if merged["outcome"] != "lost" and "lost_reason" not in present:
        merged["lost_reason"] = None
    if "probability" not in present and merged["outcome"] != current["outcome"]:
        merged["probability"] = None
    return clean_deal(merged)
