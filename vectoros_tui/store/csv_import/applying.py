"""apply_import: write a plan in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vectoros_tui.store.csv_import.results import (
    ImportFileError,
    ImportPlan,
    ImportResult,
    RowError,
)
from vectoros_tui.store.csv_import.vocabulary import OWNER
from vectoros_tui.store.deals import EDITABLE_FIELDS, matching_deals
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.owners import address_for
from vectoros_tui.store.tables import Workspace
from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    NEXT_STEP_FIELDS,
    ValidationError,
    clean_deal,
)

if TYPE_CHECKING:
    from vectoros_tui.store.store import Store


def _existing(
    store: Store, workspace_id: uuid.UUID, source_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The stored deals the plan's rows update, by source id (see
    :func:`~vectoros_tui.store.deals.matching_deals`): the fields a row merges into and
    the owner."""
    with store.db.read() as session:
        if session.get(Workspace, workspace_id) is None:
            raise NotFoundError(f"workspace {workspace_id} does not exist")
        columns = (*EDITABLE_FIELDS, "owner_id")
        return matching_deals(session, workspace_id, source_ids, columns)[0]


class _Merges:
    """:func:`merge_into` remembered: the write transaction merges every updated row again
    against the deal as stored then, and a deal nobody changed in between (nearly always)
    gives the same inputs, so the same result, without validating it twice."""

    def __init__(self, present: set[str]) -> None:
        self.present = present
        self._keys = sorted(present | {"outcome"})  # what merge_into reads of a row
        self._done: dict[tuple[Any, ...], dict[str, Any]] = {}

    def __call__(self, stored: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
        key = (*stored.values(), *(row.get(k) for k in self._keys))
        done = self._done.get(key)
        if done is None:
            done = self._done[key] = merge_into(stored, row, self.present)
        return dict(done)


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
    existing = _existing(store, workspace_id, source_ids)
    owners = plan_owners(plan)
    members = {m.email: m.id for m in store.owners.members(workspace_id)}
    new_members = joining(owners, set(members))
    present = {f for f in plan.header_map if f in (*DEAL_FIELDS, *NEXT_STEP_FIELDS)}
    merge = _Merges(present)
    lines = plan.lines if len(plan.lines) == len(plan.rows) else [0] * len(plan.rows)
    rows: list[tuple[str, dict[str, Any]]] = []
    errors: list[RowError] = []
    created = updated = unchanged = 0
    for (sid, clean), line in zip(plan.rows, lines, strict=True):
        current = existing.get(sid)
        if current is None:
            rows.append((sid, clean))
            created += 1
            continue
        before = {k: current[k] for k in EDITABLE_FIELDS}
        owner = owners.get(clean.get(OWNER, ""))
        try:
            final = merge(before, clean)
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
        reassigned = owner is not None and members.get(owner[0]) != current["owner_id"]
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
    counts = store.deals.upsert_many(workspace_id, rows, merge=merge, owners=owners)
    return ImportResult(
        counts["created"],
        counts["updated"],
        counts["unchanged"],
        plan.total_rows,
        new_members=new_members,
    )


def plan_owners(plan: ImportPlan) -> dict[str, tuple[str, str | None]]:
    """The owners a plan's rows name: text as written -> (email, name)."""
    owners: dict[str, tuple[str, str | None]] = {}
    for _, clean in plan.rows:
        text = clean.get(OWNER)
        if text and text not in owners:  # a team's few reps own thousands of rows
            owners[text] = address_for(text)
    return owners


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
