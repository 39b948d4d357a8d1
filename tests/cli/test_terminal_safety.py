"""Stored text never drives a terminal: hostile strings are refused on every way in, and
text that is already stored (or came from elsewhere) is shown as visible escapes on every
way out. JSON stays the exact JSON value.

Ways in here: `deals add` (each text field), `workspace create`, `activity add`, CSV import.
The REST API and sync have their own tests beside their code's other tests.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest
from harness import Cli, all_deals, ok, one_line, user_error
from sqlalchemy import text

from vectoros_tui.store.store import open_store
from vectoros_tui.text_safety import unsafe_character, visible

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from tui_process import TerminalProcess, vectoros_command

HOSTILE = {
    "OSC title": "EVIL\x1b]0;pwned\x07",
    "CSI clear": "EVIL\x1b[2J",
    "BEL": "EVIL\x07bell",
    "8-bit CSI": "EVIL\x9b2J",
    "NUL": "EVIL\x00nul",
    "RLO": "EVIL\u202etxt.exe",
}
# What may never reach a terminal raw (the escapes' own text, "\\x1b", is fine).
RAW = ("\x1b", "\x07", "\x9b", "\x00", "\x01", "\u202e")
CASES = list(HOSTILE.items())


def no_raw(output: str) -> None:
    found = [repr(c) for c in RAW if c in output]
    assert not found, f"raw {found} in: {output!r}"


@pytest.mark.parametrize(("kind", "hostile"), CASES, ids=list(HOSTILE))
def test_text_safety_names_the_character(kind: str, hostile: str) -> None:
    problem = unsafe_character(hostile)
    assert problem is not None and "at character 5" in problem
    shown = visible(hostile)
    assert shown.startswith("EVIL\\") and all(c not in shown for c in RAW)


def test_multiline_fields_keep_tab_and_newline() -> None:
    assert unsafe_character("first line\n\tsecond", multiline=True) is None
    assert unsafe_character("a\tb") is not None  # single-line: no tab either
    assert unsafe_character("a\x1bb", multiline=True) is not None
    assert visible("a\nb", multiline=True) == "a\nb"
    assert visible("a\nb") == "a\\x0ab"


@pytest.mark.parametrize(("kind", "hostile"), CASES, ids=list(HOSTILE))
def test_deals_add_refuses_hostile_text_in_every_field(cli: Cli, kind: str, hostile: str) -> None:
    ok(cli("workspace", "create", "Team"))
    for option, field in (
        ("--title", "title"),
        ("--company", "company"),
        ("--contact-name", "contact_name"),
        ("--contact-email", "contact_email"),
    ):
        args = ["--title", "Fine", option, hostile]
        result = user_error(cli("deals", "add", *args))
        assert f"{field}: contains the" in one_line(result.err), result.err
        no_raw(result.both)
    lost = ["--stage", "lost", "--lost-reason", hostile]
    assert "lost_reason: contains" in user_error(cli("deals", "add", "--title", "X", *lost)).err
    assert all_deals(cli) == [], "nothing was written"


@pytest.mark.parametrize(("kind", "hostile"), CASES[:3], ids=list(HOSTILE)[:3])
def test_workspace_names_and_activities_refuse_hostile_text(
    cli: Cli, kind: str, hostile: str
) -> None:
    result = user_error(cli("workspace", "create", hostile))
    assert "name: contains the" in one_line(result.err)
    no_raw(result.both)
    ok(cli("workspace", "create", "Team"))
    deal = cli("deals", "add", "--title", "Fine", "--json").json()
    result = user_error(cli("activity", "add", deal["id"], "--type", "note", "-d", hostile))
    assert "description: contains the" in one_line(result.err)
    # A note may span lines: newline and tab are fine there.
    ok(cli("activity", "add", deal["id"], "--type", "note", "-d", "line one\n\tline two"))


def test_csv_import_names_line_and_column(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Team"))
    in_text = [h for kind, h in CASES if kind != "NUL"]
    rows = ["Deal Name,Company,Amount", "Good,Acme,100"]
    rows += [f"Deal {n},{hostile},{n}" for n, hostile in enumerate(in_text)]
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = user_error(cli("import", path))
    message = one_line(result.err)
    for line in range(3, 3 + len(in_text)):
        assert f'line {line}, column "Company": company contains the' in message, message
    no_raw(result.both)
    assert all_deals(cli) == [], "all or nothing: the good row was not imported either"
    # A NUL byte makes the file binary: refused as a whole, exit 2.
    path.write_text("Deal Name,Company\nGood,Ac\x00me\n", encoding="utf-8")
    assert "binary file" in user_error(cli("import", path)).err
    assert all_deals(cli) == []


def _store_raw(
    database_url: str, title: str, company: str, workspace_name: str, *, upgrade: bool = False
) -> str:
    """Hostile text written straight into the tables, as an older version or another tool
    could have left it: the store's validation is bypassed on purpose."""
    store = open_store(database_url, upgrade=upgrade)
    try:
        workspace = store.workspaces.create("Placeholder")
        deal = store.deals.create(workspace.id, {"title": "placeholder", "stage": "proposal"})
        with store.db.engine.begin() as conn:
            conn.execute(
                text("UPDATE deals SET title = :t, company = :c WHERE id = :id"),
                {
                    "t": title,
                    "c": company,
                    "id": deal.id.hex if "sqlite" in database_url else str(deal.id),
                },
            )
            conn.execute(text("UPDATE workspaces SET name = :n"), {"n": workspace_name})
        return str(deal.id)
    finally:
        store.close()


