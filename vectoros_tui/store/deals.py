"""Deals: validated create/update/delete with history and optimistic concurrency."""

from __future__ import annotations

# For annotations in DealService, whose `list` method shadows the builtin there.
import builtins
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_
from sqlalchemy.orm import Mapped
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from vectoros_tui.engine.dates import as_utc, parse_date
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.stages import OPEN_STAGES, normalise_stage
from vectoros_tui.store import outbox
from vectoros_tui.store.bulk import any_of, insert_rows, read_rows, roomy_cache, update_rows
from vectoros_tui.store.database import Database
from vectoros_tui.store.driver_values import id_text, record_from_row
from vectoros_tui.store.errors import ConflictError, NotFoundError
from vectoros_tui.store.ids import parse_uuid, resolve_short_id
from vectoros_tui.store.kept_results import read_revision
from vectoros_tui.store.open_records import REBUILD_SHARE, OpenRecords
from vectoros_tui.store.owners import check_member
from vectoros_tui.store.pausing import paused_rows, paused_slices
from vectoros_tui.store.record_rows import raw, record_query
from vectoros_tui.store.roles import (
    Actor,
    admit,
    ensure_members,
    require_deal_access,
    require_manager,
)
from vectoros_tui.store.tables import Activity, Deal, DealEvent, Workspace, utcnow
from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    HISTORY_FIELDS,
    NEXT_STEP_FIELDS,
    FieldError,
    ValidationError,
    clean_deal,
    parse_calendar_date,
)
from vectoros_tui.store.views import DEAL_VIEW_FIELDS, DealPage, DealView, iso

# A deal's fields as DealView.editable_fields gives them, in that order.
EDITABLE_FIELDS = (*DEAL_FIELDS, *NEXT_STEP_FIELDS)


def _utc(moment: datetime | str | None) -> datetime | None:
    """A stored timestamp as aware UTC (SQLite hands back aggregates as text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment)


_NEW_DEAL_FIELDS = (*DEAL_FIELDS, *NEXT_STEP_FIELDS, "owner_id")
# What a column holds when a new deal's fields leave it empty (value 0, probability 0).
_DEAL_DEFAULTS = {
    column.name: column.default.arg
    for column in Deal.__table__.columns  # type: ignore[attr-defined]
    if column.default is not None and column.default.is_scalar
}


def _new_deal(
    workspace_id: uuid.UUID, source_id: str | None, clean: Mapping[str, Any], moment: datetime
) -> dict[str, Any]:
    """A new deal's row. With the history an import gives (``HISTORY_FIELDS``) the deal
    was created then, and a closed one entered the closed stage when it closed; an open
    one is counted in its stage from its creation (the export says nothing later). Such a
    deal is observed from ``moment`` on: what its stage, probability and close date were
    before the export, the export does not say."""
    # The same keys for every row (they are written by one statement), whatever the caller
    # gives beyond a deal's fields.
    row = {
        name: value if (value := clean.get(name)) is not None else _DEAL_DEFAULTS.get(name)
        for name in _NEW_DEAL_FIELDS
    }
    created = clean.get("created_at") or moment
    closed = (clean.get("closed_at") or moment) if row["outcome"] else None
    row.update(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        source_id=source_id,
        created_at=created,
        updated_at=moment,
        stage_changed_at=closed if closed is not None and "closed_at" in clean else created,
        closed_at=closed,
        observed_at=moment if created < moment else None,
        version=1,
    )
    return row


def _updated_row(
    stored: Mapping[str, Any],
    final: Mapping[str, Any],
    history: Mapping[str, datetime],
    moment: datetime,
) -> tuple[dict[str, Any], builtins.list[dict[str, Any]], bool, bool]:
    """A stored deal (a row's columns) after an import's edit: its new columns, the events
    the edit makes, whether the edit changed a field (the sync pushes it then) and whether
    its first stage event moves to a corrected created date.

    What :meth:`DealService._apply` does to one deal, for many at once. A re-imported deal
    also takes the source's created and closed dates (facts of the source CRM); closed_at
    only while the deal is closed. A deal whose stage never changed since it was created is
    in that stage since the corrected date, its first event with it."""
    before = {**{k: stored[k] for k in EDITABLE_FIELDS}, "owner_id": stored["owner_id"]}
    changed = {k: v for k, v in final.items() if before.get(k) != v}
    row = dict(stored)
    events: builtins.list[dict[str, Any]] = []
    if changed:
        for field in ("owner_id", *TRACKED_FIELDS):
            if field in changed:
                events.append(
                    {
                        "id": uuid.uuid4(),
                        "deal_id": row["id"],
                        "field": "owner" if field == "owner_id" else field,
                        "old_value": tracked_text(before[field]),
                        "new_value": tracked_text(changed[field]),
                        "changed_at": moment,
                    }
                )
        if "stage" in changed:
            row["stage_changed_at"] = moment
        if "outcome" in changed:
            row["closed_at"] = moment if changed["outcome"] else None
        row.update(changed)
        row["updated_at"] = moment
    moved = False
    created = history.get("created_at")
    old = _utc(stored["created_at"])
    if created is not None and old != created:
        row["created_at"] = created
        if _utc(row["stage_changed_at"]) == old:
            row["stage_changed_at"] = created
            moved = True
    closed = history.get("closed_at")
    if closed is not None and row["outcome"] and _utc(row["closed_at"]) != closed:
        row["closed_at"] = closed
    return row, events, bool(changed), moved


def _rounds(
    rows: builtins.list[tuple[str, dict[str, Any]]],
) -> builtins.list[builtins.list[tuple[str, dict[str, Any]]]]:
    """The rows in rounds holding each source id once: the n-th row of a source id is in
    the n-th round, so it updates what the rounds before made of that deal."""
    if len({source_id for source_id, _ in rows}) == len(rows):
        return [rows]  # as every file does: a plan refuses an id given twice
    rounds: builtins.list[builtins.list[tuple[str, dict[str, Any]]]] = []
    seen: dict[str, int] = defaultdict(int)
    for source_id, given in rows:
        index = seen[source_id]
        seen[source_id] += 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append((source_id, given))
    return rounds


def _record(
    row: Any,
    *,
    last_activity: datetime | str | None = None,
    slips: Collection[date] = (),
    last_open_stage: str | None = None,
) -> DealRecord:
    """The engine's record of a deal row (a Core row or an ORM object: both have the
    columns as attributes), the derived history fields given by the caller."""
    return DealRecord(
        id=str(row.id),
        title=row.title,
        stage=row.stage,
        value=row.value,
        probability=row.probability,
        outcome=row.outcome,
        company=row.company,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        close_date=row.close_date,
        lost_reason=row.lost_reason,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        stage_changed_at=_utc(row.stage_changed_at),
        closed_at=_utc(row.closed_at),
        last_activity_at=_utc(last_activity),
        close_date_history=tuple(slips),
        last_open_stage=last_open_stage,
        owner_id=None if row.owner_id is None else str(row.owner_id),
        next_step=row.next_step,
        next_step_due=row.next_step_due,
        version=row.version,
    )


SORTABLE: dict[str, Mapped[Any]] = {
    "title": col(Deal.title),
    "company": col(Deal.company),
    "value": col(Deal.value),
    "stage": col(Deal.stage),
    "probability": col(Deal.probability),
    "close_date": col(Deal.close_date),
    "created_at": col(Deal.created_at),
    "updated_at": col(Deal.updated_at),
    "contact_name": col(Deal.contact_name),
    "outcome": col(Deal.outcome),
}
MAX_PAGE = 10_000
# Rows between two calls of a background read's ``pause`` (see DealService.records): a
# few milliseconds of work each.
_PAUSE_EVERY = 2_000
# As DealRecord.is_open: no outcome and not in the closed stage (never NULL).
_IS_OPEN = and_(col(Deal.outcome).is_(None), col(Deal.stage) != "closed")
# Fields whose every change is kept as a DealEvent: a deal's history (where it was, what
# it was worth and how likely, when it closed) is what forecasts learn from and timelines
# show.
TRACKED_FIELDS = ("stage", "outcome", "close_date", "value", "probability")


def tracked_text(value: Any) -> str | None:
    """How a tracked field's value is kept in a DealEvent (the history's text form)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        # Every digit of an amount, without a ".0" on whole ones: 45000, 52000.5.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return iso(value)


