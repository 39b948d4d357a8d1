"""Shared fixtures: every store test runs against SQLite and against Postgres.

Postgres is the machine's server on 127.0.0.1:5432 (override with VECTOROS_TEST_PG_URL).
In CI (CI=true) an unreachable Postgres fails the run; elsewhere those tests skip, saying
why. Each test session uses its own schema, migrated once and truncated between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from vectoros_tui.store import migrate
from vectoros_tui.store.database import open_database
from vectoros_tui.store.store import Store

PG_BASE_URL = os.environ.get(
    "VECTOROS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TABLES = (
    "insights",
    "activities",
    "deal_events",
    "deals",
    "workspace_members",
    "workspaces",
    "users",
)


def _pg_reachable() -> str | None:
    dsn = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def pg_schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_BASE_URL else "?"
    return f"{PG_BASE_URL}{separator}options=-csearch_path%3D{schema}"


def create_pg_schema() -> tuple[str, str]:
    """A fresh empty schema; returns (schema, url whose search_path is that schema)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, pg_schema_url(schema)


def drop_pg_schema(schema: str) -> None:
    dsn = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def require_postgres() -> None:
    problem = _pg_reachable()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"CI needs PostgreSQL at {PG_BASE_URL}, but it is unreachable: {problem}")
    pytest.skip(f"PostgreSQL at {PG_BASE_URL} is unreachable ({problem}); it runs in CI")


@pytest.fixture(scope="session")
def builtin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in embedding model's folder, built once for the session (about 3 s)."""
    from vectoros_tui.similar.embedder import prepare_builtin

    return prepare_builtin(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, builtin_model: Path
) -> Path:
    """No test reads the developer's own config or database. The built-in model is linked
    into the fresh cache folder, as if an earlier run had built it (tests of the building
    itself use folders of their own)."""
    home = tmp_path_factory.mktemp("vectoros-home")
    models = home / "cache" / "models"
    models.mkdir(parents=True)
    (models / builtin_model.name).symlink_to(builtin_model, target_is_directory=True)
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
    url = request.getfixturevalue("pg_session_url")
    db = open_database(url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} CASCADE")
    db.dispose()
    yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    from vectoros_tui.store.store import open_store

    opened = open_store(database_url, upgrade=False)
    yield opened
    opened.close()


@pytest.fixture
def workspace(store: Store):
    return store.workspaces.create("Test")
