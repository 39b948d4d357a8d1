"""Schema migrations (Alembic), run on demand by the CLI and the app at start-up.

A new database is created by running every migration; an old one is upgraded in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from vectoros_tui.store.database import Database

# The newest migration. Checked against the scripts by a test; lets start-up tell whether
# the schema is current without importing Alembic (a tenth of a second) every time.
from vectoros_tui.store.revision import SCHEMA_HEAD

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Arbitrary constant: serialises concurrent upgrades of one Postgres database.
_PG_MIGRATION_LOCK = 0x7645_6374


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    return SCHEMA_HEAD


def script_head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """False for a revision written by a newer VectorOS (not among our migrations)."""
    if revision == SCHEMA_HEAD:
        return True
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return any(script.revision == revision for script in scripts.walk_revisions())


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_up_to_date(db: Database) -> bool:
    return current_revision(db) == head_revision()


def _run(db: Database, action: str, revision: str) -> None:
    config = alembic_config()
    if db.is_sqlite:
        # Batch migrations rebuild tables (copy, drop, rename). With foreign keys on, the
        # DROP would cascade-delete child rows, so they are off while migrating and checked
        # afterwards. The pragma only takes effect outside a transaction.
        with db.engine.connect() as connection:
            # Straight to the driver: SQLAlchemy would wrap the pragma in a transaction.
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys = OFF")
            try:
                with connection.execution_options(vectoros_immediate=True).begin():
                    _invoke(config, connection, action, revision)
                problems = raw.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"migration left broken foreign keys: {problems[:5]}")
            finally:
                raw.execute("PRAGMA foreign_keys = ON")
        return
    with db.engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        _invoke(config, connection, action, revision)


def _invoke(config: Config, connection: Connection, action: str, revision: str) -> None:
    from alembic import command

    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def upgrade(db: Database, revision: str = "head") -> None:
    if revision == "head" and current_revision(db) == SCHEMA_HEAD:
        return  # the common case at every start: nothing to do, no Alembic import
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    _run(db, "downgrade", revision)
