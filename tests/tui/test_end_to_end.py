"""The real `vectoros` entry point in a pseudo-terminal: it opens the pipeline on the
default database and quits cleanly on ctrl+q."""

from __future__ import annotations

import os
import re
import sys
import time
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


def test_in_16_colours_the_accent_and_the_marks_keep_their_own_colours(
    isolated_home: Path,
) -> None:
    """The real app under TERM=xterm (16 colours, as over many SSH sessions), its screen
    read cell by cell by a terminal emulator: the focused column's frame is in the accent
    (magenta), red is used for overdue marks only, ageing marks are yellow."""
    import pyte

    (isolated_home / "data").mkdir()
    store = open_store(f"sqlite:///{isolated_home / 'data' / 'vectoros.sqlite3'}")
    create_demo_workspace(store.db, deals=60, seed=5)
    store.close()
    env = {**os.environ, "VECTOROS_HOME": str(isolated_home), "TERM": "xterm"}
    env.pop("COLORTERM", None)
    process = TerminalProcess(vectoros_command(), env, size=(80, 24))
    try:
        process.wait_for("as of", timeout=30)
        process.read_for(1.0)  # whatever is still on its way after the scored board
        shown = process.output
        process.send("\x11")
        assert process.wait_exit(timeout=15) == 0
    finally:
        process.kill()
    # Only the 16 colours: no 256-colour or truecolour sequences at all.
    assert b"\x1b[38;5;" not in shown and b"\x1b[38;2;" not in shown

    screen = pyte.Screen(80, 24)
    pyte.ByteStream(screen).feed(shown)
    cells = [[screen.buffer[y][x] for x in range(80)] for y in range(24)]
    rows = ["".join(cell.data for cell in row) for row in cells]
    top = next(y for y, row in enumerate(rows) if row.startswith("╭"))
    assert "Prospect" in rows[top + 1]  # the board, its first column focused
    frame = rows[top].index("╮") + 1  # the first column's width
    focused = {cells[top][x].fg for x in range(frame)}
    others = {cells[top][x].fg for x in range(frame, 80) if rows[top][x] in "╭╮─"}
    assert focused == {"brightmagenta"}, focused
    assert "brightmagenta" not in others

    # Red runs of cells, each of which must be an overdue mark: a column's "!3" (or
    # "!3 overdue"), a card's "!" (or "!~", overdue and ageing at once), a card's next
    # step past its due date ("⚑ step overdue").
    red_runs: list[str] = []
    for y in range(24):
        colours = "".join("R" if c.fg in ("red", "brightred") else "." for c in cells[y])
        red_runs += [rows[y][m.start() : m.end()] for m in re.finditer("R+", colours)]
    assert red_runs, "the demo has an overdue deal, marked in red"
    for run in red_runs:
        assert re.fullmatch(r"!(\d+( overdue)?|~)?|⚑ step overdue", run.strip()), red_runs
    ageing = [
        cells[y][x].fg
        for y in range(top, 24)
        for x in range(1, 80)
        if rows[y][x] == "~" and rows[y][x - 1] != "!"  # "!~" is red: overdue comes first
    ]
    # pyte calls ANSI yellow "brown".
    assert ageing and set(ageing) == {"brown"}, ageing
    # A missing next step is a warning too, in words as well as in yellow.
    missing = [cells[y][x].fg for y in range(top, 24) for x in range(80) if rows[y][x] == "⚐"]
    assert set(missing) <= {"brown"}, missing
    # The focused card is bright text on blue, its marks included: on the cyan and bright
    # black that the true-colour theme is reduced to, yellow and red could not be read.
    cursor = [cell for row in cells for cell in row if cell.bg == "blue" and cell.data.strip()]
    assert cursor, "the focused column's first card is the cursor"
    assert {cell.fg for cell in cursor} <= {
        "brightwhite",
        "brightred",
        "brown",
        "green",
    }
    assert not any(cell.bg in ("cyan", "brightblack") for row in cells for cell in row)


def test_a_terminal_that_goes_away_ends_the_app(isolated_home: Path) -> None:
    """A dropped SSH session or a killed tmux server: no hangup signal reaches an app
    started under another process (`make run`), here modelled by ignoring it. The app must
    notice by itself and leave, not spin on the dead terminal for as long as it lives."""
    (isolated_home / "data").mkdir()
    store = open_store(f"sqlite:///{isolated_home / 'data' / 'vectoros.sqlite3'}")
    create_demo_workspace(store.db, deals=60, seed=5)
    store.close()
    env = {**os.environ, "VECTOROS_HOME": str(isolated_home), "TERM": "xterm-256color"}
    script = (
        "import signal; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
        "from vectoros_tui.launch import main; main()"
    )
    process = TerminalProcess([sys.executable, "-c", script], env, size=(80, 24))
    try:
        process.wait_for("as of", timeout=30)
        os.close(process.fd)  # the terminal's other end is gone
        deadline = time.monotonic() + 15
        status = None
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(process.pid, os.WNOHANG)
            status = code if done else None
            time.sleep(0.05)
        assert status is not None, "the app kept running on a terminal that had gone away"
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        process.kill()
    logged = "".join(p.read_text() for p in (isolated_home / "logs").glob("*.log"))
    assert "the terminal has gone away; quitting" in logged