def matching_deals(
    session: Session,
    workspace_id: uuid.UUID,
    source_ids: Collection[str],
    columns: Collection[str] | None = None,
) -> tuple[dict[str, dict[str, Any]], builtins.list[str]]:
    """The stored deals (their columns, or only ``columns``) that rows with these source
    ids update, by source id, in two queries however many there are; and the source ids
    that matched as the id of a deal without a source id (``vectoros export`` writes
    those), to be adopted as its source id. A source id that is a deal's source id never
    adopts another deal."""
    table = Deal.__table__  # type: ignore[attr-defined]
    in_workspace = table.c.workspace_id == workspace_id
    wanted = {"id", "source_id", *columns} if columns is not None else None
    names = [c.name for c in table.columns if wanted is None or c.name in wanted]
    found = {
        row["source_id"]: row
        for row in read_rows(
            session, table, names, in_workspace, any_of(session, table.c.source_id, source_ids)
        )
    }
    own: dict[uuid.UUID, str] = {}
    for sid in source_ids:
        # A UUID has 32 hex digits: a shorter id (a CRM's own) is not tried as one.
        if len(sid) >= 32 and sid not in found and (parsed := parse_uuid(sid)) is not None:
            own.setdefault(parsed, sid)  # the first spelling of an id takes the deal
    adopted: builtins.list[str] = []
    if own:
        for row in read_rows(
            session,
            table,
            names,
            in_workspace,
            any_of(session, table.c.id, list(own)),
            table.c.source_id.is_(None),
        ):
            sid = own[row["id"]]
            found[sid] = row
            adopted.append(sid)
    return found, adopted


@dataclass(frozen=True)
class BeforeClosing:
    """A closed deal's state just before it closed: where reopening takes it back."""

    stage: str
    probability: int | None
    close_date: date | None


