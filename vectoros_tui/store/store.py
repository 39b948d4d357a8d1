"""The one object callers need: every service over one database."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sqlalchemy.exc import DatabaseError, OperationalError

from vectoros_tui import __version__
from vectoros_tui.store import migrate
from vectoros_tui.store.activities import ActivityService
from vectoros_tui.store.analytics import AnalyticsService
from vectoros_tui.store.database import Database, open_database, redact_url
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.errors import SchemaError, StoreError
from vectoros_tui.store.goals import GoalService
from vectoros_tui.store.insights import InsightService
from vectoros_tui.store.model_store import ModelStore
from vectoros_tui.store.owners import OwnerService
from vectoros_tui.store.roles import Actor
from vectoros_tui.store.workspaces import WorkspaceService


class DatabaseUnavailableError(StoreError):
    pass


@dataclass
class Store:
    db: Database
    # Who the writing services act for (see vectoros_tui.store.roles); None: the store itself.
    actor: Actor | None = None
    workspaces: WorkspaceService = field(init=False)
    deals: DealService = field(init=False)
    activities: ActivityService = field(init=False)
    insights: InsightService = field(init=False)
    analytics: AnalyticsService = field(init=False)
    goals: GoalService = field(init=False)
    models: ModelStore = field(init=False)
    owners: OwnerService = field(init=False)

    def __post_init__(self) -> None:
        self.workspaces = WorkspaceService(self.db, self.actor)
        self.deals = DealService(self.db, self.actor)
        self.activities = ActivityService(self.db, self.actor)
        self.insights = InsightService(self.db)
        self.models = ModelStore(self.db)
        self.owners = OwnerService(self.db)
        self.analytics = AnalyticsService(self.deals, self.insights, self.models, self.owners)
        self.goals = GoalService(self.db)

    def acting_as(self, actor: Actor | None) -> Store:
        """The same database and services, its changes checked against ``actor``'s role
        (the server makes one per request: only the writing services are new)."""
        other = copy.copy(self)
        other.actor = actor
        other.workspaces = WorkspaceService(self.db, actor)
        other.deals = DealService(self.db, actor, self.deals.open_records)
        other.activities = ActivityService(self.db, actor)
        other.analytics = AnalyticsService(other.deals, self.insights, self.models, self.owners)
        return other

    def close(self) -> None:
        self.db.dispose()


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open the database, creating or upgrading its schema unless ``upgrade`` is False.

    Raises :class:`DatabaseUnavailableError` (cannot connect) or :class:`SchemaError`
    (not migrated and ``upgrade`` is False) with messages fit for the user.
    """
    db = open_database(url)
    try:
        try:
            current = migrate.current_revision(db)
        except DatabaseError as exc:
            # The first read: a file that is not a SQLite database (or a damaged one) fails
            # here, and is the user's to replace or restore, not a crash to report.
            raise _unavailable(url, exc) from None
        if current is not None and not migrate.is_known_revision(current):
            raise SchemaError(
                f"the database has schema {current}, which is newer than this version of "
                f"VectorOS ({__version__}) knows; upgrade VectorOS to use it"
            )
        if current != migrate.head_revision():  # the usual start reads nothing more
            if not upgrade:
                raise SchemaError(
                    f"the database is at schema {current or 'none'}, this version needs "
                    f"{migrate.head_revision()}; run `vectoros doctor --upgrade`"
                )
            migrate.upgrade(db)
    except (SchemaError, DatabaseUnavailableError):
        db.dispose()
        raise
    except OperationalError as exc:
        db.dispose()
        raise _unavailable(url, exc) from None
    return Store(db)


def _unavailable(url: str, exc: DatabaseError) -> DatabaseUnavailableError:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return DatabaseUnavailableError(f"cannot open the database {redact_url(url)}: {reason}")
