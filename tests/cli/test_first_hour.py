"""A new rep's first hour with the CLI: amounts typed as people type them, forecasts that
match the app's, goals that are remembered, a first import or link that sets things up,
and a workspace that is remembered once chosen. On SQLite and Postgres."""

from __future__ import annotations

import io
import json
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from harness import Cli, all_deals, ok, user_error

from vectoros_tui.cli import cli as root_command
from vectoros_tui.last_workspace import LastWorkspace
from vectoros_tui.locations import current_locations
from vectoros_tui.store.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from fake_backends import FakeBackend


def load_demo(cli: Cli, name: str = "Demo", seed: int = 4) -> None:
    ok(cli("demo", "--deals", 60, "--history-months", 0, "--seed", seed, "--name", name))


def forecast(cli: Cli, *args: object) -> dict[str, Any]:
    return cli("forecast", "--json", *args).json()


# --- money options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"), [("750k", 750_000), ("1.2M", 1_200_000), ("$1,200", 1_200)]
)
def test_forecast_goal_takes_amounts_as_typed(cli: Cli, typed: str, amount: float) -> None:
    load_demo(cli)
    assert forecast(cli, "--goal", typed)["goal"] == amount


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("lots", "'lots' is not an amount"),
        ("-5", "must not be negative"),
        ("1,20", "comma is ambiguous"),
        ("nan", "finite"),
    ],
)
def test_a_bad_goal_exits_2_naming_the_option(cli: Cli, typed: str, problem: str) -> None:
    load_demo(cli)
    result = user_error(cli("forecast", "--goal", typed))
    assert "--goal" in result.err and problem in result.err
    assert result.out == ""


def test_deal_values_take_amounts_as_typed(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = cli("deals", "add", "--title", "Renewal", "--value", "1.2M", "--json").json()
    assert deal["value"] == 1_200_000
    updated = cli("deals", "update", deal["id"], "--value", "750k", "--json").json()
    assert updated["value"] == 750_000
    refused = user_error(cli("deals", "add", "--title", "Other", "--value", "3.000,50"))
    assert "--value" in refused.err and "ambiguous" in refused.err
    assert [d["title"] for d in all_deals(cli)] == ["Renewal"]


def test_every_money_option_is_an_amount() -> None:
    """No money option is left as a plain float or text (750k would fail there)."""
    from vectoros_tui.cli.options import MoneyType

    found = {}
    for path, command in walk(root_command):
        for param in command.params:
            if param.name in {"goal", "value", "amount"}:
                found[f"{path} {param.name}"] = isinstance(param.type, MoneyType)
    assert found == {
        "forecast goal": True,
        "deals add value": True,
        "deals update value": True,
        "goal set amount": True,
    }


def walk(command: click.Command, path: str = "") -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, f"{path} {name}".strip())


# --- the forecast is the app's -----------------------------------------------------------

SCALARS = (
    "worst_case",
    "likely_case",
    "best_case",
    "mean_forecast",
    "standard_deviation",
    "confidence",
    "deals_analyzed",
)


def test_forecast_without_seed_is_the_same_every_run(cli: Cli) -> None:
    load_demo(cli)
    first = forecast(cli, "-t", "60d")
    second = forecast(cli, "-t", "60d")
    assert first == second
    assert first["seed"] == 0
    other = forecast(cli, "-t", "60d", "--seed", 99)
    assert other["seed"] == 99
    assert other["simulation_stats"] != first["simulation_stats"], "--seed still overrides"


@pytest.mark.parametrize("timeframe", ["30d", "90d"])
def test_forecast_shows_the_numbers_the_app_shows(
    cli: Cli, database_url: str, timeframe: str
) -> None:
    from vectoros_tui.screens.forecast import ForecastScreen
    from vectoros_tui.screens.forecast_view import ForecastParams, build_forecast_view
    from vectoros_tui.store.snapshot import load_snapshot

    load_demo(cli)
    shown = forecast(cli, "-t", timeframe)
    store = open_store(database_url, upgrade=False)
    try:
        workspace = store.workspaces.resolve("Demo")
        now = datetime.now(UTC)
        screen = ForecastScreen()  # its seed and simulations, as the app starts it
        params = ForecastParams(timeframe, "likely", screen.simulations, screen.seed, None)
        app = build_forecast_view(load_snapshot(store, workspace, now), params, {}, now).result
    finally:
        store.close()
    assert {k: shown[k] for k in SCALARS} == {k: app[k] for k in SCALARS}
    assert shown["simulation_stats"] == app["simulation_stats"]