class DealService:
    def __init__(
        self, db: Database, actor: Actor | None = None, open_records: OpenRecords | None = None
    ) -> None:
        self.db = db
        self.actor = actor  # whose role every change is checked against (None: unchecked)
        # The open deals last read, shared by the services of one store (see records).
        self.open_records = open_records if open_records is not None else OpenRecords()

    # --- reading -------------------------------------------------------------------

    def get(self, deal_id: uuid.UUID | str) -> DealView:
        with self.db.read() as session:
            return DealView.from_row(self._load(session, deal_id))

    def resolve_id(self, ref: str, workspace_id: uuid.UUID | None = None) -> uuid.UUID:
        """A full deal id, or a unique prefix of at least 8 hex digits (as tables show)."""
        conditions = [] if workspace_id is None else [Deal.workspace_id == workspace_id]
        with self.db.read() as session:
            return resolve_short_id(session, Deal, ref, "deal", *conditions)

    def _load(self, session: Session, deal_id: uuid.UUID | str) -> Deal:
        key = deal_id if isinstance(deal_id, uuid.UUID) else self.resolve_id(deal_id)
        row = session.get(Deal, key)
        if row is None:
            raise NotFoundError(f"deal {key} does not exist (deleted by someone else?)")
        return row

    def list(
        self,
        workspace_id: uuid.UUID,
        *,
        stage: str | None = None,
        outcome: str | None = None,
        search: str | None = None,
        sort: str = "updated_at",
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
        known_total: int | None = None,
        owner_id: uuid.UUID | None = None,
    ) -> DealPage:
        """One page of deals plus the total matching count.

        ``outcome`` is ``open``, ``won`` or ``lost``; ``search`` matches title, company
        and contact name, case-insensitively; ``owner_id`` keeps one member's deals.
        ``known_total`` (the total of an earlier page with the same filters and unchanged
        data) skips the count query.
        """
        errors: list[FieldError] = []
        if sort not in SORTABLE:
            errors.append(
                FieldError("sort", f"cannot sort by {sort!r}; use one of {', '.join(SORTABLE)}")
            )
        if not 1 <= limit <= MAX_PAGE:
            errors.append(FieldError("limit", f"must be between 1 and {MAX_PAGE} (got {limit})"))
        if offset < 0:
            errors.append(FieldError("offset", f"must not be negative (got {offset})"))
        conditions = self._conditions(workspace_id, stage, outcome, search, errors)
        if owner_id is not None:
            conditions.append(col(Deal.owner_id) == owner_id)
        order = SORTABLE[sort]
        ordering = [order.desc() if descending else order.asc(), col(Deal.id)]
        with self.db.read() as session:
            total = (
                known_total
                if known_total is not None
                else session.exec(select(func.count()).select_from(Deal).where(*conditions)).one()
            )
            rows = session.exec(
                select(Deal).where(*conditions).order_by(*ordering).limit(limit).offset(offset)
            ).all()
            return DealPage([DealView.from_row(r) for r in rows], total, limit, offset)

    def matching_ids(
        self,
        workspace_id: uuid.UUID,
        *,
        stage: str | None = None,
        outcome: str | None = None,
        search: str | None = None,
        owner_id: uuid.UUID | None = None,
    ) -> builtins.list[uuid.UUID]:
        """The ids of every deal :meth:`list` would page through with these filters, for a
        caller that orders them itself (the table's health sort: scores are not stored)."""
        conditions = self._conditions(workspace_id, stage, outcome, search, [])
        if owner_id is not None:
            conditions.append(col(Deal.owner_id) == owner_id)
        with self.db.read() as session:
            return list(session.exec(select(Deal.id).where(*conditions).order_by(col(Deal.id))))

    def get_many(self, deal_ids: builtins.list[uuid.UUID]) -> builtins.list[DealView]:
        """The deals with these ids, in the order given; ids of deals gone are skipped."""
        with self.db.read() as session:
            rows = session.exec(select(Deal).where(col(Deal.id).in_(deal_ids))).all()
        found = {row.id: DealView.from_row(row) for row in rows}
        return [found[i] for i in deal_ids if i in found]

    @staticmethod
    def _conditions(
        workspace_id: uuid.UUID,
        stage: str | None,
        outcome: str | None,
        search: str | None,
        errors: builtins.list[FieldError],
    ) -> builtins.list[ColumnElement[bool] | bool]:
        """The WHERE clause of a filtered deal list; raises with ``errors`` plus its own."""
        if outcome not in (None, "open", "won", "lost"):
            errors.append(FieldError("outcome", "must be open, won or lost"))
        stage_filter = None
        if stage:
            try:
                stage_filter, _ = normalise_stage(stage)
            except ValueError as exc:
                errors.append(FieldError("stage", str(exc)))
        if errors:
            raise ValidationError(errors)

        conditions: builtins.list[ColumnElement[bool] | bool] = [Deal.workspace_id == workspace_id]
        if stage_filter:
            conditions.append(Deal.stage == stage_filter)
        if outcome == "open":
            conditions.append(col(Deal.outcome).is_(None))
        elif outcome:
            conditions.append(Deal.outcome == outcome)
        if search and search.strip():
            needle = "%" + search.strip().lower().replace("%", r"\%").replace("_", r"\_") + "%"
            conditions.append(
                or_(
                    *(
                        func.lower(column).like(needle, escape="\\")
                        for column in (Deal.title, Deal.company, Deal.contact_name)
                    )
                )
            )
        return conditions

    def board_preview(
        self,
        workspace_id: uuid.UUID,
        now: datetime,
        *,
        per_stage: int = 40,
        ageing_days: int = 30,
    ) -> builtins.list[dict[str, Any]]:
        """Per open stage: totals, ageing/overdue counts and the most valuable deals, in
        SQL, so a big pipeline's board paints before every deal is loaded and scored."""
        moment = as_utc(now)
        ageing = func.sum(
            case((col(Deal.stage_changed_at) <= moment - timedelta(days=ageing_days), 1), else_=0)
        )
        overdue = func.sum(case((col(Deal.close_date) < moment.date(), 1), else_=0))
        open_deal = col(Deal.outcome).is_(None)
        with self.db.read() as session:
            totals = {
                row[0]: row[1:]
                for row in session.exec(
                    # sqlmodel's select() is typed for at most four columns.
                    select(  # type: ignore[call-overload]
                        Deal.stage,
                        func.count(),
                        func.sum(Deal.value),
                        func.sum(Deal.value * Deal.probability) / 100.0,
                        ageing,
                        overdue,
                    )
                    .where(Deal.workspace_id == workspace_id, open_deal)
                    .group_by(Deal.stage)
                ).all()
            }
            columns = []
            for stage in OPEN_STAGES:
                count, total, weighted, aged, late = totals.get(stage, (0, 0, 0, 0, 0))
                top = session.exec(
                    select(Deal)
                    .where(Deal.workspace_id == workspace_id, Deal.stage == stage, open_deal)
                    .order_by(col(Deal.value).desc(), col(Deal.id))
                    .limit(per_stage)
                ).all()
                columns.append(
                    {
                        "stage": stage,
                        "count": count,
                        "total_value": float(total or 0),
                        "weighted_value": float(weighted or 0),
                        "ageing": int(aged or 0),
                        "overdue": int(late or 0),
                        "deals": [_record(row) for row in top],
                    }
                )
            return columns

    def fingerprint(self, workspace_id: uuid.UUID) -> tuple[Any, ...]:
        """Cheap summary that changes whenever a deal of the workspace, or an activity of
        one, is created, changed or deleted (by this process or another): the workspace's
        two revisions, which triggers move in the writing transaction. One row read; the
        count of every deal and activity it replaces took 0.6 s on 100,000 deals, and the
        app asks every few seconds."""
        revision = read_revision(self.db, workspace_id)
        return () if revision is None else tuple(revision)

    def history(self, deal_id: uuid.UUID) -> builtins.list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.exec(
                select(DealEvent)
                .where(DealEvent.deal_id == deal_id)
                .order_by(col(DealEvent.changed_at))
            ).all()
            return [
                {
                    "field": r.field,
                    "from": r.old_value,
                    "to": r.new_value,
                    "changedAt": iso(r.changed_at),
                }
                for r in rows
            ]

    def records(
        self,
        workspace_id: uuid.UUID,
        ids: Collection[uuid.UUID] | None = None,
        *,
        owner_id: uuid.UUID | None = None,
        open_only: bool = False,
        closed_only: bool = False,
        pause: Callable[[], None] | None = None,
    ) -> builtins.list[DealRecord]:
        """Every deal of a workspace (or only those of ``ids``, of ``owner_id``, or only
        the open ones) as the engine's typed records, with the last activity, the
        close-date slips and, for closed deals, the stage they left the funnel from; in
        four queries, ordered by id. The one place these derived fields are computed: a
        saved deal is re-read through here too.

        ``open_only`` is the read path of the forecast, health scores and insight rules,
        which look at nothing else: a team's workspace is mostly closed deals (86% of a
        100,000-deal one), and their activities and history are most of the rows.
        ``closed_only`` reads the rest, so the two together are every deal. ``pause`` is
        called after each chunk of rows: a read in the background lets other threads run."""
        if open_only and closed_only:
            raise ValueError("open_only and closed_only exclude each other")
        if open_only and ids is None and owner_id is None and pause is None:
            return self._open_records(workspace_id)
        in_workspace: builtins.list[Any] = [Deal.workspace_id == workspace_id]
        if ids is not None:
            in_workspace.append(col(Deal.id).in_(builtins.list(ids)))
        if owner_id is not None:
            in_workspace.append(col(Deal.owner_id) == owner_id)
        if open_only:
            in_workspace.append(_IS_OPEN)
        if closed_only:
            in_workspace.append(not_(_IS_OPEN))
        return self._read_records(in_workspace, closed=not open_only, pause=pause)[1]

    def _open_records(self, workspace_id: uuid.UUID) -> builtins.list[DealRecord]:
        """Every open deal of the workspace, reusing what :attr:`open_records` kept from
        the last read where the revisions say it still holds (see store.open_records)."""
        # Before the rows: the rows kept are never older than the revisions they are kept
        # with, so a later read that finds the same revisions finds the same rows.
        revision = read_revision(self.db, workspace_id)
        if revision is None:
            return []
        open_deals: builtins.list[Any] = [Deal.workspace_id == workspace_id, _IS_OPEN]
        kept = self.open_records.get(workspace_id)
        if kept is not None and kept.revision == revision:
            return builtins.list(kept.records.values())
        if kept is not None and kept.revision.activities == revision.activities:
            with self.db.read() as session:
                rows = (
                    session.connection()
                    .execute(record_query().where(*open_deals).order_by(col(Deal.id)))
                    .all()
                )
            changed = set(kept.changed(rows))
            if len(changed) <= REBUILD_SHARE * len(rows):
                fresh: dict[Any, DealRecord] = {}
                if changed:
                    which = [uuid.UUID(id_text(raw_id)) for raw_id in changed]
                    # Read again with their history, as a full read builds them.
                    again, built = self._read_records(
                        [*open_deals, col(Deal.id).in_(which)], closed=False
                    )
                    fresh = {row[0]: record for row, record in zip(again, built, strict=True)}
                # A changed deal that closed between the two reads: read them all.
                if changed <= fresh.keys():
                    records = {
                        row[0]: fresh[row[0]] if row[0] in changed else kept.records[row[0]]
                        for row in rows
                    }
                    self.open_records.put(workspace_id, revision, rows, records)
                    return builtins.list(records.values())
        rows, built = self._read_records(open_deals, closed=False)
        records = {row[0]: record for row, record in zip(rows, built, strict=True)}
        self.open_records.put(workspace_id, revision, rows, records)
        return built

    def _read_records(
        self,
        where: builtins.list[Any],
        *,
        closed: bool,
        pause: Callable[[], None] | None = None,
    ) -> tuple[builtins.list[Any], builtins.list[DealRecord]]:
        """The rows of the deals ``where`` holds, ordered by id, and their records; in
        four queries (three when ``closed`` is False: no deal left the funnel)."""
        with self.db.read() as session:
            # Core rows of the columns the record holds, as the driver hands them over:
            # SQLAlchemy's per-value conversion of ids and timestamps was most of the time
            # of loading a team's pipeline (see record_rows).
            connection = session.connection()
            result = connection.execute(
                record_query()
                .where(*where)
                # Ordered, so a seeded forecast is the same whatever order rows are stored
                # in (the CLI and the screens must agree).
                .order_by(col(Deal.id))
            )
            rows = builtins.list(paused_rows(result, _PAUSE_EVERY, pause))
            last_activity = dict(
                paused_rows(
                    connection.execute(
                        select(raw(col(Activity.deal_id)), raw(func.max(Activity.date)))
                        .join(Deal, col(Deal.id) == Activity.deal_id)
                        # A call planned for next week is not contact made.
                        .where(*where, col(Activity.done).is_(True))
                        .group_by(col(Activity.deal_id))
                    ),
                    _PAUSE_EVERY,
                    pause,
                )
            )
            slips: dict[object, builtins.list[date]] = defaultdict(builtins.list)
            for key, old in paused_rows(
                connection.execute(
                    select(raw(col(DealEvent.deal_id)), DealEvent.old_value)
                    .join(Deal, col(Deal.id) == DealEvent.deal_id)
                    .where(*where, DealEvent.field == "close_date")
                    .order_by(col(DealEvent.changed_at))
                ),
                _PAUSE_EVERY,
                pause,
            ):
                if old and (slipped := parse_date(old)) is not None:
                    slips[key].append(slipped)
            last_open: dict[object, str | None] = {}
            if closed:
                last_open = dict(
                    paused_rows(
                        connection.execute(
                            select(raw(col(DealEvent.deal_id)), DealEvent.old_value)
                            .join(Deal, col(Deal.id) == DealEvent.deal_id)
                            .where(
                                *where,
                                DealEvent.field == "stage",
                                DealEvent.new_value == "closed",
                            )
                            .order_by(col(DealEvent.changed_at))
                        ),
                        _PAUSE_EVERY,
                        pause,
                    )
                )
        return rows, [
            record_from_row(
                row,
                last_activity.get(row.id),
                slips.get(row.id, ()),
                # Where a closed deal left the funnel (for conversion rates).
                last_open.get(row.id) if row.outcome else None,
            )
            for part in paused_slices(rows, _PAUSE_EVERY, pause)
            for row in part
        ]

    def closed_and_total(self, workspace_id: uuid.UUID) -> tuple[int, int]:
        """How many of a workspace's deals are closed (won or lost), and how many it has:
        what decides whether a kept model fit still holds, without reading the deals."""
        with self.db.read() as session:
            closed, total = session.exec(
                select(
                    func.count(col(Deal.outcome)),  # counts the non-null outcomes
                    func.count(),
                ).where(Deal.workspace_id == workspace_id)
            ).one()
        return int(closed), int(total)

    # --- writing -------------------------------------------------------------------

    def create(
        self,
        workspace_id: uuid.UUID,
        data: Mapping[str, Any],
        *,
        source_id: str | None = None,
        now: datetime | None = None,
        deal_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
    ) -> DealView:
        """``deal_id``: a client-generated id (sync clients send one so that a retried create
        is recognised); an id already taken raises :class:`ConflictError`. ``owner_id``
        must be a member of the workspace."""
        clean = clean_deal(data)
        moment = as_utc(now) if now else utcnow()
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            taken = session.get(Deal, deal_id) if deal_id is not None else None
            if taken is not None and taken.workspace_id != workspace_id:
                # Another workspace's id: refusing would tell the caller it exists there,
                # so the deal gets an id of its own (the answer carries it).
                deal_id, taken = None, None
            if taken is not None:
                raise ConflictError(
                    f"a deal with id {deal_id} already exists", current=DealView.from_row(taken)
                )
            if self.actor is not None:
                admitted = admit(session, workspace_id, self.actor)
                if owner_id is None:
                    owner_id = admitted.user_id  # a new deal belongs to whoever creates it
                elif owner_id != admitted.user_id and not admitted.manages:
                    require_manager(
                        session, workspace_id, self.actor, "create a deal for someone else"
                    )
            if owner_id is not None:
                check_member(session, workspace_id, owner_id)
            row = self._insert(
                session, workspace_id, {**clean, "owner_id": owner_id}, source_id, moment, deal_id
            )
            session.flush()
            return DealView.from_row(row)

    @staticmethod
    def _insert(
        session: Session,
        workspace_id: uuid.UUID,
        clean: dict[str, Any],
        source_id: str | None,
        moment: datetime,
        deal_id: uuid.UUID | None = None,
    ) -> Deal:
        given_id: dict[str, Any] = {"id": deal_id} if deal_id is not None else {}
        row = Deal(
            **given_id,
            workspace_id=workspace_id,
            **clean,
            source_id=source_id,
            created_at=moment,
            updated_at=moment,
            stage_changed_at=moment,
            closed_at=moment if clean.get("outcome") else None,
        )
        session.add(row)
        session.flush()
        session.add(
            DealEvent(deal_id=row.id, field="stage", new_value=clean["stage"], changed_at=moment)
        )
        outbox.record(session, workspace_id, row.id, "upsert")
        return row

    @staticmethod
    def insert_remote(
        session: Session,
        workspace_id: uuid.UUID,
        cleans: builtins.list[dict[str, Any]],
        moment: datetime,
    ) -> builtins.list[DealView]:
        """Insert deals that came from the sync backend (already through ``clean_deal``),
        with their first stage event. Not noted in the outbox (they came from there); the
        caller's transaction commits them."""
        deals = DealService._insert_many(session, workspace_id, [(None, c) for c in cleans], moment)
        return [DealView(**{name: deal[name] for name in DEAL_VIEW_FIELDS}) for deal in deals]

    @staticmethod
    def _insert_many(
        session: Session,
        workspace_id: uuid.UUID,
        rows: builtins.list[tuple[str | None, dict[str, Any]]],
        moment: datetime,
    ) -> builtins.list[dict[str, Any]]:
        """New deals ``(source_id, cleaned fields)`` and their first stage events, in one
        statement each (see :mod:`vectoros_tui.store.bulk`): an import or a first pull of
        thousands of deals would otherwise spend most of its time on one INSERT per row."""
        if not rows:
            return []
        deals = [_new_deal(workspace_id, source_id, clean, moment) for source_id, clean in rows]
        insert_rows(session, Deal.__table__, deals)  # type: ignore[attr-defined]
        insert_rows(
            session,
            DealEvent.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": uuid.uuid4(),
                    "deal_id": deal["id"],
                    "field": "stage",
                    "old_value": None,
                    "new_value": deal["stage"],
                    "changed_at": deal["stage_changed_at"],
                }
                for deal in deals
            ],
        )
        return deals

    def upsert_many(
        self,
        workspace_id: uuid.UUID,
        rows: builtins.list[tuple[str, dict[str, Any]]],
        *,
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
        now: datetime | None = None,
        owners: Mapping[str, tuple[str, str | None]] | None = None,
    ) -> dict[str, int]:
        """Create or update deals keyed by ``source_id``, all in ONE transaction.

        ``rows`` are ``(source_id, cleaned fields)`` pairs (already through
        ``clean_deal``). A deal whose source id exists is updated in place (history and
        version kept), so importing the same file twice does not duplicate anything. A
        source id that is the id of a deal of this workspace without a source id (as
        ``vectoros export`` writes) updates that deal. ``merge(stored, row)`` decides an
        existing deal's new fields (default: the row's), against the stored state inside
        this transaction, so a concurrent edit is never overwritten with stale data.
        A row's ``owner`` (a name or email as the file wrote it) is looked up in
        ``owners`` (text -> (email, name)); members not yet in the workspace join it in
        this transaction. Returns counts: created, updated, unchanged.

        The statements are the same few however many rows there are (a source id given
        again adds a round of them: its second row updates what its first made).
        """
        moment = now or utcnow()
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        with self.db.write() as session:
            if session.get(Workspace, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id} does not exist")
            if self.actor is not None:
                require_manager(
                    session,
                    workspace_id,
                    self.actor,
                    "import deals (an import can change anyone's deals and add members)",
                )
            people: dict[str, str | None] = {}
            for email, name in (owners or {}).values():  # the first name given wins
                if not people.get(email):
                    people[email] = name
            user_ids = ensure_members(session, workspace_id, people)
            owner_ids = {text: user_ids[email] for text, (email, _) in (owners or {}).items()}
            with roomy_cache(session, len(rows)):
                for batch in _rounds(rows):
                    self._upsert_round(
                        session, workspace_id, batch, merge, owner_ids, moment, counts
                    )
        self.db.bulk_loaded(counts["created"])
        return counts

    def _upsert_round(
        self,
        session: Session,
        workspace_id: uuid.UUID,
        rows: builtins.list[tuple[str, dict[str, Any]]],
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None,
        owner_ids: Mapping[str, uuid.UUID],
        moment: datetime,
        counts: dict[str, int],
    ) -> None:
        """:meth:`upsert_many` for rows whose source ids are all different."""
        table = Deal.__table__  # type: ignore[attr-defined]
        stored, adopted = matching_deals(session, workspace_id, [sid for sid, _ in rows])
        # Deals named by their own id get it as source id (no version bump: same deal).
        update_rows(
            session,
            table,
            [{"id": stored[sid]["id"], "source_id": sid} for sid in adopted],
            match={"id": "id"},
        )
        new: builtins.list[tuple[str | None, dict[str, Any]]] = []
        changed: builtins.list[dict[str, Any]] = []
        events: builtins.list[dict[str, Any]] = []
        moves: builtins.list[dict[str, Any]] = []
        touched: builtins.list[uuid.UUID] = []  # changed by the edit: for the sync outbox
        for source_id, given in rows:
            owner_id = owner_ids.get(given.get("owner") or "")
            current = stored.get(source_id)
            if current is None:
                new.append((source_id, {**given, "owner_id": owner_id}))
                counts["created"] += 1
                continue
            clean = {k: v for k, v in given.items() if k != "owner"}
            current = {**current, "source_id": source_id}
            history = {k: clean[k] for k in HISTORY_FIELDS if k in clean}
            edits = {k: v for k, v in clean.items() if k not in history}
            before = {k: current[k] for k in EDITABLE_FIELDS}
            final = merge(before, edits) if merge else edits
            if owner_id is not None:
                final = {**final, "owner_id": owner_id}
            row, made, edited, moved = _updated_row(current, final, history, moment)
            if row == current:
                counts["unchanged"] += 1
                continue
            counts["updated"] += 1
            version = current["version"]
            changed.append({**row, "version": version + 1, "expected": version})
            events.extend(made)
            if edited:
                touched.append(row["id"])
            if moved:
                moves.append(
                    {
                        "deal_id": row["id"],
                        "old": current["created_at"],
                        "changed_at": row["created_at"],
                    }
                )
        written = update_rows(session, table, changed, match={"id": "id", "expected": "version"})
        if written != len(changed):
            # Only Postgres lets another transaction change a deal between the read above
            # and this write (SQLite's write lock is held from the start).
            raise ConflictError(
                "some of these deals were changed by someone else during the import; "
                "nothing was imported, import the file again"
            )
        insert_rows(session, DealEvent.__table__, events)  # type: ignore[attr-defined]
        update_rows(
            session,
            DealEvent.__table__,  # type: ignore[attr-defined]
            moves,
            match={"deal_id": "deal_id", "old": "changed_at"},
            where=(col(DealEvent.field) == "stage", col(DealEvent.old_value).is_(None)),
        )
        outbox.record_many(session, workspace_id, touched, "upsert")
        deals = self._insert_many(session, workspace_id, new, moment)
        outbox.record_created(session, workspace_id, [d["id"] for d in deals])

    def update(
        self,
        deal_id: uuid.UUID | str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> DealView:
        """Apply ``changes`` (any of DEAL_FIELDS) to a deal.

        With ``expected_version`` (the version the caller read) a deal changed by someone
        else in between raises :class:`ConflictError` carrying the stored deal; nothing is
        written. Without it the change applies to whatever is stored now.
        """
        changes = dict(changes)
        reassign = "owner_id" in changes
        new_owner = changes.pop("owner_id", None)
        unknown = sorted(set(changes) - set(DEAL_FIELDS) - set(NEXT_STEP_FIELDS))
        if unknown:
            raise ValidationError([FieldError(k, "is not a deal field") for k in unknown])
        moment = now or utcnow()
        try:
            with self.db.write() as session:
                row = self._load(session, deal_id)
                current = DealView.from_row(row)
                self._may_change(session, row, "edit")
                if expected_version is not None and row.version != expected_version:
                    raise ConflictError(
                        f"'{row.title}' was changed by someone else (version {row.version}, "
                        f"you edited version {expected_version}); reload it or overwrite",
                        current=current,
                    )
                merged = {**current.editable_fields(), **changes}
                if "stage" in changes and "outcome" not in changes:
                    self._follow_stage(merged, changes)
                if merged.get("outcome") and not current.outcome:
                    self._closing(merged, current, moment)
                elif current.outcome and not merged.get("outcome"):
                    self._reopening(session, merged, current, changes)
                clean = clean_deal(merged)
                if reassign:
                    if new_owner is not None:
                        check_member(session, row.workspace_id, new_owner)
                    clean["owner_id"] = new_owner
                self._apply(session, row, current, clean, moment)
                session.flush()
                return DealView.from_row(row)
        except StaleDataError:
            stored = self.get(
                deal_id if isinstance(deal_id, uuid.UUID) else self.resolve_id(deal_id)
            )
            raise ConflictError(
                f"'{stored.title}' was changed by someone else while you saved; reload it "
                "or overwrite",
                current=stored,
            ) from None

    def _may_change(self, session: Session, row: Deal, doing: str) -> None:
        if self.actor is not None:
            require_deal_access(
                session, row.workspace_id, self.actor, row.owner_id, f"{doing} '{row.title}'"
            )

    @staticmethod
    def _closing(merged: dict[str, Any], current: DealView, moment: datetime) -> None:
        """A deal being won or lost closes today: a close date still ahead (or none) becomes
        the day it closed, unless the change sets one itself. A past close date stays (an
        imported history says when it closed)."""
        if merged.get("close_date") != current.close_date:
            return  # the caller set the close date
        today = as_utc(moment).date()
        if current.close_date is None or current.close_date > today:
            merged["close_date"] = today

    def _reopening(
        self,
        session: Session,
        merged: dict[str, Any],
        current: DealView,
        changes: Mapping[str, Any],
    ) -> None:
        """A closed deal reopened goes back to the stage, probability and close date it
        had before it closed (unless the change names them), so it counts in the
        forecast again as it did."""
        before = self._before_closing(session, current)
        if "stage" not in changes or merged.get("stage") == "closed":
            merged["stage"] = before.stage
        if "probability" not in changes:
            merged["probability"] = before.probability
        if "close_date" not in changes and before.close_date is not None:
            merged["close_date"] = before.close_date
        if "lost_reason" not in changes:
            merged["lost_reason"] = None

    @staticmethod
    def _before_closing(session: Session, deal: DealView) -> BeforeClosing:
        """What a closed deal was just before it left the open stages (its last move to
        ``closed``; won then lost is still one close), from its history. Without one (a
        deal entered closed): the first stage and its default probability."""
        closed_at = session.exec(
            select(func.max(DealEvent.changed_at)).where(
                DealEvent.deal_id == deal.id,
                DealEvent.field == "stage",
                DealEvent.new_value == "closed",
            )
        ).one()
        if closed_at is None:
            return BeforeClosing(OPEN_STAGES[0], None, None)
        before = dict(
            session.exec(
                select(DealEvent.field, DealEvent.old_value).where(
                    DealEvent.deal_id == deal.id, DealEvent.changed_at == closed_at
                )
            ).all()
        )
        stage = before.get("stage")
        if stage not in OPEN_STAGES:
            # Entered closed (its first stage event has no "from"): nothing to go back to.
            return BeforeClosing(OPEN_STAGES[0], None, None)
        # No probability event at that moment: closing did not change it.
        old_probability = before.get("probability", tracked_text(deal.probability))
        probability = int(float(old_probability)) if old_probability else None
        close_date = None
        if before.get("close_date"):
            close_date = parse_calendar_date(before["close_date"])
        return BeforeClosing(str(stage), probability, close_date)

    def before_closing(self, deal_id: uuid.UUID) -> tuple[str, int | None]:
        """Where a closed deal goes back to when reopened: (open stage, probability)."""
        with self.db.read() as session:
            before = self._before_closing(session, DealView.from_row(self._load(session, deal_id)))
            return before.stage, before.probability

    def reopen(self, deal_id: uuid.UUID, *, expected_version: int | None = None) -> DealView:
        """Reopen a won or lost deal at the stage and probability it had before closing."""
        return self.update(deal_id, {"outcome": None}, expected_version=expected_version)

    @staticmethod
    def _follow_stage(merged: dict[str, Any], changes: Mapping[str, Any]) -> None:
        """A stage change without an outcome implies one: ``won``/``lost`` close the deal
        that way, an open stage reopens it (clearing outcome and lost reason)."""
        try:
            stage, implied = normalise_stage(str(changes["stage"] or ""))
        except ValueError:
            return  # clean_deal reports the unknown stage
        if implied:
            merged["outcome"] = implied
            if implied != "lost" and "lost_reason" not in changes:
                merged["lost_reason"] = None
        elif stage in OPEN_STAGES:
            merged["outcome"] = None
            if "lost_reason" not in changes:
                merged["lost_reason"] = None

    @staticmethod
    def _apply(
        session: Session, row: Deal, current: DealView, clean: dict[str, Any], moment: datetime
    ) -> None:
        before = {**current.editable_fields(), "owner_id": current.owner_id}
        changed = {k: v for k, v in clean.items() if before.get(k) != v}
        if not changed:
            return
        if "owner_id" in changed:
            session.add(
                DealEvent(
                    deal_id=row.id,
                    field="owner",
                    old_value=tracked_text(before["owner_id"]),
                    new_value=tracked_text(changed["owner_id"]),
                    changed_at=moment,
                )
            )
        for field in TRACKED_FIELDS:
            if field in changed:
                session.add(
                    DealEvent(
                        deal_id=row.id,
                        field=field,
                        old_value=tracked_text(before[field]),
                        new_value=tracked_text(changed[field]),
                        changed_at=moment,
                    )
                )
        if "stage" in changed:
            row.stage_changed_at = moment
        if "outcome" in changed:
            row.closed_at = moment if changed["outcome"] else None
        for key, value in changed.items():
            setattr(row, key, value)
        row.updated_at = moment
        outbox.record(session, row.workspace_id, row.id, "upsert")

    def move_stage(
        self, deal_id: uuid.UUID, step: int, *, expected_version: int | None = None
    ) -> DealView:
        """Move an open deal one stage forward (+1) or back (-1) within the open stages."""
        deal = self.get(deal_id)
        if not deal.is_open:
            raise ValidationError([FieldError("stage", "the deal is closed; reopen it first")])
        index = OPEN_STAGES.index(deal.stage) + step
        if not 0 <= index < len(OPEN_STAGES):
            edge = "last" if step > 0 else "first"
            raise ValidationError(
                [
                    FieldError(
                        "stage",
                        f"{deal.stage} is the {edge} open stage; mark the deal won or lost instead"
                        if step > 0
                        else f"{deal.stage} is the {edge} stage",
                    )
                ]
            )
        return self.update(
            deal_id,
            {"stage": OPEN_STAGES[index]},
            expected_version=deal.version if expected_version is None else expected_version,
        )

    def mark_won(self, deal_id: uuid.UUID, *, expected_version: int | None = None) -> DealView:
        return self.update(
            deal_id,
            {"stage": "closed", "outcome": "won", "lost_reason": None, "probability": 100},
            expected_version=expected_version,
        )

    def mark_lost(
        self, deal_id: uuid.UUID, reason: str | None, *, expected_version: int | None = None
    ) -> DealView:
        return self.update(
            deal_id,
            {"stage": "closed", "outcome": "lost", "lost_reason": reason, "probability": 0},
            expected_version=expected_version,
        )

    def delete(self, deal_id: uuid.UUID | str, *, expected_version: int | None = None) -> None:
        with self.db.write() as session:
            row = self._load(session, deal_id)
            self._may_change(session, row, "delete")
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(
                    f"'{row.title}' was changed by someone else since you opened it; "
                    "reload before deleting",
                    current=DealView.from_row(row),
                )
            outbox.record(session, row.workspace_id, row.id, "delete")
            session.delete(row)
