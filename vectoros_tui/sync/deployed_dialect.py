"""The ``deployed`` dialect: what the deployed team backend actually speaks.

Every answer is ``{"success": true, "data": ...}`` (errors ``{"success": false, "error":
{"code", "message"}}``); lists are ``data.items`` with ``data.pagination = {page, limit,
total, totalPages, hasNext, hasPrev}`` (query ``page``, ``limit``, ``sortBy``,
``sortOrder``); updates are ``PATCH`` with the changed fields only; creates are ``POST
/api/v1/workspaces/:workspaceId/deals``; stages ``lead``/``qualified``/``proposal``/
``negotiation``/``won``/``lost``; ``value``/``probability`` may be null.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Final

from vectoros_tui.sync.dialect_base import MAX_PAGES, Dialect
from vectoros_tui.sync.errors import MalformedResponseError, RemoteError
from vectoros_tui.sync.records import RemoteDeal, RemoteWorkspace
from vectoros_tui.sync.remote_json import StagesIn
from vectoros_tui.sync.strict_json import Fields, expect_list, kind_of, show
from vectoros_tui.sync.wire import Call, Reply, error_details, reading

# The remote stage encodes both: a PATCH of either sends the pair.
_STAGE_PAIR: Final = frozenset({"stage", "outcome"})


class DeployedDialect(Dialect):
    name = "deployed"
    sends_outcome = False
    stages_in: ClassVar[StagesIn] = {
        "lead": ("prospect", None),
        "qualified": ("qualified", None),
        "proposal": ("proposal", None),
        "negotiation": ("negotiation", None),
        "won": ("closed", "won"),
        "lost": ("closed", "lost"),
    }
    SORT: ClassVar[dict[str, str]] = {"sortBy": "createdAt", "sortOrder": "asc"}

    def remote_stage(self, stage: str, outcome: str | None) -> str:
        if stage == "closed":
            assert outcome is not None
            return outcome
        return "lead" if stage == "prospect" else stage

    def payload(self, reply: Reply) -> Any:
        body = reply.json()
        if not isinstance(body, dict) or "success" not in body:
            raise MalformedResponseError(
                f'expected the {{"success": ..., "data": ...}} envelope, got {kind_of(body)} '
                f"{show(body)}"
            )
        success = body["success"]
        if not isinstance(success, bool):
            raise MalformedResponseError(
                f"must be true or false (got {kind_of(success)})", field="success"
            )
        if not success:
            code, message = error_details(reply.text)
            raise RemoteError(reply.status, code, message, request=reply.request)
        if "data" not in body:
            raise MalformedResponseError("is missing", field="data")
        return body["data"]

    def payload_field(self) -> str | None:
        return "data"

    def _pages(
        self, call: Call, path: str, page_size: int, extra: Mapping[str, Any]
    ) -> Iterator[tuple[Reply, list[Any]]]:
        """Every page of a paginated list: ``(reply, items)``, until ``hasNext`` is false.

        A plain array in ``data`` (no pagination) is read as the whole list.
        """
        for number in range(1, MAX_PAGES + 1):
            reply = call("GET", path, params={"page": number, "limit": page_size, **extra})
            with reading(reply):
                data = self.payload(reply)
                if isinstance(data, list) and number == 1:
                    items, more = data, False
                else:
                    items, more = self._page(data, number)
            yield reply, items
            if not more:
                return
        raise MalformedResponseError(f"more than {MAX_PAGES} pages", request=f"GET {path}")

    @staticmethod
    def _page(data: Any, number: int) -> tuple[list[Any], bool]:
        """``(items, whether another page follows)`` of one page's ``data``."""
        body = Fields(data, "data")
        _, raw_items = body.raw("items", required=True)
        items = expect_list(raw_items, "data.items")
        _, raw_pagination = body.raw("pagination", required=True)
        pagination = Fields(raw_pagination, "data.pagination")
        page = pagination.integer("page", required=True, nullable=False)
        total_pages = pagination.integer("totalPages", required=True, nullable=False, minimum=0)
        has_next = pagination.boolean("hasNext")
        pagination.integer("total", required=True, nullable=False, minimum=0)
        pagination.integer("limit", nullable=False, minimum=1)
        pagination.boolean("hasPrev", required=False)
        assert total_pages is not None
        if page != number:
            raise pagination.fail("page", f"is {page}, but page {number} was asked for")
        more = bool(has_next) and number < total_pages
        if more and not items:
            raise pagination.fail("hasNext", "is true, but the page has no items")
        return items, more

    def list_workspaces(self, call: Call) -> list[RemoteWorkspace]:
        found: dict[str, RemoteWorkspace] = {}
        for reply, items in self._pages(call, "/api/v1/workspaces", 100, {}):
            with reading(reply):
                for i, item in enumerate(items):
                    workspace = self.workspace_from(item, f"data.items[{i}]")
                    found[workspace.id] = workspace
        return list(found.values())

    def list_deals(self, call: Call, workspace_id: str, page_size: int) -> list[RemoteDeal]:
        deals: dict[str, RemoteDeal] = {}
        # Oldest first: deals created while we page land on the last page instead of
        # shifting the ones not read yet.
        for reply, items in self._pages(call, self.deals_path(workspace_id), page_size, self.SORT):
            with reading(reply):
                for i, item in enumerate(items):
                    deal = self.from_remote(
                        item, field=f"data.items[{i}]", workspace_id=workspace_id
                    )
                    deals[deal.id] = deal
        return list(deals.values())

    def create_request(
        self, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        body = {"id": deal_id, **self.to_remote(fields)}
        return self.deals_path(workspace_id), body

    def update_deal(
        self,
        call: Call,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        patch = {name: value for name, value in changes.items() if name not in _STAGE_PAIR}
        if _STAGE_PAIR & set(changes):
            record = {**full, **changes}
            patch["stage"] = record.get("stage")
            patch["outcome"] = record.get("outcome")
        if not patch:
            current = self.get_deal(call, deal_id)
            if current is None:
                request = f"GET {self.deal_path(deal_id)}"
                raise RemoteError(404, None, "deal not found", request=request)
            return current
        reply = self.write(call, "PATCH", self.deal_path(deal_id), self.to_remote(patch), if_match)
        return None if reply is None else self.read_deal(reply)
