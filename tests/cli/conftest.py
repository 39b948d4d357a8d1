"""The CLI tests' fixtures: ``cli(...)`` runs ``vectoros --db URL ...`` on each database."""

from __future__ import annotations

import pytest
from harness import Cli, Result, invoke


@pytest.fixture(autouse=True)
def _no_harness_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest keeps VECTOROS_TEST_PG_URL for itself (read at import); the CLI must not see it.
    monkeypatch.delenv("VECTOROS_TEST_PG_URL", raising=False)


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("deals", "list")`` runs ``vectoros --db URL deals list``."""

    def call(*args: object) -> Result:
        return invoke(capsys, ["--db", database_url, *(str(a) for a in args)])

    return call
