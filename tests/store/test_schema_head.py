"""Start-up compares the database with migrate.SCHEMA_HEAD instead of reading the Alembic
scripts; the constant must name the newest script."""

from vectoros_tui.store import migrate


def test_schema_head_is_the_newest_migration_script() -> None:
    assert migrate.script_head_revision() == migrate.SCHEMA_HEAD
