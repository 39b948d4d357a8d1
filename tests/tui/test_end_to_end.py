"""The real `vectoros` entry point in a pseudo-terminal: it opens the pipeline on the
default database and quits cleanly on ctrl+q."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from tui_process import TerminalProcess, vectoros_command

from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store


@pytest.mark.parametrize("term", ["xterm-256color", "xterm"])
def test_vectoros_opens_the_pipeline_and_quits_cleanly(isolated_home: Path, term: str) -> None:
    (isolated_home / "data").mkdir()
    store = open_store(f"sqlite:///{isolated_home / 'data' / 'vectoros.sqlite3'}")
    create_demo_workspace(store.db, deals=60, seed=5)
    store.close()
    env = {**os.environ, "VECTOROS_HOME": str(isolated_home), "TERM": term}
    env.pop("COLORTERM", None)  # as over SSH: OpenSSH does not forward it
    process = TerminalProcess(vectoros_command(), env, size=(80, 24))
    try:
        process.wait_for("Prospect", timeout=30)
        process.wait_for("open deals", timeout=30)
        # The board is first painted from a quick read of the file; then the store opens
        # and the scored snapshot replaces it.
        process.wait_for("as of", timeout=30)
        process.send("\x11")  # ctrl+q
        assert process.wait_exit(timeout=15) == 0
    finally:
        process.kill()
    assert b"Traceback" not in process.output


def test_vectoros_on_an_empty_database_offers_the_demo(isolated_home: Path) -> None:
    env = {**os.environ, "VECTOROS_HOME": str(isolated_home), "TERM": "xterm-256color"}
    process = TerminalProcess(vectoros_command(), env, size=(100, 30))
    try:
        process.wait_for("demo", timeout=30)
        process.send("\x11")
        assert process.wait_exit(timeout=15) == 0
    finally:
        process.kill()


def _demo_home(home: Path) -> dict[str, str]:
    (home / "data").mkdir()
    store = open_store(f"sqlite:///{home / 'data' / 'vectoros.sqlite3'}")
    create_demo_workspace(store.db, deals=40, seed=5)
    create_demo_workspace(store.db, deals=30, seed=6, name="Renewals")
    store.close()
    return {**os.environ, "VECTOROS_HOME": str(home), "TERM": "xterm-256color"}


def test_vectoros_honours_the_config_file(isolated_home: Path) -> None:
    """With a config file the settings are validated before the first frame: the chosen
    workspace opens (not the first by name)."""
    env = _demo_home(isolated_home)
    (isolated_home / "config").mkdir(exist_ok=True)
    (isolated_home / "config" / "config.toml").write_text(
        'workspace = "Renewals"\n[ui]\ntheme = "nord"\n'
    )
    process = TerminalProcess(vectoros_command(), env, size=(100, 30))
    try:
        process.wait_for("Renewals: ", timeout=30)  # the status line names the workspace
        process.wait_for("as of", timeout=30)
        process.send("\x11")
        assert process.wait_exit(timeout=15) == 0
    finally:
        process.kill()


def test_vectoros_with_a_broken_config_says_what_is_wrong(isolated_home: Path) -> None:
    env = _demo_home(isolated_home)
    (isolated_home / "config").mkdir(exist_ok=True)
    (isolated_home / "config" / "config.toml").write_text("[forecast]\nsimulations = 3\n")
    process = TerminalProcess(vectoros_command(), env, size=(100, 30))
    try:
        process.wait_for("forecast.simulations", timeout=30)
        assert process.wait_exit(timeout=15) == 2
    finally:
        process.kill()
    assert b"Traceback" not in process.output
