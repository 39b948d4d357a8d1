"""A workspace's activities across a sync, with a backend that has activity routes
(``vectoros serve``), after its deals went both ways.

Each synced activity is linked to its remote twin (:class:`SyncActivityLink`) with the
fields both sides agreed on at the last sync, so a re-sync recognises it and never adds it
twice. Local changes wait in the activity outbox, noted with the change itself.

* Pushed: an activity added here (or before the workspace was linked) is added to the
  remote twin of its deal with its own id as the client's id, so a retry whose answer was
  lost is recognised there; one changed here is sent whole; one deleted here is deleted
  there. An activity changed on both sides since the last sync keeps the fields each side
  changed, and for a field both changed, the rep's own (the report says so).
* Pulled: an activity there that is not linked is added to its deal here; one changed only
  there is changed here; one gone there is deleted here, unless its deal is gone there too
  (a deal in conflict, perhaps kept: then the activity goes again with it).

A refusal of one activity (a member's change to a colleague's deal: 403) is reported for
that activity, which stays queued; the others go on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from vectoros_tui.store.database import Database
from vectoros_tui.store.outbox import APPLYING_REMOTE
from vectoros_tui.store.tables import (
    Activity,
    Deal,
    SyncActivityLink,
    SyncActivityOutbox,
    SyncLink,
)
from vectoros_tui.store.validation import ValidationError, clean_activity
from vectoros_tui.sync.backend import ActivityBackend
from vectoros_tui.sync.errors import RemoteError
from vectoros_tui.sync.records import Record
from vectoros_tui.sync.remote_activities import ACTIVITY_FIELDS, RemoteActivity, moment_text
from vectoros_tui.sync.reports import SyncReport


def activity_record(row: Activity) -> Record:
    return {
        "type": row.type,
        "description": row.description,
        "date": moment_text(row.date),
        "done": row.done,
    }


@dataclass
class _State:
    """The workspace's side of the activities, read in one go before pushing."""

    remote_deal_of: dict[uuid.UUID, str]  # local deal id -> its remote twin's id
    deal_titles: dict[uuid.UUID, str]
    activities: dict[uuid.UUID, Activity]
    links: dict[uuid.UUID, tuple[str, Record]]  # activity id -> (remote id, base)
    queued: dict[uuid.UUID, datetime]  # the activity outbox: id -> when queued
    pending: list[uuid.UUID] = field(default_factory=list)


def sync_activities(
    db: Database,
    clock: Callable[[], datetime],
    workspace_id: uuid.UUID,
    remote_workspace: str,
    backend: ActivityBackend,
    remote_deal_ids: set[str],
    report: SyncReport,
) -> None:
    """Push the activities changed here, then pull those changed there. ``remote_deal_ids``:
    the deals the backend has now (an activity goes only to a deal that is there)."""
    theirs = {a.id: a for a in backend.list_activities(remote_workspace)}
    state = _read_state(db, workspace_id)
    run = _ActivitySync(db, clock, workspace_id, backend, remote_deal_ids, theirs, report)
    for activity_id in state.pending:
        try:
            run.push_one(state, activity_id)
        except RemoteError as exc:
            report.problems.append(
                f"activity {activity_id} ({run.describe(state, activity_id)}): the backend "
                f"refused it: {exc}"
            )
    run.pull()


def _read_state(db: Database, workspace_id: uuid.UUID) -> _State:
    with db.read() as session:
        deals = session.exec(
            select(Deal.id, Deal.title).where(Deal.workspace_id == workspace_id)
        ).all()
        remote_deal_of = dict(
            session.exec(
                select(SyncLink.deal_id, SyncLink.remote_id).where(
                    SyncLink.workspace_id == workspace_id
                )
            ).all()
        )
        activities = {
            row.id: row
            for row in session.exec(
                select(Activity)
                .join(Deal, col(Deal.id) == Activity.deal_id)
                .where(Deal.workspace_id == workspace_id)
                .order_by(col(Activity.created_at), col(Activity.id))
            )
        }
        links = {
            activity_id: (remote_id, dict(base))
            for activity_id, remote_id, base in session.exec(
                select(
                    SyncActivityLink.activity_id,
                    SyncActivityLink.remote_id,
                    SyncActivityLink.base,
                ).where(SyncActivityLink.workspace_id == workspace_id)
            ).all()
        }
        queued = dict(
            session.exec(
                select(SyncActivityOutbox.activity_id, SyncActivityOutbox.changed_at)
                .where(SyncActivityOutbox.workspace_id == workspace_id)
                .order_by(col(SyncActivityOutbox.changed_at))
            ).all()
        )
        session.expunge_all()
    never_pushed = [a for a in activities if a not in links and a not in queued]
    return _State(
        remote_deal_of,
        dict(deals),
        activities,
        links,
        queued,
        [*queued, *never_pushed],
    )


