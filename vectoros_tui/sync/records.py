"""The backend's deals and workspaces, in local terms, whichever dialect sent them.

A :class:`RemoteDeal` uses the *local* field names and stage vocabulary (five stages, won/lost
as the outcome), so the sync engine compares it with a local deal field by field
(:data:`DEAL_FIELDS`, the store's own list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# The fields a sync carries both ways, in local names.
from vectoros_tui.store.validation import DEAL_FIELDS


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

    @property
    def etag(self) -> str | None:
        """The entity tag a backend with conditional writes expects in If-Match."""
        return None if self.version is None else f'"{self.version}"'

    def to_record(self) -> dict[str, Any]:
        """The syncable fields (:data:`DEAL_FIELDS`) as a dict of local names."""
        return {name: getattr(self, name) for name in DEAL_FIELDS}
