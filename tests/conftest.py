"""Shared fixtures: every store test runs against SQLite and against Postgres.

Postgres is the machine's server on 127.0.0.1:5432 (override with VECTOROS_TEST_PG_URL).
In CI (CI=true) an unreachable Postgres fails the run; elsewhere those tests skip, saying
why. Each test session uses its own schema, migrated once and truncated between tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pg_schemas import TABLES, create_pg_schema, drop_pg_schema, require_postgres

from vectoros_tui.store import migrate
from vectoros_tui.store.database import open_database
from vectoros_tui.store.store import Store


@pytest.fixture(scope="session")
def builtin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in embedding model's folder, built once per test process (about 3 s), and
    only in processes that run a test needing it."""
    from vectoros_tui.similar.embedder import prepare_builtin

    return prepare_builtin(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="session")
def link_model(builtin_model: Path) -> Callable[[Path], None]:
    """``link_model(cache_dir)``: the cache folder holds the built model, as if an earlier
    run there had built it."""

    def link(cache_dir: Path) -> None:
        models = cache_dir / "models"
        models.mkdir(parents=True, exist_ok=True)
        (models / builtin_model.name).symlink_to(builtin_model, target_is_directory=True)

    return link


@pytest.fixture
def model_in_home(isolated_home: Path, link_model: Callable[[Path], None]) -> Path:
    """For tests that run the built-in model from the app's own folders (tests of the
    building itself use folders of their own)."""
    link_model(isolated_home / "cache")
    return isolated_home


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No test reads the developer's own config or database."""
    home = tmp_path_factory.mktemp("vectoros-home")
    for name in list(os.environ):
        if name.startswith("VECTOROS_") and name != "VECTOROS_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("VECTOROS_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = open_database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    require_postgres()
    schema, url = create_pg_schema()
    db = open_database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    drop_pg_schema(schema)


@pytest.fixture(scope="session")
def empty_pg(pg_session_url: str) -> Iterator[Callable[[], None]]:
    """``empty_pg()`` deletes every row of the session's schema (the schema stays migrated).

    DELETE with triggers and foreign-key checks off (session_replication_role) takes about
    1 ms on these small tables; TRUNCATE takes ~55 ms, as it makes new files for each."""
    import psycopg

    conn = psycopg.connect(pg_session_url.replace("postgresql+psycopg://", "postgresql://"))
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'"
        )
    ]
    conn.commit()
    missing = set(TABLES) - set(tables)
    assert not missing, f"tables not in the schema: {missing}"

    def empty() -> None:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                conn.execute(f'DELETE FROM "{table}"')

    yield empty
    conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "vectoros.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    request.getfixturevalue("empty_pg")()
    yield request.getfixturevalue("pg_session_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    from vectoros_tui.store.store import open_store

    opened = open_store(database_url, upgrade=False)
    yield opened
    opened.close()


@pytest.fixture
def workspace(store: Store):
    return store.workspaces.create("Test")
