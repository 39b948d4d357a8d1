"""The backend's deals and workspaces in local terms, whichever dialect sent them, and the
plain records a sync compares.

A :class:`RemoteDeal` uses the *local* field names and stage vocabulary (five stages, won/lost
as the outcome), so the sync engine compares it with a local deal field by field
(:data:`DEAL_FIELDS`, the store's own list, plus the next step with a backend that has it:
:func:`sync_fields`). A :data:`Record` is those fields as plain JSON values: what a sync
link keeps as the base both sides agreed on, and what a conflict shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

# The fields a sync carries both ways, in local names.
from vectoros_tui.store.validation import DEAL_FIELDS, NEXT_STEP_FIELDS, clean_deal
from vectoros_tui.store.views import DealView

Record = dict[str, Any]
# Every field a sync may carry: the seed's, then the next step (an extension only some
# backends have).
ALL_SYNC_FIELDS: Final = (*DEAL_FIELDS, *NEXT_STEP_FIELDS)
_DATE_FIELDS: Final = ("close_date", "next_step_due")


def sync_fields(next_steps: bool) -> tuple[str, ...]:
    """The fields a sync with this backend compares and sends: with one that has no next
    step, a deal's next step is left out, so a pull never clears it here."""
    return ALL_SYNC_FIELDS if next_steps else DEAL_FIELDS


@dataclass(frozen=True)
class RemoteWorkspace:
    id: str
    name: str


@dataclass(frozen=True)
class RemoteDeal:
    """One deal as the server has it, mapped to local names and stages.

    ``value`` and ``probability`` are ``None`` when the server has none (the deployed
    backend allows nulls); they are never replaced by 0. ``updated_at`` is UTC-aware,
    or ``None`` when the server does not say.
    """

    id: str
    workspace_id: str
    title: str
    company: str | None
    value: float | None
    stage: str
    outcome: str | None
    probability: int | None
    contact_name: str | None
    contact_email: str | None
    close_date: date | None
    lost_reason: str | None
    updated_at: datetime | None
    # The server's version of the deal, when it sends one (``vectoros serve`` does).
    version: int | None = None
    # The backend's user id of its owner, when it says (``vectoros serve`` does).
    owner_id: str | None = None
    # Its next step, from a backend that has one (``vectoros serve``); None otherwise.
    next_step: str | None = None
    next_step_due: date | None = None

    @property
    def etag(self) -> str | None:
        """The entity tag a backend with conditional writes expects in If-Match."""
        return None if self.version is None else f'"{self.version}"'

    def to_record(self) -> dict[str, Any]:
        """The syncable fields (:data:`DEAL_FIELDS`) as a dict of local names."""
        return {name: getattr(self, name) for name in DEAL_FIELDS}


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def record_of_view(deal: DealView, fields: tuple[str, ...] = DEAL_FIELDS) -> Record:
    values = deal.editable_fields()
    return {name: _iso(values[name]) if name in _DATE_FIELDS else values[name] for name in fields}


def record_of_remote(
    deal: RemoteDeal, like: Record | None = None, fields: tuple[str, ...] = DEAL_FIELDS
) -> Record:
    """The remote deal in local terms. A null value/probability (the deployed backend has
    them) is not a change: it takes the value ``like`` has (else the store's default)."""
    out: Record = {name: getattr(deal, name) for name in fields}
    for name in _DATE_FIELDS:
        if name in out:
            out[name] = _iso(out[name])
    if like is not None:
        for name in ("value", "probability"):
            if out[name] is None:
                out[name] = like.get(name)
    if out["value"] is None:
        out["value"] = 0.0
    if out["probability"] is None:
        out["probability"] = clean_deal(out)["probability"]
    return out


def base_of(stored: Record, fields: tuple[str, ...]) -> Record:
    """A link's agreed base as a record of ``fields``. A field it does not have was not
    carried when it was agreed (a next step before the backend had one): None, as
    the backend had it then."""
    return {name: stored.get(name) for name in fields}


def record_fields(*records: Record | None) -> tuple[str, ...]:
    """The sync fields the records have, in order: a conflict found with a backend that
    carries next steps has them, one found with a backend without them has not."""
    present = {name for record in records if record is not None for name in record}
    return tuple(name for name in ALL_SYNC_FIELDS if name in present)


def changed_fields(
    before: Record, after: Record, fields: tuple[str, ...] = DEAL_FIELDS
) -> dict[str, Any]:
    return {name: after.get(name) for name in fields if after.get(name) != before.get(name)}


def clean_record(record: Record) -> dict[str, Any]:
    """The record's fields validated and normalised as the store keeps them. A next step
    is among them only when the record has it: otherwise the deal's own stays."""
    given = {name: record.get(name) for name in DEAL_FIELDS}
    given.update({name: record[name] for name in NEXT_STEP_FIELDS if name in record})
    return clean_deal(given)
