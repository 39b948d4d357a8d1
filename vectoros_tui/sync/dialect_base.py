"""What every dialect of the team backend implements, and the operations they share.

A dialect knows paths and body shapes only; each operation gets the HTTP layer's
:class:`~vectoros_tui.sync.wire.Call`, which sends, retries and handles statuses.

Creates carry the client's own ``id``, so a retried ``POST`` is idempotent: if the id already
exists (409, or a 2xx echoing the same id) the create counts as done and the stored deal is
returned (read back with a ``GET`` after a 409).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from vectoros_tui.sync.errors import RemoteError
from vectoros_tui.sync.record_json import record_json
from vectoros_tui.sync.records import RemoteDeal, RemoteWorkspace
from vectoros_tui.sync.remote_json import StagesIn, deal_from_json, workspace_from_json
from vectoros_tui.sync.wire import Call, Reply, error_details, reading, segment

# Safety net against a server whose paging never ends (10 million deals at 100 a page).
MAX_PAGES: Final = 100_000


class Dialect(ABC):
    """Paths, body shapes and the deal mapping of one dialect."""

    name: ClassVar[str]
    # remote stage (lower case) -> (local stage, outcome it implies)
    stages_in: ClassVar[StagesIn]
    sends_outcome: ClassVar[bool]
    # Whether the dialect has the next-step extension fields (nextStep, nextStepDue).
    next_steps: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<{self.name} dialect>"

    # -- mapping ----------------------------------------------------------------------------

    @abstractmethod
    def remote_stage(self, stage: str, outcome: str | None) -> str:
        """The dialect's stage name for a validated local stage and outcome."""

    def to_remote(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """JSON for the given local fields (see :func:`record_json`); ``ValueError`` for
        unknown fields or values a deal cannot have."""
        return record_json(
            record, self.remote_stage, sends_outcome=self.sends_outcome, next_steps=self.next_steps
        )

    def from_remote(
        self, data: Any, *, field: str | None = None, workspace_id: str | None = None
    ) -> RemoteDeal:
        """A :class:`RemoteDeal` from the dialect's deal JSON (see :func:`deal_from_json`)."""
        return deal_from_json(
            data,
            self.stages_in,
            field=field,
            workspace_id=workspace_id,
            next_steps=self.next_steps,
        )

    def workspace_from(self, data: Any, field: str | None) -> RemoteWorkspace:
        return workspace_from_json(data, field)

    # -- operations (each gets the HTTP layer's Call) --------------------------------------

    @abstractmethod
    def payload(self, reply: Reply) -> Any:
        """The useful part of a 2xx body (the envelope's ``data`` in the deployed dialect)."""

    def payload_field(self) -> str | None:
        """Where :meth:`payload` sits in the body, for error messages."""
        return None

    def read_health(self, reply: Reply) -> dict[str, Any]:
        with reading(reply):
            body = self.payload(reply)
            if isinstance(body, dict):
                return body
            return {"status": body}

    @abstractmethod
    def list_workspaces(self, call: Call) -> list[RemoteWorkspace]: ...

    @abstractmethod
    def list_deals(self, call: Call, workspace_id: str, page_size: int) -> list[RemoteDeal]: ...

    def deals_path(self, workspace_id: str) -> str:
        return f"/api/v1/workspaces/{segment(workspace_id)}/deals"

    def deal_path(self, deal_id: str) -> str:
        return f"/api/v1/deals/{segment(deal_id)}"

    def read_deal(self, reply: Reply, workspace_id: str | None = None) -> RemoteDeal:
        with reading(reply):
            body = self.payload(reply)
            return self.from_remote(body, field=self.payload_field(), workspace_id=workspace_id)

    def get_deal(self, call: Call, deal_id: str) -> RemoteDeal | None:
        reply = call("GET", self.deal_path(deal_id), allow=(404,))
        if reply.status == 404:
            return None
        return self.read_deal(reply)

    @abstractmethod
    def create_request(
        self, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """``(path, body)`` of the create request."""

    def create_deal(
        self, call: Call, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> RemoteDeal:
        path, body = self.create_request(workspace_id, deal_id, fields)
        reply = call("POST", path, json=body, allow=(409,))
        if reply.status != 409:
            return self.read_deal(reply, workspace_id)
        # The id exists already: most likely our own earlier attempt, committed before the
        # connection dropped. Read it back; anything else is a real conflict.
        existing = self.get_deal(call, deal_id)
        if existing is None or existing.workspace_id != workspace_id:
            code, message = error_details(reply.text)
            raise RemoteError(409, code, message, request=reply.request)
        return existing

    @abstractmethod
    def update_deal(
        self,
        call: Call,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        """Update a deal; with ``if_match`` (an entity tag), None when it changed since."""

    def delete_deal(self, call: Call, deal_id: str, if_match: str | None = None) -> bool:
        """Delete; a 404 means someone deleted it already, which is what we wanted.
        With ``if_match``, False when the deal changed since (412): nothing was deleted."""
        reply = self.write(call, "DELETE", self.deal_path(deal_id), None, if_match)
        if reply is None:
            return False
        enveloped = self.payload_field() is not None
        if enveloped and reply.status not in (204, 404) and reply.text.strip():
            with reading(reply):
                self.payload(reply)  # an envelope saying success: false raises
        return True

    @staticmethod
    def write(call: Call, method: str, path: str, body: Any, if_match: str | None) -> Reply | None:
        """Send a write; with ``if_match``, conditionally: None when the deal changed
        since that tag (412) or is gone (404, except for a DELETE, where gone is done)."""
        gone_ok = (404,) if method == "DELETE" else ()
        if if_match is None:
            return call(method, path, json=body, allow=gone_ok)
        reply = call(method, path, json=body, headers={"If-Match": if_match}, allow=(404, 412))
        if reply.status == 412 or (reply.status == 404 and not gone_ok):
            return None
        return reply
