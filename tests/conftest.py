"""Shared fixtures: every store test runs against SQLite and against Postgres.

Postgres is the machine's server on 127.0.0.1:5432 (override with VECTOROS_TEST_PG_URL).
In CI (CI=true) an unreachable Postgres fails the run; elsewhere those tests skip, saying
why. Each test session uses its own schema, migrated once and truncated between tests.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pg_schemas import TABLES, create_pg_schema, drop_pg_schema, require_postgres

from vectoros_tui.store import migrate
from vectoros_tui.store.database import open_database
from vectoros_tui.store.store import Store, open_store


def pytest_collection_finish(session: pytest.Session) -> None:
    """Python's cyclic collector, tuned as the app tunes it while a rep works
    (vectoros_tui.memory): what is imported by now lives as long as the process, so it is
    frozen out of the collections, and the youngest generation is collected every 50,000
    allocations instead of 700. Each Pilot test builds and discards an app of ~200,000
    objects; with the defaults the collector walked them again and again, a third of the
    suite's CPU time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Freeze what the run leaves behind before pytest's last cleanup collects cycles five
    times over (to surface late unraisable exceptions): over a worker's heap after
    thousands of tests that took ~10 s of CPU per worker at the very end of the run. What
    the tests themselves leave unraisable was reported after each test already."""
    gc.freeze()


@pytest.fixture(scope="session")
def builtin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in embedding model's folder, built once for the whole run (about 3 s of
    CPU), and only when a test needs it: pytest-xdist's workers share one build through
    the run's common temporary folder, the first to get the lock builds it."""
    import fcntl

    from vectoros_tui.similar.embedder import prepare_builtin

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder all workers of this run have in common
    cache = root / "shared-model-cache"
    cache.mkdir(exist_ok=True)
    with (root / "shared-model-cache.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return prepare_builtin(cache)


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
    # The app's theme follows the terminal's colours: every test sees the same terminal
    # (one with true colour) unless it asks for another.
    monkeypatch.setenv("COLORTERM", "truecolor")
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
def other_process(database_url: str) -> Iterator[Store]:
    """A second store on the same database: another process (the CLI, a sync)."""
    opened = open_store(database_url, upgrade=False)
    yield opened
    opened.close()


@pytest.fixture
def workspace(store: Store):
    return store.workspaces.create("Test")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Store]:
    """A migrated database of the test module's own, of each kind: for modules that build
    one big workspace and read it in many tests (the store fixture empties its tables
    before each test)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "vectoros.sqlite3"
        shutil.copy(sqlite_template, path)
        store = open_store(f"sqlite:///{path}", upgrade=False)
        yield store
        store.close()
        return
    require_postgres()
    schema, url = create_pg_schema()
    store = open_store(url, upgrade=True)
    yield store
    store.close()
    drop_pg_schema(schema)
