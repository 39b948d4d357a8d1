"""Stored insights: regenerated from the engine's rules without duplicates.

Each rule gives its insight a stable ``rule_key`` (rule + deal). Regenerating updates the
numbers of insights whose situation persists (keeping whether the rep read or dismissed
them), adds new ones, and removes those whose situation has gone.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Text, bindparam, case, cast, delete, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import select

from vectoros_tui.engine.insights import InsightDraft
from vectoros_tui.plain_json import column_text, loads
from vectoros_tui.store.bulk import any_of
from vectoros_tui.store.database import Database
from vectoros_tui.store.driver_reads import in_chunks
from vectoros_tui.store.driver_values import moment
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.ids import resolve_short_id
from vectoros_tui.store.record_rows import raw
from vectoros_tui.store.tables import Insight, utcnow
from vectoros_tui.store.views import InsightView, iso

PRIORITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True)
class RegenerationResult:
    added: int
    updated: int
    removed: int


class InsightService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def resolve_id(self, ref: str) -> uuid.UUID:
        with self.db.read() as session:
            return resolve_short_id(session, Insight, ref, "insight")

    def list(
        self, workspace_id: uuid.UUID, *, include_dismissed: bool = False, unread_only: bool = False
    ) -> list[InsightView]:
        """By priority (critical first), then the biggest deal, then title."""
        found = self._rows(workspace_id, include_dismissed, unread_only)
        return sorted(
            (_view(row, workspace_id) for row in found),
            key=lambda i: _order(i.priority, i.data.get("value"), i.title, str(i.id)),
        )

    def most_pressing(
        self,
        workspace_id: uuid.UUID,
        top: int,
        *,
        include_dismissed: bool = False,
        unread_only: bool = False,
        deal_ids: Collection[str] | None = None,
    ) -> tuple[builtins.list[InsightView], int]:
        """The first ``top`` of what :meth:`list` lists (only those about ``deal_ids``, as
        text, if given) and how many it lists in all. The database orders them, as
        :func:`_order` does, and hands over the ``top`` alone: the CLI shows 25 of a
        team's 33,000, and reading the columns of all of them to order them here took a
        third of a second on Postgres (decoding each one's JSON, half a second)."""
        value = func.coalesce(_INSIGHTS.c.data["value"].as_float(), 0.0)
        title = _INSIGHTS.c.title
        # Python's order of text (code points), whatever the database's own collation.
        in_code_points = title if self.db.is_sqlite else title.collate("C")
        with self.db.read() as session:
            where = _listed_where(workspace_id, include_dismissed, unread_only)
            if deal_ids is not None:
                ids = [uuid.UUID(d) for d in deal_ids]
                where.append(any_of(session, _INSIGHTS.c.deal_id, ids))
            ordered = (
                core_select(*_LISTED)
                .where(*where)
                .order_by(_priority_rank(), value.desc(), in_code_points, _INSIGHTS.c.id)
                .limit(top)
            )
            connection = session.connection()
            rows = connection.execute(ordered).all()
            total = connection.execute(
                core_select(func.count()).select_from(_INSIGHTS).where(*where)
            ).scalar_one()
        return [_view(row, workspace_id) for row in rows], total

    def list_api(
        self, workspace_id: uuid.UUID, *, include_dismissed: bool = False, unread_only: bool = False
    ) -> builtins.list[dict[str, Any]]:
        """What :meth:`list` lists, each as ``InsightView.to_api`` gives it, made straight
        from the rows: no id or view object per insight (half the time at 30,000)."""
        found = self._rows(workspace_id, include_dismissed, unread_only)
        workspace = str(workspace_id)
        return sorted(
            (_api(row, workspace) for row in found),
            key=lambda i: _order(i["priority"], i["data"].get("value"), i["title"], i["id"]),
        )

    def _rows(
        self, workspace_id: uuid.UUID, include_dismissed: bool, unread_only: bool
    ) -> Sequence[Any]:
        # Columns as the driver gives them, read here: a team's workspace has tens of
        # thousands of insights, and ORM objects made listing them seconds.
        query = core_select(*_LISTED).where(
            *_listed_where(workspace_id, include_dismissed, unread_only)
        )
        with self.db.read() as session:
            return session.connection().execute(query).all()

    def replace_generated(
        self, workspace_id: uuid.UUID, drafts: Iterable[InsightDraft], now: datetime | None = None
    ) -> RegenerationResult:
        """Store ``drafts`` as the workspace's generated insights, in one transaction:
        new keys are added, keys no longer drafted removed, and the rest ("still apply")
        rewritten only where their content changed, keeping read and dismissed. A team's
        workspace has tens of thousands of insights, nearly all the same from one run to
        the next: only the difference is written, in a few bulk statements."""
        moment = now or utcnow()
        by_key = {d.key: d for d in drafts}
        with self.db.write() as session:
            connection = session.connection()
            mine = _INSIGHTS.c.workspace_id == workspace_id
            # JSON columns read as their text: comparing the text a draft would be stored
            # as costs a fraction of decoding 30,000 documents.
            existing = connection.execute(
                select(
                    _INSIGHTS.c.rule_key,
                    *(_INSIGHTS.c[name] for name in _PLAIN),
                    *(cast(_INSIGHTS.c[name], Text).label(name) for name in _DOCUMENTS),
                ).where(mine, _INSIGHTS.c.rule_key.is_not(None))
            ).all()
            gone: list[str] = []
            changed: list[dict[str, Any]] = []
            for row in existing:
                draft = by_key.pop(row.rule_key, None)
                if draft is None:
                    gone.append(row.rule_key)
                    continue
                if not _unchanged(row, draft):
                    changed.append(
                        {"key_rule": row.rule_key, **_content(draft), "updated_at": moment}
                    )
            for chunk in in_chunks(gone):
                connection.execute(delete(_INSIGHTS).where(mine, _INSIGHTS.c.rule_key.in_(chunk)))
            if changed:
                connection.execute(
                    update(_INSIGHTS).where(mine, _INSIGHTS.c.rule_key == bindparam("key_rule")),
                    changed,
                )
            if by_key:
                connection.execute(
                    insert(_INSIGHTS),
                    [
                        {
                            "id": uuid.uuid4(),
                            "workspace_id": workspace_id,
                            "rule_key": draft.key,
                            "is_read": False,
                            "is_dismissed": False,
                            "created_at": moment,
                            "updated_at": moment,
                            **_content(draft),
                        }
                        for draft in by_key.values()
                    ],
                )
        return RegenerationResult(len(by_key), len(existing) - len(gone), len(gone))

    def _set(self, insight_id: uuid.UUID, **values: bool) -> InsightView:
        with self.db.write() as session:
            row = session.get(Insight, insight_id)
            if row is None:
                raise NotFoundError(f"insight {insight_id} does not exist")
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return InsightView.from_row(row)

    def mark_read(self, insight_id: uuid.UUID, read: bool = True) -> InsightView:
        return self._set(insight_id, is_read=read)

    def dismiss(self, insight_id: uuid.UUID) -> InsightView:
        return self._set(insight_id, is_dismissed=True, is_read=True)


_INSIGHTS = Insight.__table__  # type: ignore[attr-defined]
# What a rule writes into its insight (besides its key, which names the rule and the
# deal, so the deal never changes under a key), plain and as JSON documents.
_PLAIN = ("type", "priority", "title", "description", "confidence")
_DOCUMENTS = ("data", "actions")


def _content(draft: InsightDraft) -> dict[str, Any]:
    return {
        "type": draft.type,
        "priority": draft.priority,
        "title": draft.title,
        "description": draft.description,
        "confidence": draft.confidence,
        "data": dict(draft.data),
        "actions": list(draft.actions),
        "deal_id": _uuid(draft.deal_id),
    }


_LISTED = (
    raw(_INSIGHTS.c.id),
    raw(_INSIGHTS.c.workspace_id),
    raw(_INSIGHTS.c.deal_id),
    _INSIGHTS.c.type,
    _INSIGHTS.c.priority,
    _INSIGHTS.c.title,
    _INSIGHTS.c.description,
    _INSIGHTS.c.confidence,
    raw(_INSIGHTS.c.data),
    raw(_INSIGHTS.c.actions),
    _INSIGHTS.c.is_read,
    _INSIGHTS.c.is_dismissed,
    _INSIGHTS.c.rule_key,
    raw(_INSIGHTS.c.created_at),
    raw(_INSIGHTS.c.updated_at),
)


def _listed_where(workspace_id: uuid.UUID, include_dismissed: bool, unread_only: bool) -> list[Any]:
    """The conditions of a listing: the workspace's insights, less the dismissed (unless
    they are asked for), less the read (with ``unread_only``)."""
    found = [_INSIGHTS.c.workspace_id == workspace_id]
    if not include_dismissed:
        found.append(_INSIGHTS.c.is_dismissed.is_(False))
    if unread_only:
        found.append(_INSIGHTS.c.is_read.is_(False))
    return found


def _view(row: Any, workspace_id: uuid.UUID) -> InsightView:
    (key, _, deal, kind, priority, title, text, confidence, data, actions) = row[:10]
    return InsightView(
        _raw_uuid(key),
        workspace_id,
        None if deal is None else _raw_uuid(deal),
        kind,
        priority,
        title,
        text,
        confidence,
        dict(_document(data) or {}),
        list(_document(actions) or []),
        bool(row[10]),
        bool(row[11]),
        row[12],
        moment(row[13]),
        moment(row[14]),
    )


def _priority_rank() -> Any:
    """:data:`PRIORITY_ORDER` in SQL: the first key of :func:`_order`."""
    return case(
        *((_INSIGHTS.c.priority == name, rank) for name, rank in PRIORITY_ORDER.items()),
        else_=9,
    )


def _order(priority: str, value: Any, title: str, key: str) -> tuple[int, float, str, str]:
    """By priority, then the biggest deal (``value``: the insight's data's, if any), then
    title; the id last: the same order on every read and both databases, ties included."""
    return (PRIORITY_ORDER.get(priority, 9), -float(value or 0), title, key)


def _api(row: Any, workspace: str) -> dict[str, Any]:
    """A listed row as ``InsightView.to_api`` gives it."""
    (key, _, deal, kind, priority, title, text, confidence, data, actions) = row[:10]
    return {
        "id": _uuid_text(key),
        "workspaceId": workspace,
        "dealId": None if deal is None else _uuid_text(deal),
        "type": kind,
        "priority": priority,
        "title": title,
        "description": text,
        "confidence": confidence,
        "data": dict(_document(data) or {}),
        "actions": list(_document(actions) or []),
        "isRead": bool(row[10]),
        "isDismissed": bool(row[11]),
        "createdAt": iso(moment(row[13])),
        "updatedAt": iso(moment(row[14])),
    }


def _uuid_text(value: Any) -> str:
    """An id as text with its dashes: SQLite keeps 32 hex digits, psycopg gives a UUID."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def _raw_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)


def _document(value: Any) -> Any:
    """A JSON column read raw: text on SQLite, already decoded by psycopg on Postgres."""
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _unchanged(row: Any, draft: InsightDraft) -> bool:
    """Whether a stored insight (a row of the select in ``replace_generated``) says what
    ``draft`` says. Its JSON is compared as the text it would be written as, and only
    where that differs (written by another version's serializer) as what it decodes to,
    so a new serializer does not rewrite every insight once."""
    data, actions = dict(draft.data), list(draft.actions)
    wanted = (
        draft.type,
        draft.priority,
        draft.title,
        draft.description,
        draft.confidence,
        column_text(data),
        column_text(actions),
    )
    stored = tuple(row[1:])
    if stored == wanted:
        return True
    if stored[:5] != wanted[:5]:
        return False
    return all(
        text is not None and loads(text) == document
        for text, document in ((stored[5], data), (stored[6], actions))
    )


def _uuid(value: object) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))
