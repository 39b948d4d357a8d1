"""What the sync engine needs of the team's backend (:class:`~vectoros_tui.sync.http.RemoteBackend`
in use; a fake in tests)."""

from __future__ import annotations

from typing import Any, Protocol

from vectoros_tui.sync.records import RemoteDeal


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