# --- goals -------------------------------------------------------------------------------


def test_a_saved_goal_is_used_by_the_forecast_of_its_window(cli: Cli) -> None:
    load_demo(cli)
    assert "probability_of_hitting_goal" not in forecast(cli)
    saved = cli("goal", "set", "750k", "--json").json()
    assert (saved["window"], saved["amount"]) == ("30d", 750_000)
    ok(cli("goal", "set", "2.4M", "--window", "90d"))

    thirty = forecast(cli)
    assert (thirty["goal"], thirty["goal_source"]) == (750_000, "saved")
    assert 0 <= thirty["probability_of_hitting_goal"] <= 1
    ninety = forecast(cli, "-t", "90d")
    assert (ninety["goal"], ninety["goal_source"]) == (2_400_000, "saved")
    assert "goal_source" not in forecast(cli, "-t", "60d"), "no goal saved for 60 days"
    given = forecast(cli, "--goal", "1M")
    assert (given["goal"], given["goal_source"]) == (1_000_000, "option")

    human = ok(cli("forecast")).out
    assert "Goal $750,000 (saved goal for 30d)" in human
    listed = cli("goal", "--json").json()
    assert [(g["window"], g["amount"]) for g in listed["goals"]] == [
        ("30d", 750_000),
        ("90d", 2_400_000),
    ]
    table = ok(cli("goal")).out
    assert "30d" in table and "$750,000" in table and "$2,400,000" in table