class _ActivitySync:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        workspace_id: uuid.UUID,
        backend: ActivityBackend,
        remote_deal_ids: set[str],
        theirs: dict[str, RemoteActivity],
        report: SyncReport,
    ) -> None:
        self.db = db
        self.clock = clock
        self.workspace_id = workspace_id
        self.backend = backend
        self.remote_deal_ids = remote_deal_ids
        self.theirs = theirs
        self.report = report

    @staticmethod
    def describe(state: _State, activity_id: uuid.UUID) -> str:
        row = state.activities.get(activity_id)
        if row is None:
            return "deleted here"
        title = state.deal_titles.get(row.deal_id, "?")
        return f"{row.type} {row.description[:40]!r} on {title!r}"

    # -- pushing ---------------------------------------------------------------------------

    def push_one(self, state: _State, activity_id: uuid.UUID) -> None:
        row = state.activities.get(activity_id)
        link = state.links.get(activity_id)
        stamp = state.queued.get(activity_id)
        if row is None:  # deleted here
            if link is not None and link[0] in self.theirs:
                self.backend.delete_activity(link[0])
                del self.theirs[link[0]]
                self.report.pushed_activities += 1
            self._settle(activity_id, stamp, None)
            return
        remote_deal = state.remote_deal_of.get(row.deal_id)
        if remote_deal is None or remote_deal not in self.remote_deal_ids:
            return  # its deal is not there (yet): the activity waits for it
        mine = activity_record(row)
        if link is None and str(activity_id) in self.theirs:
            # Added there by an earlier push whose link was never noted here.
            earlier = self.theirs[str(activity_id)]
            link = (earlier.id, earlier.record())
        there = self.theirs.get(link[0]) if link is not None else None
        if there is None:
            if link is not None and mine == link[1]:
                # Deleted there, unchanged here: the pull deletes it here.
                self._settle(activity_id, stamp, link[0], link[1])
                state.queued.pop(activity_id, None)
                return
            # Never pushed, or deleted there after a change here, which is kept.
            created = self.backend.create_activity(remote_deal, str(activity_id), mine)
            self.theirs[created.id] = created
            self._settle(activity_id, stamp, created.id, created.record())
            self.report.pushed_activities += 1
            return
        assert link is not None
        remote_id, base = link
        current = there.record()
        if mine in (current, base):
            # Nothing of mine to send (what changed there, if anything, the pull applies).
            self._settle(activity_id, stamp, remote_id, current if mine == current else base)
            if mine == base:
                state.queued.pop(activity_id, None)
            return
        merged = {
            name: mine[name] if mine[name] != base.get(name) else current[name]
            for name in ACTIVITY_FIELDS
        }
        both = [
            name
            for name in ACTIVITY_FIELDS
            if mine[name] != base.get(name)
            and current[name] != base.get(name)
            and mine[name] != current[name]
        ]
        updated = there
        if merged != current:
            updated = self.backend.update_activity(remote_id, merged)
            self.theirs[remote_id] = updated
            self.report.pushed_activities += 1
        self._settle(activity_id, stamp, remote_id, updated.record(), local=merged, mine=mine)
        if both:
            self.report.notes.append(
                f"activity {self.describe(state, activity_id)} was changed here and on the "
                f"backend since the last sync: yours kept for {', '.join(both)}"
            )

    def _settle(
        self,
        activity_id: uuid.UUID,
        stamp: datetime | None,
        remote_id: str | None,
        base: Record | None = None,
        *,
        local: Record | None = None,
        mine: Record | None = None,
    ) -> None:
        """After a push: the outbox entry done (unless changed again since), the link and
        its new base (None: forget it), and ``local`` applied here when it is not ``mine``
        (a merge took fields from there)."""
        with self.db.write() as session:
            session.info[APPLYING_REMOTE] = True
            queued = session.get(SyncActivityOutbox, activity_id)
            if queued is not None and stamp is not None and queued.changed_at <= stamp:
                session.delete(queued)
            link = session.get(SyncActivityLink, activity_id)
            if remote_id is None or base is None:
                if link is not None:
                    session.delete(link)
                return
            if link is None:
                session.add(
                    SyncActivityLink(
                        activity_id=activity_id,
                        workspace_id=self.workspace_id,
                        remote_id=remote_id,
                        base=base,
                        synced_at=self.clock(),
                    )
                )
            else:
                link.remote_id, link.base, link.synced_at = remote_id, base, self.clock()
            if local is not None and local != mine:
                row = session.get(Activity, activity_id)
                if row is not None and activity_record(row) == mine:
                    _apply(row, local, self.clock())

    # -- pulling ---------------------------------------------------------------------------

    def pull(self) -> None:
        """Apply what changed only there, in one transaction (nothing of it is noted in the
        outbox: it came from there)."""
        now = self.clock()
        with self.db.write() as session:
            session.info[APPLYING_REMOTE] = True
            links = {
                link.remote_id: link
                for link in session.exec(
                    select(SyncActivityLink).where(
                        SyncActivityLink.workspace_id == self.workspace_id
                    )
                )
            }
            queued = set(
                session.exec(
                    select(SyncActivityOutbox.activity_id).where(
                        SyncActivityOutbox.workspace_id == self.workspace_id
                    )
                ).all()
            )
            deal_of_remote = dict(
                session.exec(
                    select(SyncLink.remote_id, SyncLink.deal_id).where(
                        SyncLink.workspace_id == self.workspace_id
                    )
                ).all()
            )
            deals_here = set(
                session.exec(select(Deal.id).where(Deal.workspace_id == self.workspace_id)).all()
            )
            for there in self.theirs.values():
                deal_id = deal_of_remote.get(there.deal_id)
                if deal_id is None or deal_id not in deals_here:
                    continue  # its deal is not here (deleted here, or refused when pulled)
                link = links.get(there.id)
                try:
                    if link is None:
                        self._add_here(session, deal_id, there, now)
                    elif link.activity_id not in queued:
                        self._change_here(session, link, there, now)
                except ValidationError as exc:
                    self.report.problems.append(
                        f"remote activity {there.id} ({there.type} {there.description[:40]!r})"
                        f" was not taken: {exc}"
                    )
            remote_of_deal = {deal_id: remote for remote, deal_id in deal_of_remote.items()}
            for remote_id, link in links.items():
                if remote_id not in self.theirs and link.activity_id not in queued:
                    self._gone_there(session, link, remote_of_deal)

    def _add_here(
        self, session: Session, deal_id: uuid.UUID, there: RemoteActivity, now: datetime
    ) -> None:
        record = there.record()
        row = Activity(deal_id=deal_id, **clean_activity(record), created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        # Its base is theirs as sent: a value this store keeps otherwise (trimmed) is not a
        # change to push back.
        session.add(
            SyncActivityLink(
                activity_id=row.id,
                workspace_id=self.workspace_id,
                remote_id=there.id,
                base=record,
                synced_at=now,
            )
        )
        self.report.pulled_activities += 1

    def _change_here(
        self, session: Session, link: SyncActivityLink, there: RemoteActivity, now: datetime
    ) -> None:
        current = there.record()
        base = dict(link.base)
        if current == base:
            return
        row = session.get(Activity, link.activity_id)
        if row is None:
            return  # deleted here: its push deletes it there
        if activity_record(row) == base:
            _apply(row, current, now)
            self.report.pulled_activities += 1
        link.base, link.synced_at = current, now

    def _gone_there(
        self, session: Session, link: SyncActivityLink, remote_of_deal: Mapping[uuid.UUID, str]
    ) -> None:
        row = session.get(Activity, link.activity_id)
        if row is not None:
            remote_deal = remote_of_deal.get(row.deal_id)
            if remote_deal is None or remote_deal not in self.remote_deal_ids:
                # Its deal is gone there too: forgetting the link lets the activity go
                # again with the deal, if the rep keeps it.
                session.delete(link)
                return
            session.delete(row)
            self.report.pulled_activities += 1
        session.delete(link)


def _apply(row: Activity, record: Mapping[str, Any], now: datetime) -> None:
    for name, value in clean_activity(record).items():
        setattr(row, name, value)
    row.updated_at = now


def forget_activities(session: Session, workspace_id: uuid.UUID) -> None:
    """Unlinking a workspace: no activity outbox, no activity links left."""
    for table in (SyncActivityOutbox, SyncActivityLink):
        session.execute(delete(table).where(col(table.workspace_id) == workspace_id))
