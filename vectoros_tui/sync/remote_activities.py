"""A deal's activities on a backend that has activity routes (``vectoros serve``; an
extension of the documented API, whose schema has activities but no routes for them).

``GET /api/v1/workspaces/:id/activities`` pages through a workspace's activities (each names
its ``dealId``); ``POST /api/v1/deals/:id/activities`` adds one with the client's own ``id``
(a retried add meets 409 and is read back, never made twice); ``PUT /api/v1/activities/:id``
sends every field (absolute values: safe to repeat); ``DELETE`` answers 204, or 404 when it
is gone already, which is what was wanted.

An activity travels as a :data:`Record` of :data:`ACTIVITY_FIELDS`, its date as ISO 8601 in
UTC, so one read here and one read there compare equal when they are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from vectoros_tui.sync.dialect_base import MAX_PAGES
from vectoros_tui.sync.errors import MalformedResponseError, RemoteError
from vectoros_tui.sync.records import Record
from vectoros_tui.sync.strict_json import Fields, expect_list
from vectoros_tui.sync.wire import Call, Reply, error_details, reading, segment

ACTIVITY_FIELDS: Final = ("type", "description", "date", "done")


def moment_text(moment: datetime) -> str:
    """An activity's date as records keep it: ISO 8601 in UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class RemoteActivity:
    id: str
    deal_id: str  # the backend's id of its deal
    type: str
    description: str
    date: datetime  # UTC
    done: bool

    def record(self) -> Record:
        return {
            "type": self.type,
            "description": self.description,
            "date": moment_text(self.date),
            "done": self.done,
        }


def activity_from_json(data: Any, field: str | None) -> RemoteActivity:
    f = Fields(data, field)
    moment = f.timestamp("date")
    if moment is None:
        raise f.fail("date", "is missing")
    done = f.boolean("done", required=False)
    return RemoteActivity(
        id=f.identifier("id"),
        deal_id=f.identifier("dealId"),
        type=f.text("type"),
        description=f.text("description"),
        date=moment,
        done=True if done is None else done,
    )


def _body(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record[name] for name in ACTIVITY_FIELDS}


def _read(reply: Reply) -> RemoteActivity:
    with reading(reply):
        return activity_from_json(reply.json(), None)


def list_activities(call: Call, workspace_id: str, page_size: int) -> list[RemoteActivity]:
    """Every activity of the workspace's deals (all pages; a failure on any page raises)."""
    path = f"/api/v1/workspaces/{segment(workspace_id)}/activities"
    found: dict[str, RemoteActivity] = {}
    offset = 0
    for _ in range(MAX_PAGES):
        reply = call("GET", path, params={"limit": page_size, "offset": offset})
        with reading(reply):
            body = Fields(reply.json(), None)
            _, items = body.raw("activities", required=True)
            page = [
                activity_from_json(item, f"activities[{i}]")
                for i, item in enumerate(expect_list(items, "activities"))
            ]
            total = body.integer("total", required=True, nullable=False, minimum=0)
            assert total is not None
            if page and all(a.id in found for a in page):
                raise MalformedResponseError(
                    f"paging does not advance: offset {offset} returned only activities "
                    "already read (is offset ignored?)",
                    field="activities",
                )
        found.update((a.id, a) for a in page)
        offset += len(page)
        if not page or offset >= total:
            return list(found.values())
    raise MalformedResponseError(f"more than {MAX_PAGES} pages", request=f"GET {path}")


def create_activity(
    call: Call, deal_id: str, activity_id: str, record: Mapping[str, Any]
) -> RemoteActivity:
    """Add an activity with the client's id to the backend's deal ``deal_id``. An id the
    deal has already (our own earlier attempt, whose answer was lost) is read back."""
    path = f"/api/v1/deals/{segment(deal_id)}/activities"
    reply = call("POST", path, json={"id": activity_id, **_body(record)}, allow=(409,))
    if reply.status != 409:
        return _read(reply)
    listed = call("GET", path)
    with reading(listed):
        body = Fields(listed.json(), None)
        _, items = body.raw("activities", required=True)
        for i, item in enumerate(expect_list(items, "activities")):
            existing = activity_from_json(item, f"activities[{i}]")
            if existing.id == activity_id:
                return existing
    code, message = error_details(reply.text)
    raise RemoteError(409, code, message, request=reply.request)


def update_activity(call: Call, activity_id: str, record: Mapping[str, Any]) -> RemoteActivity:
    return _read(call("PUT", f"/api/v1/activities/{segment(activity_id)}", json=_body(record)))


def delete_activity(call: Call, activity_id: str) -> None:
    call("DELETE", f"/api/v1/activities/{segment(activity_id)}", allow=(404,))