def test_goals_stay_in_their_workspace_and_can_be_cleared(cli: Cli) -> None:
    load_demo(cli)
    ok(cli("workspace", "create", "Second"))
    ok(cli("goal", "set", "750k", "-w", "Demo"))
    ok(cli("goal", "-w", "Second", "set", "90k", "--window", "30"))
    assert forecast(cli, "-w", "Second")["goal"] == 90_000
    assert forecast(cli, "-w", "Demo")["goal"] == 750_000

    ok(cli("goal", "clear", "-w", "Demo"))
    assert "goal_source" not in forecast(cli, "-w", "Demo")
    assert forecast(cli, "-w", "Second")["goal"] == 90_000
    assert "No goal was saved" in ok(cli("goal", "clear", "-w", "Demo")).out
    ok(cli("goal", "set", "1M", "--window", "60d", "-w", "Second"))
    ok(cli("goal", "clear", "--all", "-w", "Second"))
    assert cli("goal", "-w", "Second", "--json").json()["goals"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("set", "lots"), ("AMOUNT", "'lots' is not an amount")),
        (("set", "--", "-5"), ("AMOUNT", "must not be negative")),
        (("set", "1M", "--window", "0d"), ("--window", "'0d'")),
        (("set", "1M", "--window", "a month"), ("--window",)),
        (("clear", "--all", "--window", "30d"), ("--all",)),
    ],
)
def test_bad_goal_input_exits_2_and_saves_nothing(
    cli: Cli, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    ok(cli("workspace", "create", "Demo"))
    result = user_error(cli("goal", *args))
    for word in words:
        assert word in result.err
    assert cli("goal", "--json").json()["goals"] == []


# --- a first import --------------------------------------------------------------------

CSV = """\
Deal Name,Account,Amount,Stage,Probability,Close Date
Platform license,Acme Corp,"$12,000",Proposal,60,2026-12-31
Pilot,Globex,25k,Qualified,30,2027-01-15
"""


def write_csv(tmp_path: Path, text: str = CSV, name: str = "q4-pipeline.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_first_import_creates_a_workspace_named_after_the_file(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path)
    dry = cli("import", path, "--dry-run", "--json").json()
    assert (dry["workspace"], dry["createdWorkspace"], dry["created"]) == ("q4-pipeline", True, 2)
    assert "Would create workspace q4-pipeline" in ok(cli("import", path, "--dry-run")).out
    assert cli("workspace", "list", "--json").json()["total"] == 0, "a dry run makes nothing"

    result = ok(cli("import", path))
    assert "Created workspace q4-pipeline" in result.out
    assert "Imported 2 rows into q4-pipeline" in result.out
    deals = {d["title"]: d["value"] for d in all_deals(cli)}
    assert deals == {"Platform license": 12_000, "Pilot": 25_000}
    again = cli("import", path, "--json").json()
    assert (again["createdWorkspace"], again["unchanged"]) == (False, 2)


def test_first_import_uses_the_workspace_option_as_the_name(cli: Cli, tmp_path: Path) -> None:
    summary = cli("import", write_csv(tmp_path), "-w", "West region", "--json").json()
    assert (summary["workspace"], summary["createdWorkspace"]) == ("West region", True)
    assert [w["name"] for w in cli("workspace", "list", "--json").json()["workspaces"]] == [
        "West region"
    ]


def test_a_refused_first_import_leaves_no_workspace(cli: Cli, tmp_path: Path) -> None:
    bad = write_csv(tmp_path, CSV + "Broken,Umbrella,lots,Proposal,60,2026-12-31\n")
    user_error(cli("import", bad))
    assert cli("workspace", "list", "--json").json()["total"] == 0


def test_import_into_an_unknown_workspace_is_still_refused(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Team"))
    result = user_error(cli("import", write_csv(tmp_path), "-w", "Taem"))
    assert "Taem" in result.err and "Team" in result.err
    assert cli("workspace", "list", "--json").json()["total"] == 1


# --- linking a fresh data folder to the team's backend -----------------------------------


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBackend]:
    monkeypatch.delenv("VECTOROS_API_TOKEN", raising=False)
    with FakeBackend("deployed", token="first-hour-token") as fake:
        yield fake
    assert not fake.errors


def login(cli: Cli, monkeypatch: pytest.MonkeyPatch, backend: FakeBackend) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(backend.token + "\n"))
    ok(cli("login", backend.url, "--token-stdin"))


def test_link_on_a_fresh_folder_creates_the_workspace_and_pulls(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, backend: FakeBackend
) -> None:
    team = backend.add_workspace("Team")["id"]
    backend.add_deal(team, title="From the team", stage="lead", value=None)
    result = cli("sync", "--link", backend.url)
    assert result.code == 1 and f"vectoros login {backend.url}" in result.err
    assert "demo" not in result.err
    assert cli("workspace", "list", "--json").json()["total"] == 0

    login(cli, monkeypatch, backend)
    linked = ok(cli("sync", "--link", backend.url))
    assert "Created workspace Team" in linked.out and "1 pulled" in linked.out
    assert "demo" not in linked.both
    assert [d["title"] for d in all_deals(cli)] == ["From the team"]
    assert cli("sync", "--status", "--json").json()["remote_workspace_id"] == team


def test_link_with_several_remote_workspaces_asks_which(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, backend: FakeBackend
) -> None:
    backend.add_workspace("East")
    west = backend.add_workspace("West")["id"]
    login(cli, monkeypatch, backend)
    result = cli("sync", "--link", backend.url)
    assert result.code == 1
    assert "--remote-workspace" in result.err and "East" in result.err and "West" in result.err
    assert "demo" not in result.err
    assert cli("workspace", "list", "--json").json()["total"] == 0

    ok(cli("sync", "--link", backend.url, "--remote-workspace", "west", "-w", "My West"))
    names = [w["name"] for w in cli("workspace", "list", "--json").json()["workspaces"]]
    assert names == ["My West"]
    assert cli("sync", "--status", "--json").json()["remote_workspace_id"] == west


# --- the workspace last chosen -----------------------------------------------------------


def workspace_of(cli: Cli, *args: object) -> str:
    return cli("deals", "list", "--json", "--limit", 1, *args).json()["deals"][0]["workspaceId"]


def ids(cli: Cli) -> dict[str, str]:
    return {w["name"]: w["id"] for w in cli("workspace", "list", "--json").json()["workspaces"]}


def test_the_workspace_chosen_with_w_is_remembered(cli: Cli, database_url: str) -> None:
    load_demo(cli, "Demo")
    load_demo(cli, "Second", seed=5)
    user_error(cli("deals", "list"))  # two workspaces, none chosen yet
    assert workspace_of(cli, "-w", "Second") == ids(cli)["Second"]
    assert workspace_of(cli) == ids(cli)["Second"]
    assert forecast(cli)["workspace_id"] == ids(cli)["Second"]
    listed = cli("workspace", "list", "--json").json()["workspaces"]
    assert {w["name"]: w["current"] for w in listed} == {"Demo": False, "Second": True}

    ok(cli("workspace", "use", "Demo"))
    assert workspace_of(cli) == ids(cli)["Demo"]
    state = current_locations().data_dir / "state.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    text = state.read_text()
    assert ids(cli)["Demo"] in text and database_url not in text
    assert LastWorkspace(current_locations().data_dir, database_url).get() == ids(cli)["Demo"]


def test_a_configured_workspace_comes_before_the_remembered_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(cli, "Demo")
    load_demo(cli, "Second", seed=5)
    ok(cli("workspace", "use", "Second"))
    monkeypatch.setenv("VECTOROS_WORKSPACE", "Demo")
    assert workspace_of(cli) == ids(cli)["Demo"]


def test_a_deleted_remembered_workspace_is_passed_over(cli: Cli) -> None:
    load_demo(cli, "Demo")
    load_demo(cli, "Second", seed=5)
    ok(cli("workspace", "create", "Third"))
    ok(cli("workspace", "use", "Second"))
    ok(cli("workspace", "delete", "Second", "--yes"))
    result = user_error(cli("deals", "list"))
    assert "Demo" in result.err and "Third" in result.err
    ok(cli("workspace", "delete", "Third", "--yes"))
    assert workspace_of(cli) == ids(cli)["Demo"]


def test_an_unreadable_state_file_is_ignored(cli: Cli, database_url: str) -> None:
    load_demo(cli, "Demo")
    load_demo(cli, "Second", seed=5)
    data = current_locations().data_dir
    data.mkdir(parents=True, exist_ok=True)
    (data / "state.json").write_text("{not json")
    assert LastWorkspace(data, database_url).get() is None
    assert workspace_of(cli, "-w", "Second") == ids(cli)["Second"]
    assert workspace_of(cli) == ids(cli)["Second"]
    assert json.loads((data / "state.json").read_text())["version"] == 1


def test_each_database_remembers_its_own(tmp_path: Path) -> None:
    data = tmp_path / "data"
    one = LastWorkspace(data, "sqlite:///one.sqlite3")
    two = LastWorkspace(data, "postgresql+psycopg://rep:secret@db/team")
    one.set("11111111-1111-4111-8111-111111111111")
    two.set("22222222-2222-4222-8222-222222222222")
    assert one.get() == "11111111-1111-4111-8111-111111111111"
    assert two.get() == "22222222-2222-4222-8222-222222222222"
    assert "secret" not in (data / "state.json").read_text()
    one.set(None)
    assert one.get() is None and two.get() == "22222222-2222-4222-8222-222222222222"


def test_a_state_file_that_cannot_be_written_does_not_fail_the_command(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    LastWorkspace(blocked, "sqlite:///x").set("11111111-1111-4111-8111-111111111111")
    assert LastWorkspace(blocked, "sqlite:///x").get() is None


# --- one -w for every workspace-scoped command -------------------------------------------


def test_members_takes_w_like_every_other_command(cli: Cli) -> None:
    ok(cli("workspace", "create", "Team"))
    ok(cli("workspace", "create", "Other"))
    ok(cli("workspace", "add-member", "ada@acme.io", "-w", "Team", "--role", "admin"))
    by_option = cli("workspace", "members", "-w", "Team", "--json").json()
    assert "ada@acme.io" in [m["email"] for m in by_option["members"]]
    assert by_option["total"] == 2  # and me, who created it
    assert cli("workspace", "members", "Team", "--json").json() == by_option
    assert cli("workspace", "members", "--workspace", "Other", "--json").json()["total"] == 1
    clash = user_error(cli("workspace", "members", "Team", "-w", "Other"))
    assert "Team" in clash.err and "Other" in clash.err
    ok(cli("workspace", "remove-member", "ada@acme.io", "--workspace", "Team"))
    assert cli("workspace", "members", "-w", "Team", "--json").json()["total"] == 1


def test_every_workspace_option_is_the_shared_one() -> None:
    from vectoros_tui.cli.options import workspace_option

    @workspace_option
    def sample(workspace: str | None) -> None: ...

    shared = sample.__click_params__[0]  # type: ignore[attr-defined]
    scoped = {"workspace members", "workspace add-member", "workspace remove-member"}
    seen = set()
    for path, command in walk(root_command):
        for param in command.params:
            if "--workspace" in getattr(param, "opts", ()):
                seen.add(path)
                assert (param.name, param.opts, param.help) == (
                    shared.name,
                    shared.opts,
                    shared.help,
                ), path
    assert scoped <= seen
    assert {"forecast", "deals list", "goal", "goal set", "import", "sync"} <= seen
