"""The Postgres the tests use: the machine's server on 127.0.0.1:5432 (override with
VECTOROS_TEST_PG_URL). In CI (CI=true) an unreachable Postgres fails the run; elsewhere those
tests skip, saying why. Each test process works in a schema of its own."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

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
