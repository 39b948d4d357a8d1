"""What the sync engine needs of the team's backend (:class:`~vectoros_tui.sync.http.RemoteBackend`
in use; a fake in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from vectoros_tui.sync.records import RemoteDeal
from vectoros_tui.sync.remote_activities import RemoteActivity


class Backend(Protocol):
    def list_deals(self, workspace_id: str) -> list[RemoteDeal]: ...
    def get_deal(self, deal_id: str) -> RemoteDeal | None: ...
    def create_deal(self, workspace_id: str, local_record: dict[str, Any]) -> RemoteDeal: ...
    def update_deal(
        self,
        deal_id: str,
        changes: dict[str, Any],
        full: dict[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None: ...
    def delete_deal(self, deal_id: str, if_match: str | None = None) -> bool: ...
    @property
    def conditional_writes(self) -> bool: ...


class ActivityBackend(Protocol):
    """A backend with activity routes (one whose ``extensions`` name ``activities``)."""

    def list_activities(self, workspace_id: str) -> list[RemoteActivity]: ...
    def create_activity(
        self, deal_id: str, activity_id: str, record: Mapping[str, Any]
    ) -> RemoteActivity: ...
    def update_activity(self, activity_id: str, record: Mapping[str, Any]) -> RemoteActivity: ...
    def delete_activity(self, activity_id: str) -> None: ...


def extensions_of(backend: Any) -> frozenset[str]:
    """What the backend has beyond the seed's API (none, if it does not say)."""
    named = getattr(backend, "extensions", None)
    return named if isinstance(named, frozenset) else frozenset()
