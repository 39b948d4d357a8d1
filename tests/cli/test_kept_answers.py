"""`vectoros forecast --json` and `vectoros score --json` answered from today's kept result
with the database driver alone (kept_commands), on both databases: the very answer the
full CLI gives, and no answer (so the full CLI computes) whenever anything it depends on
has moved."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import Result, invoke, ok
from sqlalchemy import update

from vectoros_tui import kept_commands, plain_json
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.forecast_defaults import (
    FORECAST_SCENARIO,
    FORECAST_SEED,
    FORECAST_TIMEFRAME,
)
from vectoros_tui.kept_commands import PlainCommand, answer_from_kept, plain_command
from vectoros_tui.last_workspace import LastWorkspace
from vectoros_tui.locations import current_locations
from vectoros_tui.store import analytics, forecast_update, scores_now
from vectoros_tui.store.kept_answer import ForecastQuestion, WorkspaceRefs, read_kept_forecast
from vectoros_tui.store.kept_payload import pack, unpack
from vectoros_tui.store.store import open_store
from vectoros_tui.store.tables import KeptResult

# The plain `forecast --json` of the `cli` fixture's setup (1,000 runs, no goal).
QUESTION = ForecastQuestion(FORECAST_TIMEFRAME, FORECAST_SCENARIO, 1000, FORECAST_SEED, None)
REFS = WorkspaceRefs(None, None, None)


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


def execute(database_url: str, *statements: str) -> None:
    store = open_store(database_url)
    try:
        with store.db.write() as session:
            for statement in statements:
                session.connection().exec_driver_sql(statement)
    finally:
        store.close()


def forget_todays_forecasts(database_url: str) -> None:
    """Drop the kept forecasts and today's forecast history, so the next forecast is
    computed from scratch."""
    execute(database_url, "DELETE FROM kept_results", "DELETE FROM forecast_runs")


def todays_runs(database_url: str) -> list[tuple[object, ...]]:
    store = open_store(database_url)
    try:
        with store.db.read() as session:
            return [
                tuple(row)
                for row in session.connection().exec_driver_sql(
                    "SELECT day, window_days, model, p5, p50, p95, mean, open_deals "
                    "FROM forecast_runs"
                )
            ]
    finally:
        store.close()


def kept_rows(database_url: str) -> list[tuple[object, ...]]:
    """The kept results, as keyed (not when they were computed)."""
    store = open_store(database_url)
    try:
        with store.db.read() as session:
            return sorted(
                tuple(str(value) for value in row)
                for row in session.connection().exec_driver_sql(
                    "SELECT kind, params, deals_revision, activities_revision, computed_for "
                    "FROM kept_results"
                )
            )
    finally:
        store.close()


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
    # A deal changed: the kept forecast is stale, and the full CLI computes again.
    assert read_kept_forecast(database_url, REFS, QUESTION, utc_now().date()) is None
    forget_todays_forecasts(database_url)
    changed = ok(cli("forecast", "--json"))
    assert changed.out != full.out
    assert quick(capsys, "--json") == changed.out

    # A saved goal is part of the question: not answered until a forecast with it is kept.
    ok(cli("goal", "set", "50k"))
    assert quick(capsys, "--json") is None
    with_goal = ok(cli("forecast", "--json"))
    assert with_goal.json()["goal_source"] == "saved"
    assert quick(capsys, "--json") == with_goal.out


def test_after_deals_change_the_kept_forecast_is_brought_up_to_date_as_the_cli_computes_it(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    full = ok(cli("forecast", "--json"))
    rows = full.json()["forecasted_deals"]
    # A deal's value, and (through the full CLI, which reuses the unchanged deals' rows
    # too) another's probability: each time, what the quick path or the full CLI answers
    # is what the full CLI computes with nothing kept.
    ok(cli("deals", "update", rows[0]["deal_id"], "--value", rows[0]["value"] * 3 + 1000))
    updated = quick(capsys, "--json")
    assert updated is not None, "only a deal changed: the kept forecast is brought up to date"
    assert updated != full.out
    runs = todays_runs(database_url)
    forget_todays_forecasts(database_url)
    assert ok(cli("forecast", "--json")).out == updated
    assert todays_runs(database_url) == runs, "today's forecast history as the CLI keeps it"
    assert quick(capsys, "--json") == updated, "kept as the full CLI keeps it"

    ok(cli("deals", "update", rows[-1]["deal_id"], "--probability", 95))
    reused = ok(cli("forecast", "--json"))
    forget_todays_forecasts(database_url)
    assert ok(cli("forecast", "--json")).out == reused.out


def test_a_reopened_deal_is_forecast_with_its_activities(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    ok(cli("forecast", "--json"))
    store = open_store(database_url)
    try:
        workspace = store.workspaces.list()[0]
        closed = store.deals.list(workspace.id, outcome="lost", limit=1000).deals
        # One with a call done: its last activity is not among the open deals' kept.
        deal = next(d for d in closed if any(a.done for a in store.activities.list(d.id)))
        store.deals.reopen(deal.id, expected_version=deal.version)
    finally:
        store.close()
    updated = quick(capsys, "--json")
    assert updated is not None
    row = next(r for r in json.loads(updated)["forecasted_deals"] if r["deal_id"] == str(deal.id))
    assert "no activity logged" not in str(row["reasons"])
    forget_todays_forecasts(database_url)
    assert ok(cli("forecast", "--json")).out == updated


def test_what_the_quick_update_cannot_know_goes_to_the_full_cli(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    full = ok(cli("forecast", "--json")).json()
    deal, other = (row["deal_id"] for row in full["forecasted_deals"][:2])
    # An activity moves a deal's last contact without changing its row: the last
    # activities kept no longer hold, whatever other deal changed too.
    ok(cli("activity", "add", deal, "--type", "call", "--description", "Checked in"))
    ok(cli("deals", "update", other, "--value", 4321))
    assert quick(capsys, "--json") is None
    ok(cli("forecast", "--json"))
    # No fit kept for today's data: the full CLI fits.
    ok(cli("deals", "update", deal, "--value", 12345))
    execute(database_url, "DELETE FROM model_fits")
    assert quick(capsys, "--json") is None
    assert ok(cli("forecast", "--json")).json()["model"] == "history"

    # Inputs not as this version keeps them: the full CLI, never a traceback.
    store = open_store(database_url)
    try:
        with store.db.write() as session:
            connection = session.connection()
            (payload,) = connection.exec_driver_sql("SELECT payload FROM kept_results").one()
            kept = unpack(bytes(payload))
            kept["inputs"]["deals"] = [["not", "a", "mapping"]]
            connection.execute(update(KeptResult).values(payload=pack(plain_json.dumps(kept))))
    finally:
        store.close()
    ok(cli("deals", "update", deal, "--value", 2345))
    assert quick(capsys, "--json") is None
    assert ok(cli("forecast", "--json")).json()["model"] == "history"


def test_it_answers_only_when_the_forecast_history_holds_todays_numbers(
    cli, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history_demo(cli)
    full = ok(cli("forecast", "--json"))
    execute(database_url, "DELETE FROM forecast_runs")
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


def test_scores_are_computed_with_the_driver_as_the_full_cli_computes_them(
    cli, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scores age by the second (days since the last activity, to the close date): both
    # paths are given the same moment, so that they can be compared to the byte.
    moment = utc_now()
    for module in (kept_commands, scores_now, analytics):
        monkeypatch.setattr(module, "utc_now", lambda: moment)

    def from_scratch() -> Result:
        execute(database_url, "DELETE FROM kept_results")
        return ok(cli("score", "--json"))

    history_demo(cli)
    first = quick(capsys, "--json", command="score")
    assert first is not None, "computed with the driver and kept"
    assert quick(capsys, "--json", "-w", "hist", command="score") == first
    assert ok(cli("score", "--json")).out == first, "the full CLI finds it kept"
    full = from_scratch()
    assert full.json()["scored_deals"]
    assert first == full.out

    # The stalest deal gets an activity (its freshness rises) and another deal a value
    # ten times the largest (every deal's value component moves with the average).
    scored = full.json()["scored_deals"]
    stalest = min(scored, key=lambda d: d["components"]["freshness"])
    assert stalest["components"]["freshness"] < 100
    ok(cli("activity", "add", stalest["deal_id"], "--type", "call", "--description", "Hi"))
    other = next(d for d in scored if d["deal_id"] != stalest["deal_id"])
    ok(cli("deals", "update", other["deal_id"], "--value", 10_000_000))
    changed = quick(capsys, "--json", command="score")
    assert changed is not None and changed != first
    assert changed == from_scratch().out
    # Kept: read back as it was computed.
    assert quick(capsys, "--json", command="score") == changed


def test_with_too_little_history_the_reps_forecast_is_kept_and_updated_as_the_cli_does(
    cli, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reps' model ages probabilities and confidence with the moment: both paths are
    # given the same one, so that they can be compared to the byte.
    moment = utc_now()
    for module in (forecast_update, analytics):
        monkeypatch.setattr(module, "utc_now", lambda: moment)
    # A window as a config may spell it: the reps' model keys its kept result by the text.
    monkeypatch.setenv("VECTOROS_FORECAST__TIMEFRAME", " 14D")
    ok(cli("demo", "--deals", 30, "--history-months", 0, "--seed", 5))
    full = ok(cli("forecast", "--json"))
    assert full.json()["model"] == "rep"
    assert full.json()["model_note"].startswith("too little history")
    reps = ok(cli("forecast", "--json", "--model", "rep"))
    assert "model" not in reps.json(), "the original's JSON"
    # Kept with today's verdict on the history: read back for auto and for rep.
    kept = kept_rows(database_url)
    assert quick(capsys, "--json") == full.out
    assert quick(capsys, "--json", "--model", "rep") == reps.out
    assert kept_rows(database_url) == kept, "read back: nothing computed or written"
    # --model history is the CLI's error (exit 2), not an answer.
    assert quick(capsys, "--json", "--model", "history") is None

    deal = max(full.json()["forecasted_deals"], key=lambda row: row["value"])
    ok(cli("deals", "update", deal["deal_id"], "--probability", 3))
    runs = todays_runs(database_url)
    updated = quick(capsys, "--json")
    assert updated is not None, "the verdict holds for the same number of deals"
    assert json.loads(updated)["likely_case"] != full.json()["likely_case"]
    assert todays_runs(database_url) != runs, "today's forecast history moved"
    runs = todays_runs(database_url)
    forget_todays_forecasts(database_url)
    assert ok(cli("forecast", "--json")).out == updated
    assert todays_runs(database_url) == runs, "today's forecast history as the CLI keeps it"
    assert (
        quick(capsys, "--json", "--model", "rep")
        == ok(cli("forecast", "--json", "--model", "rep")).out
    )

    # One more deal: the verdict was for other data, and the full CLI tries to fit again.
    # --model rep needs no verdict.
    ok(cli("deals", "add", "--title", "One more", "--value", 5000, "--stage", "proposal"))
    assert quick(capsys, "--json") is None
    reps_now = quick(capsys, "--json", "--model", "rep")
    assert reps_now is not None and json.loads(reps_now)["deals_analyzed"] >= 1
    forget_todays_forecasts(database_url)
    assert ok(cli("forecast", "--json", "--model", "rep")).out == reps_now


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["forecast", "--json"], PlainCommand("forecast", None)),
        (["forecast", "--model", "auto", "--json", "-w", "A"], PlainCommand("forecast", "A")),
        (
            ["forecast", "--json", "--workspace=B", "--model=history"],
            PlainCommand("forecast", "B", "history"),
        ),
        (["forecast", "--json", "--model", "rep"], PlainCommand("forecast", None, "rep")),
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
        ["forecast", "--json", "--model", "reps"],
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
    # by the environment, as a shared server's setup would.
    env = {"VECTOROS_HOME": str(isolated_home), "PATH": "/usr/bin:/bin"}
    # Postgres named by the environment alone: nothing for pydantic to check either.
    heavy = ["sqlalchemy", "sqlmodel", "numpy", "click", "pydantic"]
    if not database_url.startswith("sqlite"):
        env["VECTOROS_DATABASE_URL"] = database_url
        monkeypatch.setenv("VECTOROS_DATABASE_URL", database_url)
    ok(invoke(capsys, ["demo", "--deals", "700", "--seed", "5"]))
    full = ok(invoke(capsys, ["forecast", "--json"]))
    loaded, out = probe_forecast(env, heavy)
    assert loaded == [], "answered without the database toolkit, numpy or click"
    assert out == full.out

    # After a deal changed, the forecast is brought up to date with numpy, still without
    # the database toolkit or click.
    deal = full.json()["forecasted_deals"][0]
    ok(invoke(capsys, ["deals", "update", deal["deal_id"], "--value", "99999"]))
    loaded, out = probe_forecast(env, heavy)
    assert loaded == ["numpy"]
    forget_todays_forecasts(database_url)
    assert out == ok(invoke(capsys, ["forecast", "--json"])).out
    # The reps' model too, computed from the open deals' rows.
    loaded, out = probe_forecast(env, heavy, "forecast", "--model", "rep")
    assert loaded == ["numpy"]
    assert out == ok(invoke(capsys, ["forecast", "--json", "--model", "rep"])).out

    # The scores are computed with the driver alone, not even numpy, and kept: the full
    # CLI then prints them as they were.
    loaded, out = probe_forecast(env, heavy, "score")
    assert loaded == []
    assert out == ok(invoke(capsys, ["score", "--json"])).out


def probe_forecast(
    env: dict[str, str], heavy: list[str], command: str = "forecast", *options: str
) -> tuple[list[str], str]:
    """`vectoros COMMAND --json OPTIONS` in a process of its own: which of ``heavy`` it
    loaded, and what it printed."""
    probe = (
        "import atexit, sys\n"
        f"heavy = {heavy!r}\n"
        "atexit.register(lambda: sys.stderr.write(str([m for m in heavy if m in sys.modules])))\n"
        f"sys.argv = ['vectoros', {command!r}, '--json', *{list(options)!r}]\n"
        "from vectoros_tui.launch import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stderr), done.stdout