HOSTILE_TITLE = "EVIL\x1b]0;pwned\x07\x1b[2J\u202eX"
HOSTILE_COMPANY = "Co\x9b31m\x01"  # Postgres text cannot hold NUL
HOSTILE_WORKSPACE = "WS\x1b[2J"


def test_stored_hostile_text_is_shown_as_escapes_by_every_command(
    cli: Cli, database_url: str
) -> None:
    deal_id = _store_raw(database_url, HOSTILE_TITLE, HOSTILE_COMPANY, HOSTILE_WORKSPACE)
    for command in (
        ("deals", "list"),
        ("deals", "show", deal_id),
        ("workspace", "list"),
        ("forecast",),
        ("score",),
        ("insights",),
    ):
        result = ok(cli(*command))
        no_raw(result.both)
    listing = ok(cli("deals", "list")).out
    assert "EVIL\\x1b" in listing and "WS\\x1b[2J" in listing
    # An error message that repeats the stored text: the update is refused (the stored title
    # must be fixed first), and the refusal names the field without the raw characters.
    refused = user_error(cli("deals", "update", deal_id, "--stage", "negotiation"))
    assert "title: contains the control character U+001B (ESC)" in one_line(refused.err)
    no_raw(refused.both)
    # JSON: the exact value, with nothing raw on the way to the terminal.
    result = ok(cli("deals", "list", "--json"))
    no_raw(result.out)
    deal = json.loads(result.out)["deals"][0]
    assert (deal["title"], deal["company"]) == (HOSTILE_TITLE, HOSTILE_COMPANY)
    exported = ok(cli("export", "--format", "json"))
    no_raw(exported.out)
    assert json.loads(exported.out)["deals"][0]["title"] == HOSTILE_TITLE
    # CSV through a pipe is the exact data (a terminal gets escapes; see export's code).
    assert HOSTILE_TITLE in ok(cli("export")).out
    # Fixing the title makes the deal editable again.
    ok(cli("deals", "update", deal_id, "--title", "Fine", "--company", "Fine Co"))


def test_log_lines_show_control_characters_as_escapes(isolated_home: Path) -> None:
    from vectoros_tui.locations import current_locations
    from vectoros_tui.logfile import setup_logging

    locations = current_locations()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(locations, "WARNING")
        logging.getLogger("vectoros_tui.test").warning("deal %s failed\nnext line", HOSTILE_TITLE)
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level = handlers, level
    written = locations.log_file.read_text(encoding="utf-8")
    assert "EVIL\\x1b]0;pwned\\x07" in written
    assert "\nnext line" in written, "newlines of a message (tracebacks) are kept"
    no_raw(written)


def test_the_app_paints_stored_hostile_text_as_escapes(isolated_home: Path) -> None:
    """The real entry point in a pseudo-terminal: every byte the app writes is checked."""
    (isolated_home / "data").mkdir()
    url = f"sqlite:///{isolated_home / 'data' / 'vectoros.sqlite3'}"
    _store_raw(url, HOSTILE_TITLE, HOSTILE_COMPANY, HOSTILE_WORKSPACE, upgrade=True)
    env = {**os.environ, "VECTOROS_HOME": str(isolated_home), "TERM": "xterm-256color"}
    # Textual takes COLUMNS/LINES over the terminal's own size (test runners may set them).
    env.update(COLUMNS="120", LINES="30")
    process = TerminalProcess(vectoros_command(), env, size=(120, 30))
    try:
        process.wait_for("EVIL\\x1b", timeout=60)  # the board card
        process.wait_for("as of", timeout=60)
        process.send("v")  # the table: its header, then its one row
        process.wait_for("Company", timeout=60)
        process.wait_for("Co\\x9b31m", timeout=60)
        process.send("\x11")  # ctrl+q
        assert process.wait_exit(timeout=15) == 0
    finally:
        process.kill()
    painted = process.output
    for payload in (b"EVIL\x1b", b"\x1b]0;pwned", b"\xc2\x9b", b"\xe2\x80\xae", b"WS\x1b"):
        assert payload not in painted, payload
