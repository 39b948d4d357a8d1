"""The core (engine, store, similar, sync, CLI) must not pull in Textual; the engine not the store.

Checked in fresh interpreters, since this test session may already have imported anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

IMPORT_CORE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    imported = []
    for package in (
        "vectoros_tui.engine", "vectoros_tui.store", "vectoros_tui.similar", "vectoros_tui.sync"
    ):
        root = importlib.import_module(package)
        imported.append(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            importlib.import_module(info.name)
            imported.append(info.name)
    importlib.import_module("vectoros_tui.cli")
    imported.append("vectoros_tui.cli")
    loaded = sorted(sys.modules)
    print(json.dumps({"imported": imported, "loaded": loaded}))
    """
)

IMPORT_FORECAST = textwrap.dedent(
    """
    import json, sys
    import vectoros_tui.engine.forecast
    print(json.dumps(sorted(sys.modules)))
    """
)


def _python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTOROS_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _from(package: str, modules: list[str]) -> list[str]:
    return [m for m in modules if m == package or m.startswith(package + ".")]


@pytest.fixture(scope="module")
def core() -> dict[str, list[str]]:
    return json.loads(_python(IMPORT_CORE))


def test_every_core_module_imports(core: dict[str, list[str]]) -> None:
    imported = core["imported"]
    for expected in (
        "vectoros_tui.engine.forecast",
        "vectoros_tui.engine.health",
        "vectoros_tui.engine.insights",
        "vectoros_tui.store.store",
        "vectoros_tui.store.deals",
        "vectoros_tui.store.csv_import",
        "vectoros_tui.store.csv_export",
        "vectoros_tui.sync",
        "vectoros_tui.cli",
    ):
        assert expected in imported


def test_core_does_not_import_textual(core: dict[str, list[str]]) -> None:
    assert _from("textual", core["loaded"]) == []
    screens = _from("vectoros_tui.screens", core["loaded"]) + _from(
        "vectoros_tui.widgets", core["loaded"]
    )
    assert screens == []


def test_forecast_engine_does_not_import_the_store() -> None:
    loaded = json.loads(_python(IMPORT_FORECAST))
    assert _from("sqlalchemy", loaded) == []
    assert _from("sqlmodel", loaded) == []
    assert _from("vectoros_tui.store", loaded) == []
    assert _from("textual", loaded) == []


IMPORT_FIRST_FRAME = textwrap.dedent(
    """
    import json, sys
    import vectoros_tui.launch, vectoros_tui.config_sources, vectoros_tui.logfile
    import vectoros_tui.store.quick_start, vectoros_tui.app, vectoros_tui.screens.pipeline
    print(json.dumps(sorted(sys.modules)))
    """
)


def test_the_first_frame_needs_no_database_library() -> None:
    """`vectoros` paints the board before SQLAlchemy/SQLModel/Alembic/click are imported
    (together they take longer than the 1 s the first paint may take)."""
    loaded = json.loads(_python(IMPORT_FIRST_FRAME))
    assert "textual.app" in loaded  # the app really was imported
    for heavy in ("sqlalchemy", "sqlmodel", "alembic", "click", "numpy", "psycopg", "pydantic"):
        assert _from(heavy, loaded) == [], heavy
