"""`vectoros forecast --json` and `vectoros score --json` answered from today's kept result
with the database driver alone (kept_commands), on both databases: the very answer the
full CLI gives, and no answer (so the full CLI computes) whenever anything it depends on
has moved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import Result, invoke, ok

from vectoros_tui.kept_commands import PlainCommand, answer_from_kept, plain_command
from vectoros_tui.last_workspace import LastWorkspace
from vectoros_tui.locations import current_locations
from vectoros_tui.store.store import open_store


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``vectoros`` on the database named by the environment, as a team's config would."""
    monkeypatch.setenv("VECTOROS_DATABASE_URL", database_url)
    monkeypatch.setenv("VECTOROS_FORECAST__SIMULATIONS", "1000")

    def call(*args: object) -> Result:
        return invoke(capsys, [str(a) for a in args])

    return call


def quick(capsys: pytest.CaptureFixture[str], *args: str, command: str = "forecast") -> str | None:
    """What the driver-only path prints for ``COMMAND ARGS``; None when it leaves the
    question to the full CLI (and then it must have printed nothing)."""
    capsys.readouterr()
    answered = answer_from_kept([command, *args])
    out = capsys.readouterr().out
    if not answered:
        assert out == ""
        return None
    return out


def history_demo(cli, name: str = "Hist") -> None:
    ok(cli("demo", "--deals", 700, "--seed", 5, "--name", name))


def test_the_kept_answer_is_the_full_clis_and_goes_stale_with_the_data(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    first = quick(capsys, "--json")
    assert first is not None, "the demo keeps the day's forecast, as the CLI would make it"
    full = ok(cli("forecast", "--json"))
    assert full.json()["model"] == "history"
    assert first == full.out
    assert quick(capsys, "--json") == full.out
    assert quick(capsys, "--json", "--model", "history") == full.out

    deal = full.json()["forecasted_deals"][0]
    ok(cli("deals", "update", deal["deal_id"], "--value", deal["value"] * 3 + 1000))
    assert quick(capsys, "--json") is None, "a deal changed: the kept forecast is stale"
    changed = ok(cli("forecast", "--json"))
    assert changed.out != full.out
    assert quick(capsys, "--json") == changed.out

    # A saved goal is part of the question: not answered until a forecast with it is kept.
    ok(cli("goal", "set", "50k"))
    assert quick(capsys, "--json") is None
    with_goal = ok(cli("forecast", "--json"))
    assert with_goal.json()["goal_source"] == "saved"
    assert quick(capsys, "--json") == with_goal.out


def test_it_answers_only_when_the_forecast_history_holds_todays_numbers(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    full = ok(cli("forecast", "--json"))
    store = open_store(database_url)
    try:
        with store.db.write() as session:
            session.connection().exec_driver_sql("DELETE FROM forecast_runs")
    finally:
        store.close()
    # The full CLI records today's forecast in the history; the quick path writes nothing.
    assert quick(capsys, "--json") is None
    assert ok(cli("forecast", "--json")).out == full.out
    assert quick(capsys, "--json") == full.out


def test_the_workspace_is_chosen_as_the_cli_chooses_it(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli, "Hist")
    ok(cli("workspace", "create", "Other"))
    last = LastWorkspace(current_locations().data_dir, database_url)
    last.set(None)
    # Two workspaces and none named or remembered: the CLI's error, not a guess.
    assert quick(capsys, "--json") is None
    assert quick(capsys, "--json", "-w", "nowhere") is None
    full = ok(cli("forecast", "--json", "-w", "hist"))
    hist_id = full.json()["workspace_id"]
    last.set(None)
    assert quick(capsys, "--json", "--workspace=HIST") == full.out
    assert last.get() == hist_id, "-w is remembered for the next commands"
    assert quick(capsys, "--json") == full.out
    assert quick(capsys, "--json", "-w", hist_id) == full.out
    # "Other" has no history to learn from: the full CLI answers (with the reps' model).
    assert quick(capsys, "--json", "-w", "Other") is None


def test_kept_scores_are_the_full_clis_and_go_stale_with_the_data(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    assert quick(capsys, "--json", command="score") is None, "not computed yet"
    full = ok(cli("score", "--json"))
    assert full.json()["scored_deals"]
    assert quick(capsys, "--json", command="score") == full.out
    assert quick(capsys, "--json", "-w", "hist", command="score") == full.out

    # The stalest deal: an activity today raises its freshness.
    deal = min(full.json()["scored_deals"], key=lambda d: d["components"]["freshness"])
    assert deal["components"]["freshness"] < 100
    ok(cli("activity", "add", deal["deal_id"], "--type", "call", "--description", "Checked in"))
    assert quick(capsys, "--json", command="score") is None, "an activity moves the scores"
    changed = ok(cli("score", "--json"))
    assert changed.out != full.out
    assert quick(capsys, "--json", command="score") == changed.out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["forecast", "--json"], PlainCommand("forecast", None)),
        (["forecast", "--model", "auto", "--json", "-w", "A"], PlainCommand("forecast", "A")),
        (
            ["forecast", "--json", "--workspace=B", "--model=history"],
            PlainCommand("forecast", "B"),
        ),
        (["forecast", "-w", "A", "--json", "-w", "C"], PlainCommand("forecast", "C")),
        (["score", "--json"], PlainCommand("score", None)),
        (["score", "--workspace", "A", "--json"], PlainCommand("score", "A")),
    ],
)
def test_plain_commands_are_taken(argv: list[str], expected: PlainCommand) -> None:
    assert plain_command(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["forecast"],
        ["forecast", "--json", "--seed", "1"],
        ["forecast", "--json", "--model", "rep"],
        ["forecast", "--json", "-w"],
        ["forecast", "--json", "-w", "  "],
        ["forecast", "history", "--json"],
        ["forecast", "--json=1"],
        ["forecast", "--json", "-w", "caf\udce9"],
        ["score"],
        ["score", "--json", "--model", "auto"],
        ["score", "--json", "--top", "3"],
        ["score", "--json", "--owner", "me"],
        ["insights", "--json"],
    ],
)
def test_anything_else_goes_to_the_full_cli(argv: list[str]) -> None:
    assert plain_command(argv) is None


def test_the_command_answers_without_loading_the_database_toolkit(
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SQLite: the default setup, no config and the data folder's own file. Postgres: named
    # by the environment, so the settings are read and checked first.
    env = {"VECTOROS_HOME": str(isolated_home), "PATH": "/usr/bin:/bin"}
    heavy = ["sqlalchemy", "sqlmodel", "numpy", "click"]
    if not database_url.startswith("sqlite"):
        env["VECTOROS_DATABASE_URL"] = database_url
        monkeypatch.setenv("VECTOROS_DATABASE_URL", database_url)
    ok(invoke(capsys, ["demo", "--deals", "700", "--seed", "5"]))
    full = ok(invoke(capsys, ["forecast", "--json"]))
    probe = (
        "import atexit, sys\n"
        f"heavy = {heavy!r}\n"
        "atexit.register(lambda: sys.stderr.write(str([m for m in heavy if m in sys.modules])))\n"
        "sys.argv = ['vectoros', 'forecast', '--json']\n"
        "from vectoros_tui.launch import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "[]", "answered without the database toolkit, numpy or click"
    assert done.stdout == full.out
