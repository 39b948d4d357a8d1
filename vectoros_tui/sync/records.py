"""The backend's deals and workspaces in local terms, whichever dialect sent them, and the
plain records a sync compares.

A :class:`RemoteDeal` uses the *local* field names and stage vocabulary (five stages, won/lost
as the outcome), so the sync engine compares it with a local deal field by field
(:data:`DEAL_FIELDS`, the store's own list). A :data:`Record` is those fields as plain JSON
values: what a sync link keeps as the base both sides agreed on, and what a conflict shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# The fields a sync carries both ways, in local names.
from vectoros_tui.store.validation import DEAL_FIELDS, clean_deal
from vectoros_tui.store.views import DealView

Record = dict[str, Any]


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

    @property
    def etag(self) -> str | None:
        """The entity tag a backend with conditional writes expects in If-Match."""
        return None if self.version is None else f'"{self.version}"'

    def to_record(self) -> dict[str, Any]:
        """The syncable fields (:data:`DEAL_FIELDS`) as a dict of local names."""
        return {name: getattr(self, name) for name in DEAL_FIELDS}


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def record_of_view(deal: DealView) -> Record:
    fields = deal.editable_fields()
    return {
        name: _iso(fields[name]) if name == "close_date" else fields[name] for name in DEAL_FIELDS
    }


def record_of_remote(deal: RemoteDeal, like: Record | None = None) -> Record:
    """The remote deal in local terms. A null value/probability (the deployed backend has
    them) is not a change: it takes the value ``like`` has (else the store's default)."""
    out: Record = deal.to_record()
    out["close_date"] = _iso(out["close_date"])
    if like is not None:
        for name in ("value", "probability"):
            if out[name] is None:
                out[name] = like.get(name)
    if out["value"] is None:
        out["value"] = 0.0
    if out["probability"] is None:
        out["probability"] = clean_deal(out)["probability"]
    return out


def changed_fields(before: Record, after: Record) -> dict[str, Any]:
    return {name: after.get(name) for name in DEAL_FIELDS if after.get(name) != before.get(name)}


def clean_record(record: Record) -> dict[str, Any]:
    """The record's fields validated and normalised as the store keeps them."""
    return clean_deal({name: record.get(name) for name in DEAL_FIELDS})
