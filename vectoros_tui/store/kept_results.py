"""Whole-workspace results kept against the data they were computed from.

A forecast, the health scores or an insight regeneration of a 100,000-deal workspace
reads every open deal and takes a second or more; asked again before anything changed,
it would give the same answer. Each is kept with the workspace's two revisions (deals
and activities, moved by database triggers whichever process writes) and the day it was
computed for, and reused while all three still hold. The day bounds what moves with the
clock alone: deal ages, days to a close date, "no activity for 14 days".

The revisions are read before the result is computed: a change made while it computes
leaves the kept result older than the data it is labelled with, so the next read finds
the revisions moved and computes again. Never the other way round.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, NamedTuple

import orjson
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from vectoros_tui.plain_json import dumps
from vectoros_tui.store.database import Database
from vectoros_tui.store.kept_payload import pack, params_key, unpack
from vectoros_tui.store.tables import KeptResult, Workspace, utcnow

_KEPT = KeptResult.__table__  # type: ignore[attr-defined]
_log = logging.getLogger(__name__)


class Revision(NamedTuple):
    deals: int
    activities: int


def read_revision(db: Database, workspace_id: uuid.UUID) -> Revision | None:
    """The workspace's two revisions (None: no such workspace). A transaction of its own,
    never one that writes: Postgres bumps the revisions once per transaction, so within a
    writing transaction they stop moving after its first change, and a result labelled
    with them there could be stale."""
    with db.read() as session:
        row = session.execute(
            select(col(Workspace.deals_revision), col(Workspace.activities_revision)).where(
                col(Workspace.id) == workspace_id
            )
        ).first()
    return None if row is None else Revision(int(row[0]), int(row[1]))


class KeptResults:
    def __init__(self, db: Database) -> None:
        self.db = db

    def revision(self, workspace_id: uuid.UUID) -> Revision | None:
        return read_revision(self.db, workspace_id)

    def get(
        self, workspace_id: uuid.UUID, kind: str, params: str, day: date, revision: Revision
    ) -> Any | None:
        """The result kept for these parameters, if it was computed for ``day`` at
        ``revision``; else None."""
        found = self._for_day(workspace_id, kind, params, day)
        # Damaged (None): computed again, and the damaged row replaced.
        return None if found is None or found[1] != revision else unpack(found[0])

    def _for_day(
        self, workspace_id: uuid.UUID, kind: str, params: str, day: date
    ) -> tuple[bytes, Revision] | None:
        """The payload kept for these parameters and ``day``, and its revisions."""
        with self.db.read() as session:
            row = session.execute(
                select(
                    col(KeptResult.payload),
                    col(KeptResult.deals_revision),
                    col(KeptResult.activities_revision),
                ).where(
                    col(KeptResult.workspace_id) == workspace_id,
                    col(KeptResult.kind) == kind,
                    col(KeptResult.params) == params,
                    col(KeptResult.computed_for) == day,
                )
            ).first()
        return None if row is None else (bytes(row[0]), Revision(int(row[1]), int(row[2])))

    def keep(
        self,
        workspace_id: uuid.UUID,
        kind: str,
        params: str,
        day: date,
        revision: Revision,
        result: bytes,
    ) -> None:
        """Keep ``result`` (its JSON), and drop the results of this kind that no longer
        hold (another day or revision): at most one row per kind and parameters."""
        packed = pack(result)
        values = {
            "deals_revision": revision.deals,
            "activities_revision": revision.activities,
            "computed_for": day,
            "computed_at": utcnow(),
            "payload": packed,
        }
        insert = postgres_insert if self.db.engine.dialect.name == "postgresql" else sqlite_insert
        with self.db.write() as session:
            connection = session.connection()
            connection.execute(
                delete(_KEPT).where(
                    _KEPT.c.workspace_id == workspace_id,
                    _KEPT.c.kind == kind,
                    or_(
                        _KEPT.c.computed_for != day,
                        _KEPT.c.deals_revision != revision.deals,
                        _KEPT.c.activities_revision != revision.activities,
                    ),
                )
            )
            statement = insert(_KEPT).values(
                workspace_id=workspace_id, kind=kind, params=params, **values
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["workspace_id", "kind", "params"], set_=values
                )
            )

    def reuse_or_compute(
        self,
        workspace_id: uuid.UUID,
        kind: str,
        params: Mapping[str, Any],
        day: date | None,
        compute: Callable[[], Any],
        *,
        plain: bool = False,
        update: Callable[[Any], Any] | None = None,
    ) -> Any:
        """The result kept for ``params`` on ``day`` if the workspace has not changed since;
        else ``compute()``, kept for the next caller. Either way the caller gets the result
        as JSON gives it back (lists, not tuples; dates as text), so that a kept result and
        a fresh one are the same to it. ``day`` None: not one to keep (a moment given by
        the caller, a random seed), ``compute()`` as it comes.

        ``update``: given the result kept for ``day`` at earlier revisions, the new one;
        called instead of ``compute()`` when there is such a result (a forecast takes the
        rows of the deals that did not change from it).

        ``plain``: ``compute()`` gives JSON's own types only (its tests check that it reads
        back equal), so a fresh result is handed over as it is: decoding a team's 7 MB
        forecast again took a twentieth of the command."""
        if day is None:
            return compute()
        revision = self.revision(workspace_id)
        key = params_key(params)
        earlier = None
        if revision is not None:
            found = self._for_day(workspace_id, kind, key, day)
            if found is not None and found[1] == revision:
                kept = unpack(found[0])
                if kept is not None:
                    return kept
            elif found is not None and update is not None:
                earlier = unpack(found[0])
        result = compute() if update is None or earlier is None else update(earlier)
        try:
            text = dumps(result)
        except (TypeError, orjson.JSONEncodeError):
            return result  # what orjson refuses (an integer past 64 bits) is not kept
        if revision is not None:
            try:
                self.keep(workspace_id, kind, key, day, revision, text)
            except SQLAlchemyError:
                # Keeping saves the next caller time; the answer stands without it (a
                # database opened read-only, a writer holding the lock too long).
                _log.warning("could not keep the %s result", kind, exc_info=True)
        return result if plain else orjson.loads(text)
