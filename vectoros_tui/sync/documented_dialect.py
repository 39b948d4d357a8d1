"""The ``documented`` dialect: the team backend's API as documented.

Plain JSON bodies; ``GET /api/v1/workspaces/:id/deals`` pages with ``limit``/``offset`` and
answers ``{"deals": [...], "total": N}``; ``POST /api/v1/deals`` (``workspaceId`` in the
body); ``PUT /api/v1/deals/:id`` with the whole record; ``DELETE`` answers 204. Stages
``prospect``/``qualified``/``proposal``/``negotiation`` and ``closed_won``/``closed_lost``
(``closed`` plus an ``outcome`` field is read too). A deal's ``nextStep``/``nextStepDue`` (an
extension ``vectoros serve`` has) are read when present and sent when the record has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from vectoros_tui.sync.dialect_base import MAX_PAGES, Dialect
from vectoros_tui.sync.errors import MalformedResponseError
from vectoros_tui.sync.records import ALL_SYNC_FIELDS, DEAL_FIELDS, RemoteDeal, RemoteWorkspace
from vectoros_tui.sync.remote_json import StagesIn
from vectoros_tui.sync.strict_json import Fields, expect_list
from vectoros_tui.sync.wire import Call, Reply, reading


class DocumentedDialect(Dialect):
    name = "documented"
    sends_outcome = True
    next_steps = True
    stages_in: ClassVar[StagesIn] = {
        "prospect": ("prospect", None),
        "qualified": ("qualified", None),
        "proposal": ("proposal", None),
        "negotiation": ("negotiation", None),
        "closed_won": ("closed", "won"),
        "closed_lost": ("closed", "lost"),
        "closed": ("closed", None),
    }

    def remote_stage(self, stage: str, outcome: str | None) -> str:
        return f"closed_{outcome}" if stage == "closed" else stage

    def payload(self, reply: Reply) -> Any:
        return reply.json()

    def read_deal(self, reply: Reply, workspace_id: str | None = None) -> RemoteDeal:
        with reading(reply):
            body = reply.json()
            if isinstance(body, dict) and "id" not in body and isinstance(body.get("deal"), dict):
                # Some servers wrap a single record as {"deal": {...}}.
                return self.from_remote(body["deal"], field="deal", workspace_id=workspace_id)
            return self.from_remote(body, field=None, workspace_id=workspace_id)

    def list_workspaces(self, call: Call) -> list[RemoteWorkspace]:
        reply = call("GET", "/api/v1/workspaces")
        with reading(reply):
            body = Fields(reply.json(), None)
            _, items = body.raw("workspaces", required=True)
            return [
                self.workspace_from(item, f"workspaces[{i}]")
                for i, item in enumerate(expect_list(items, "workspaces"))
            ]

    def list_deals(self, call: Call, workspace_id: str, page_size: int) -> list[RemoteDeal]:
        path = self.deals_path(workspace_id)
        deals: dict[str, RemoteDeal] = {}
        offset = 0
        for _ in range(MAX_PAGES):
            reply = call("GET", path, params={"limit": page_size, "offset": offset})
            with reading(reply):
                body = Fields(reply.json(), None)
                _, items = body.raw("deals", required=True)
                page = [
                    self.from_remote(item, field=f"deals[{i}]", workspace_id=workspace_id)
                    for i, item in enumerate(expect_list(items, "deals"))
                ]
                total = body.integer("total", required=True, nullable=False, minimum=0)
                assert total is not None
                fresh = [deal for deal in page if deal.id not in deals]
                if page and not fresh:
                    raise MalformedResponseError(
                        f"paging does not advance: offset {offset} returned only deals "
                        "already read (is offset ignored?)",
                        field="deals",
                    )
            # Deals created or deleted while we page can shift offsets: the same deal may
            # come twice (kept once, last copy wins).
            deals.update((deal.id, deal) for deal in page)
            offset += len(page)
            if not page or offset >= total:
                return list(deals.values())
        raise MalformedResponseError(f"more than {MAX_PAGES} pages", request=f"GET {path}")

    def create_request(
        self, workspace_id: str, deal_id: str, fields: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        body = {"id": deal_id, "workspaceId": workspace_id, **self.to_remote(fields)}
        return "/api/v1/deals", body

    def update_deal(
        self,
        call: Call,
        deal_id: str,
        changes: Mapping[str, Any],
        full: Mapping[str, Any],
        if_match: str | None = None,
    ) -> RemoteDeal | None:
        record = {**full, **changes}
        missing = [name for name in DEAL_FIELDS if name not in record]
        if missing:
            raise ValueError(f"PUT needs the whole record; missing: {', '.join(missing)}")
        # The next step only when the record carries it: a PUT without it keeps the
        # server's (a backend without next steps never gets the field).
        sent = {name: record[name] for name in ALL_SYNC_FIELDS if name in record}
        body = {"id": deal_id, **self.to_remote(sent)}
        reply = self.write(call, "PUT", self.deal_path(deal_id), body, if_match)
        return None if reply is None else self.read_deal(reply)
