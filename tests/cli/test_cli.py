"""The ``vectoros`` command line, driven in-process through ``run(argv)``.

Every test that needs a database passes ``--db`` with the ``database_url`` fixture, so the
commands run against SQLite and Postgres alike. Exit codes: 0 success, 2 bad input,
1 anything else; a user mistake never prints a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from harness import Cli, all_deals, failure, invoke, ok, user_error

from vectoros_tui import __version__

DEAL_KEYS = {
    "id",
    "title",
    "company",
    "value",
    "stage",
    "probability",
    "contactName",
    "contactEmail",
    "closeDate",
    "outcome",
    "createdAt",
    "updatedAt",
}
FORECAST_KEYS = {
    "timeframe",
    "scenario",
    "predicted_revenue",
    "confidence",
    "best_case",
    "likely_case",
    "worst_case",
    "mean_forecast",
    "standard_deviation",
    "deals_analyzed",
    "breakdown_by_stage",
    "simulation_stats",
    "forecasted_deals",
    "pipeline_coverage",
}
SIMULATION_STATS_KEYS = {
    "num_simulations",
    "min",
    "max",
    "p5",
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "p95",
}
HEALTH_BANDS = {"excellent", "good", "fair", "poor", "critical"}
INSIGHT_KEYS = {"type", "priority", "title", "description", "confidence", "data", "actions"}


def load_demo(cli: Cli, deals: int = 60, seed: int = 4, name: str = "Demo") -> None:
    # Today's pipeline only: these tests read its stages and counts.
    ok(cli("demo", "--deals", deals, "--history-months", 0, "--seed", seed, "--name", name))


def add_deal(cli: Cli, *args: object, workspace: str = "Demo") -> dict[str, Any]:
    base = ["--title", "Renewal", "--company", "Acme", "--value", 1200, "--probability", 60]
    base += ["--stage", "proposal", "--close-date", "2026-12-31"]
    return cli("deals", "add", "--workspace", workspace, *base, *args, "--json").json()


def money(amount: float) -> str:
    return f"${amount:,.0f}"


# --- demo --------------------------------------------------------------------------


def workspace_deal_count(cli: Cli, name: str) -> int:
    workspaces = cli("workspace", "list", "--json").json()["workspaces"]
    return next(w["dealCount"] for w in workspaces if w["name"] == name)


def test_demo_creates_500_deals_and_refuses_to_run_twice_without_replace(cli: Cli) -> None:
    result = ok(cli("demo", "--deals", 500, "--seed", 7))
    assert "Demo" in result.out
    assert workspace_deal_count(cli, "Demo") == 500

    again = user_error(cli("demo", "--deals", 500, "--seed", 7))
    assert "--replace" in again.err
    assert workspace_deal_count(cli, "Demo") == 500

    ok(cli("demo", "--deals", 500, "--seed", 7, "--replace"))
    assert workspace_deal_count(cli, "Demo") == 500, "--replace must not add to the old demo"
    assert len(cli("workspace", "list", "--json").json()["workspaces"]) == 1


def test_demo_json_summary(cli: Cli) -> None:
    summary = cli("demo", "--deals", 60, "--seed", 3, "--name", "Trial", "--json").json()
    assert summary["name"] == "Trial"
    assert summary["deals"] == 60
    assert 0 < summary["openDeals"] < 60
    assert summary["activities"] > 0


def _demo_fingerprint(deals: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (d["id"], d["title"], d["company"], d["value"], d["stage"], d["probability"], d["outcome"])
        for d in deals
    )


def test_demo_is_deterministic_across_fresh_databases(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same seed, same deals (titles, values, stages), whatever the database; the demo
    with its history, as `vectoros demo` loads it."""
    ok(cli("demo", "--deals", 60, "--seed", 11))
    first = all_deals(cli)

    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    ok(invoke(capsys, ["--db", other, "demo", "--deals", 60, "--seed", 11]))
    listing = invoke(capsys, ["--db", other, "deals", "list", "--limit", "10000", "--json"])
    second = listing.json()["deals"]

    assert len(first) == len(second) == 60
    assert _demo_fingerprint(first) == _demo_fingerprint(second)
    # Different seeds give a different pipeline.
    ok(invoke(capsys, ["--db", other, "demo", "--seed", 12, "--deals", 60, "--name", "B"]))
    listing = invoke(capsys, ["--db", other, "deals", "list", "-w", "B", "--json", "--limit", "99"])
    assert [d["title"] for d in listing.json()["deals"]] != [d["title"] for d in second]


# --- forecast ----------------------------------------------------------------------

FORECAST_ARGS = ("--workspace", "Demo", "--timeframe", "60d", "--scenario", "best")


def test_forecast_json_has_the_seed_platform_keys(cli: Cli) -> None:
    load_demo(cli)
    result = cli("forecast", *FORECAST_ARGS, "--json", "--seed", 4).json()

    assert set(result) >= FORECAST_KEYS
    assert result["timeframe"] == "60d"
    assert result["scenario"] == "best"
    assert result["predicted_revenue"] == result["best_case"]
    assert result["worst_case"] <= result["likely_case"] <= result["best_case"]
    assert 0 <= result["confidence"] <= 1
    assert result["deals_analyzed"] > 0
    stats = result["simulation_stats"]
    assert set(stats) >= SIMULATION_STATS_KEYS
    assert stats["num_simulations"] == 10_000
    percentiles = [stats[k] for k in ("min", "p5", "p10", "p25", "p50", "p75", "p90", "p95")]
    assert percentiles == sorted(percentiles)
    assert stats["p95"] <= stats["max"]
    assert result["worst_case"] == stats["p5"]
    assert result["likely_case"] == stats["p50"]
    assert result["best_case"] == stats["p95"]
    assert isinstance(result["breakdown_by_stage"], list) and result["breakdown_by_stage"]
    for row in result["breakdown_by_stage"]:
        assert {"stage", "deals", "total_value", "weighted_value", "avg_probability"} <= set(row)
    assert sum(row["deals"] for row in result["breakdown_by_stage"]) == result["deals_analyzed"]
    assert isinstance(result["forecasted_deals"], list)
    assert len(result["forecasted_deals"]) == result["deals_analyzed"]
    assert {"deal_id", "title", "value", "stage", "adjusted_probability"} <= set(
        result["forecasted_deals"][0]
    )
    assert "probability_of_hitting_goal" not in result


def test_forecast_with_the_same_seed_is_identical(cli: Cli) -> None:
    """A seed reproduces the forecast, also a moment later (a rep re-running it, or a
    script comparing runs): the figures must not drift with the clock's seconds."""
    load_demo(cli)
    first = ok(cli("forecast", *FORECAST_ARGS, "--json", "--seed", 4))
    time.sleep(1.1)
    second = ok(cli("forecast", *FORECAST_ARGS, "--json", "--seed", 4))
    changed = differences(json.loads(first.out), json.loads(second.out))
    assert not changed, f"same seed, different forecast: {changed[:5]}"
    assert first.out == second.out


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths of the leaves that differ between two JSON values, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_forecast_goal_adds_the_probability_of_hitting_it(cli: Cli) -> None:
    load_demo(cli)
    result = cli("forecast", "-w", "Demo", "--seed", 1, "--goal", 50_000, "--json").json()
    assert result["goal"] == 50_000
    assert 0 <= result["probability_of_hitting_goal"] <= 1
    unreachable = cli("forecast", "-w", "Demo", "--seed", 1, "--goal", 1e12, "--json").json()
    assert unreachable["probability_of_hitting_goal"] < result["probability_of_hitting_goal"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--timeframe", "3 weeks"), ("timeframe", "30d")),
        (("--timeframe", "0d"), ("timeframe",)),
        (("--scenario", "great"), ("scenario", "worst", "likely", "best")),
        (("--simulations", "many"), ("simulations",)),
        (("--goal", "lots"), ("goal",)),
    ],
)
def test_forecast_bad_arguments_exit_2_with_help(
    cli: Cli, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    ok(cli("workspace", "create", "Demo"))
    result = user_error(cli("forecast", "--workspace", "Demo", *args))
    for word in words:
        assert word in result.err


def test_forecast_without_workspace_uses_the_only_one(cli: Cli) -> None:
    load_demo(cli)
    with_name = cli("forecast", "--workspace", "Demo", "--json", "--seed", 2).json()
    without = cli("forecast", "--json", "--seed", 2).json()
    assert without == with_name


def test_forecast_without_workspace_when_there_are_several(cli: Cli) -> None:
    load_demo(cli)
    ok(cli("workspace", "create", "Second Team"))
    result = user_error(cli("forecast", "--json"))
    assert "Demo" in result.err
    assert "Second Team" in result.err
    assert "--workspace" in result.err
    assert result.out == ""


def test_forecast_unknown_workspace(cli: Cli) -> None:
    load_demo(cli)
    result = user_error(cli("forecast", "--workspace", "Nope"))
    assert "Nope" in result.err


def test_forecast_on_an_empty_database_says_how_to_start(cli: Cli) -> None:
    result = user_error(cli("forecast"))
    assert "demo" in result.err or "workspace create" in result.err


def test_forecast_human_output_shows_worst_likely_best(cli: Cli) -> None:
    load_demo(cli)
    numbers = cli("forecast", *FORECAST_ARGS, "--json", "--seed", 5).json()
    human = ok(cli("forecast", *FORECAST_ARGS, "--seed", 5))
    for key in ("worst_case", "likely_case", "best_case"):
        assert money(numbers[key]) in human.out, key
    assert "Demo" in human.out
    assert not human.out.lstrip().startswith("{")
    # No goal set: no coverage of the one the JSON makes up (a share of the pipeline).
    assert f"{numbers['pipeline_coverage']:.2f}x" not in human.out and "no goal" in human.out
    with_goal = ok(cli("forecast", *FORECAST_ARGS, "--seed", 5, "--goal", "100000"))
    coverage = cli("forecast", *FORECAST_ARGS, "--json", "--seed", 5, "--goal", "100000")
    assert f"{coverage.json()['pipeline_coverage']:.2f}x" in with_goal.out


# --- deals list ----------------------------------------------------------------------


def test_deals_list_by_stage(cli: Cli) -> None:
    load_demo(cli)
    everything = all_deals(cli, "--workspace", "Demo")
    proposals = [d for d in everything if d["stage"] == "proposal"]
    assert proposals, "the demo should have proposal deals"

    page = cli(
        "deals",
        "list",
        "--workspace",
        "Demo",
        "--stage",
        "proposal",
        "--limit",
        50,
        "--offset",
        0,
        "--json",
    ).json()
    assert set(page) == {"deals", "total"}
    assert page["total"] == len(proposals)
    assert len(page["deals"]) <= 50
    assert len(page["deals"]) == min(50, len(proposals))
    for deal in page["deals"]:
        assert deal["stage"] == "proposal"
        assert set(deal) >= DEAL_KEYS
        assert not any("_" in key for key in deal), f"keys must be camelCase: {sorted(deal)}"


def test_deals_list_pages_are_disjoint(cli: Cli) -> None:
    load_demo(cli)
    first = cli("deals", "list", "--limit", 10, "--offset", 0, "--json").json()
    second = cli("deals", "list", "--limit", 10, "--offset", 10, "--json").json()
    both = cli("deals", "list", "--limit", 20, "--offset", 0, "--json").json()
    first_ids = [d["id"] for d in first["deals"]]
    second_ids = [d["id"] for d in second["deals"]]
    assert len(first_ids) == len(second_ids) == 10
    assert not set(first_ids) & set(second_ids)
    assert first_ids + second_ids == [d["id"] for d in both["deals"]]
    assert first["total"] == second["total"] == 60
    past_the_end = cli("deals", "list", "--offset", 60, "--json").json()
    assert past_the_end == {"deals": [], "total": 60}


def test_deals_list_search(cli: Cli) -> None:
    load_demo(cli)
    add_deal(cli, "--company", "Zyxwv Corp", "--contact-name", "Quentin Blake")
    for needle in ("zyxwv", "ZYXWV CORP", "quentin"):
        page = cli("deals", "list", "--search", needle, "--json").json()
        assert page["total"] == 1, needle
        assert page["deals"][0]["company"] == "Zyxwv Corp"
    assert cli("deals", "list", "-s", "no such thing", "--json").json() == {
        "deals": [],
        "total": 0,
    }


def test_deals_list_human_output(cli: Cli) -> None:
    load_demo(cli)
    result = ok(cli("deals", "list", "--limit", 5))
    assert "of 60" in result.out
    assert "Deals in Demo" in result.out


def test_deals_list_unknown_stage(cli: Cli) -> None:
    load_demo(cli)
    result = user_error(cli("deals", "list", "--stage", "dreaming", "--json"))
    assert "stage" in result.err
    assert "dreaming" in result.err


# --- deals add / update / show / delete ------------------------------------------------


def test_deals_add_as_documented(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    result = ok(
        cli(
            "deals",
            "add",
            "--workspace",
            "Demo",
            "--title",
            "Renewal",
            "--company",
            "Acme",
            "--value",
            "1200",
            "--probability",
            "60",
            "--stage",
            "proposal",
            "--close-date",
            "2026-12-31",
        )
    )
    assert "Renewal" in result.out
    deals = all_deals(cli)
    assert len(deals) == 1
    deal = deals[0]
    assert (deal["title"], deal["company"], deal["value"]) == ("Renewal", "Acme", 1200)
    assert (deal["probability"], deal["stage"], deal["closeDate"]) == (60, "proposal", "2026-12-31")
    assert deal["outcome"] is None


def test_deals_add_json_returns_the_deal(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli, "--contact-name", "Ada Lovelace", "--contact-email", "ada@acme.io")
    assert set(deal) >= DEAL_KEYS
    assert deal["title"] == "Renewal"
    assert deal["contactEmail"] == "ada@acme.io"
    assert deal["contactName"] == "Ada Lovelace"
    assert deal["version"] == 1
    shown = cli("deals", "show", deal["id"], "--json").json()
    assert {k: shown[k] for k in deal} == deal


def test_deals_add_defaults_to_prospect(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = cli("deals", "add", "--title", "Bare", "--json").json()
    assert deal["stage"] == "prospect"
    assert deal["value"] == 0
    assert deal["outcome"] is None


def test_deals_update_stage_by_full_id_and_prefix(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)

    updated = cli("deals", "update", deal["id"], "--stage", "negotiation", "--json").json()
    assert updated["stage"] == "negotiation"
    assert updated["version"] == deal["version"] + 1

    again = cli("deals", "update", deal["id"][:8], "--stage", "qualified", "--json").json()
    assert again["id"] == deal["id"]
    assert again["stage"] == "qualified"
    assert again["version"] == deal["version"] + 2

    human = ok(cli("deals", "update", deal["id"][:8], "--value", "1500"))
    assert "Renewal" in human.out

    shown = cli("deals", "show", deal["id"], "--json").json()
    assert shown["stage"] == "qualified"
    assert shown["value"] == 1500
    assert shown["version"] == deal["version"] + 3
    stage_changes = [(h["from"], h["to"]) for h in shown["history"] if h["field"] == "stage"]
    assert ("proposal", "negotiation") in stage_changes
    assert ("negotiation", "qualified") in stage_changes
    for entry in shown["history"]:
        assert set(entry) >= {"field", "from", "to", "changedAt"}


def test_deals_update_with_a_stale_version_is_refused(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)
    assert deal["version"] == 1
    ok(cli("deals", "update", deal["id"], "--stage", "negotiation"))

    result = cli("deals", "update", deal["id"], "--value", "999", "--expect-version", 1)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert "someone else" in result.err

    stored = cli("deals", "show", deal["id"], "--json").json()
    assert stored["value"] == 1200
    assert stored["stage"] == "negotiation"
    assert stored["version"] == 2

    current = cli("deals", "update", deal["id"], "--value", 999, "--expect-version", 2, "--json")
    assert current.json()["value"] == 999


def test_deals_update_needs_a_change(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)
    user_error(cli("deals", "update", deal["id"]))


def test_deals_update_bad_value_changes_nothing(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)
    result = user_error(cli("deals", "update", deal["id"], "--probability", "101"))
    assert "probability" in result.err
    stored = cli("deals", "show", deal["id"], "--json").json()
    assert stored["probability"] == 60
    assert stored["version"] == 1


def test_deals_delete(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)
    ok(cli("activity", "add", deal["id"], "--type", "note", "-d", "Will be deleted too"))
    result = ok(cli("deals", "delete", deal["id"]))
    assert "Renewal" in result.out
    assert all_deals(cli) == []
    missing = user_error(cli("deals", "show", deal["id"]))
    assert deal["id"] in missing.err or "does not exist" in missing.err
    user_error(cli("deals", "delete", deal["id"]))
    user_error(cli("deals", "show", deal["id"][:8]))


def test_deals_show_unknown_or_malformed_id(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    user_error(cli("deals", "show", "00000000-0000-4000-8000-000000000000"))
    user_error(cli("deals", "show", "deadbeef"))
    result = user_error(cli("deals", "show", "xyz"))
    assert "xyz" in result.err


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--value", "-5"), "value"),
        (("--value", "abc"), "value"),
        (("--probability", "101"), "probability"),
        (("--probability", "60.5"), "probability"),
        (("--contact-email", "bad"), "contact_email"),
        (("--close-date", "2026-13-45"), "close_date"),
        (("--stage", "foo"), "stage"),
        (("--outcome", "won", "--stage", "proposal"), "outcome"),
        (("--title", ""), "title"),
    ],
)
def test_deals_add_bad_input(cli: Cli, args: tuple[str, ...], field: str) -> None:
    ok(cli("workspace", "create", "Demo"))
    base = {"--title": "Renewal", "--company": "Acme", "--value": "1200", "--stage": "proposal"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [item for pair in base.items() for item in pair]
    result = user_error(cli("deals", "add", "--workspace", "Demo", *argv))
    assert re.search(rf"\b{field}\b", result.err), result.err
    assert all_deals(cli) == [], "nothing may be written on bad input"


def test_deals_add_text_that_looks_like_markup_is_printed_as_is(cli: Cli) -> None:
    """Titles and bad values are user text: square brackets must not be taken as Rich
    markup (they vanished, or a stray closing tag crashed the CLI with a traceback)."""
    ok(cli("workspace", "create", "Demo"))
    created = ok(cli("deals", "add", "--title", "Pilot [/phase 2]", "--value", "10"))
    assert "Pilot [/phase 2]" in created.out
    listed = ok(cli("deals", "list"))
    assert "[/phase" in listed.out
    bad = user_error(cli("deals", "add", "--title", "X", "--value", "[bold]"))
    assert "[bold]" in bad.err
    bad = user_error(cli("deals", "add", "--title", "X", "--value", "[/x]"))
    assert "[/x]" in bad.err


# --- score -----------------------------------------------------------------------------


def test_score_json(cli: Cli) -> None:
    load_demo(cli)
    result = cli("score", "--workspace", "Demo", "--json").json()
    assert set(result) >= {"scored_deals", "workspace_metrics"}
    metrics = result["workspace_metrics"]
    assert set(metrics) >= {"average_health", "total_deals", "scored_deals", "health_distribution"}
    assert set(metrics["health_distribution"]) == HEALTH_BANDS
    assert metrics["total_deals"] == 60
    assert metrics["scored_deals"] == len(result["scored_deals"])
    assert 0 < metrics["scored_deals"] < 60, "only open deals are scored"
    assert sum(metrics["health_distribution"].values()) == metrics["scored_deals"]
    assert 0 <= metrics["average_health"] <= 100
    for deal in result["scored_deals"]:
        assert 0 <= deal["health_score"] <= 100
        assert deal["health_status"] in HEALTH_BANDS


def test_score_on_an_empty_workspace_has_every_band(cli: Cli) -> None:
    ok(cli("workspace", "create", "Empty"))
    metrics = cli("score", "--json").json()["workspace_metrics"]
    assert metrics["scored_deals"] == 0
    assert metrics["health_distribution"] == dict.fromkeys(HEALTH_BANDS, 0)


def test_score_human_output(cli: Cli) -> None:
    load_demo(cli)
    result = ok(cli("score", "--workspace", "Demo"))
    assert "average health" in result.out


# --- insights --------------------------------------------------------------------------


def test_insights_json_and_no_duplicates(cli: Cli) -> None:
    load_demo(cli)
    first = cli("insights", "--workspace", "Demo", "--json").json()
    assert set(first) >= {"insights", "total"}
    assert first["total"] == len(first["insights"]) > 0
    for item in first["insights"]:
        assert set(item) >= INSIGHT_KEYS
        assert item["priority"] in {"critical", "high", "medium", "low"}
        assert isinstance(item["actions"], list)
        assert isinstance(item["data"], dict)
    second = cli("insights", "--workspace", "Demo", "--json").json()
    assert second["total"] == first["total"]
    assert {i["id"] for i in second["insights"]} == {i["id"] for i in first["insights"]}


def test_insights_dismiss_survives_refresh(cli: Cli) -> None:
    load_demo(cli)
    items = cli("insights", "--json").json()["insights"]
    target = items[0]["id"]

    ok(cli("insights", "dismiss", target))
    stored = cli("insights", "--no-refresh", "--json").json()
    assert target not in {i["id"] for i in stored["insights"]}
    assert stored["total"] == len(items) - 1
    visible = cli("insights", "--json").json()
    assert target not in {i["id"] for i in visible["insights"]}

    everything = cli("insights", "--all", "--json").json()["insights"]
    dismissed = [i for i in everything if i["id"] == target]
    assert len(dismissed) == 1
    assert dismissed[0]["isDismissed"] is True

    # Another refresh (the default) keeps it dismissed.
    refreshed = cli("insights", "--workspace", "Demo", "--json").json()
    assert target not in {i["id"] for i in refreshed["insights"]}
    assert target in {i["id"] for i in cli("insights", "--all", "--json").json()["insights"]}


def test_insights_read_survives_refresh(cli: Cli) -> None:
    load_demo(cli)
    items = cli("insights", "--json").json()["insights"]
    assert not any(i["isRead"] for i in items)
    target = items[-1]["id"]

    ok(cli("insights", "read", target[:8]))
    refreshed = {i["id"]: i for i in cli("insights", "--json").json()["insights"]}
    assert refreshed[target]["isRead"] is True
    unread = cli("insights", "--unread", "--no-refresh", "--json").json()
    assert target not in {i["id"] for i in unread["insights"]}
    assert unread["total"] == len(items) - 1


def test_insights_unknown_id(cli: Cli) -> None:
    load_demo(cli)
    user_error(cli("insights", "dismiss", "00000000-0000-4000-8000-000000000000"))


def test_insights_human_output(cli: Cli) -> None:
    load_demo(cli)
    result = ok(cli("insights"))
    assert "Insights for Demo" in result.out


def test_insights_in_the_terminal_are_the_most_pressing_first(cli: Cli) -> None:
    """A team's workspace has tens of thousands of insights: the table lists --top of them,
    in the order the JSON (which lists all) gives, and says how many there are."""
    load_demo(cli)
    every = cli("insights", "--json").json()["insights"]
    assert len(every) > 5
    result = ok(cli("insights", "--no-refresh", "--top", 5))
    listed = [line.split()[0] for line in result.out.splitlines() if line[:8] in _ids(every)]
    assert listed == [i["id"][:8] for i in every[:5]]
    assert f"the first 5 of {len(every):,}; --top N lists more" in result.out
    everything = ok(cli("insights", "--no-refresh", "--top", len(every)))
    assert "--top N lists more" not in everything.out
    assert sum(line[:8] in _ids(every) for line in everything.out.splitlines()) == len(every)
    refused = user_error(cli("insights", "--top", 0))
    assert "--top" in refused.err


def _ids(insights: list[dict[str, Any]]) -> set[str]:
    return {i["id"][:8] for i in insights}


# --- activity --------------------------------------------------------------------------


def test_activity_add_and_list(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)
    ok(cli("activity", "add", deal["id"], "--type", "call", "-d", "Discovery call"))
    ok(cli("activity", "add", deal["id"][:8], "--type", "email", "-d", "Sent pricing"))
    listing = cli("activity", "list", deal["id"], "--json").json()
    assert listing["total"] == 2
    call = next(a for a in listing["activities"] if a["type"] == "call")
    assert call["description"] == "Discovery call"
    assert call["dealId"] == deal["id"]
    shown = cli("deals", "show", deal["id"], "--json").json()
    assert len(shown["activities"]) == 2


def test_activity_bad_type(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    deal = add_deal(cli)
    result = user_error(cli("activity", "add", deal["id"], "--type", "fax", "-d", "Faxed"))
    assert "type" in result.err
    assert cli("activity", "list", deal["id"], "--json").json()["total"] == 0


# --- workspaces ------------------------------------------------------------------------


def test_workspace_lifecycle(cli: Cli) -> None:
    created = cli("workspace", "create", "X", "--json").json()
    assert created["name"] == "X"
    names = [w["name"] for w in cli("workspace", "list", "--json").json()["workspaces"]]
    assert names == ["X"]

    ok(cli("workspace", "add-member", "a@b.co", "-w", "X", "--role", "admin"))
    members = cli("workspace", "members", "X", "--json").json()
    # Its creator (me, the OS user here) owns it; a@b.co is an admin.
    roles = {m["email"]: m["role"] for m in members["members"]}
    assert members["total"] == 2 and roles.pop("a@b.co") == "admin"
    assert list(roles.values()) == ["owner"]

    ok(cli("workspace", "rename", "X", "Team X"))
    listing = cli("workspace", "list", "--json").json()
    assert [w["name"] for w in listing["workspaces"]] == ["Team X"]
    assert listing["workspaces"][0]["id"] == created["id"]

    user_error(cli("workspace", "delete", "X", "--yes"))
    ok(cli("workspace", "delete", "Team X", "--yes"))
    assert cli("workspace", "list", "--json").json() == {"workspaces": [], "total": 0}


def test_workspace_bad_input(cli: Cli) -> None:
    ok(cli("workspace", "create", "X"))
    assert "email" in user_error(cli("workspace", "add-member", "not-an-email", "-w", "X")).err
    user_error(cli("workspace", "add-member", "a@b.co", "-w", "X", "--role", "king"))
    user_error(cli("workspace", "add-member", "a@b.co", "-w", "Nope"))
    assert "name" in user_error(cli("workspace", "create", "  ")).err


def test_a_workspace_name_is_one_workspace_in_any_case(cli: Cli) -> None:
    """`-w Demo` must keep finding one workspace: a second of the same name, in any case,
    is refused when it is made or renamed into, and nothing is created or renamed."""
    ok(cli("workspace", "create", "Demo"))
    ok(cli("workspace", "create", "Other"))
    for command in (("create", "DEMO"), ("create", " demo "), ("rename", "Other", "demo")):
        refused = user_error(cli("workspace", *command))
        assert "a workspace named 'Demo' exists already" in refused.err
    names = sorted(w["name"] for w in cli("workspace", "list", "--json").json()["workspaces"])
    assert names == ["Demo", "Other"]
    # A workspace may change the case of its own name.
    ok(cli("workspace", "rename", "Demo", "DEMO"))
    assert ok(cli("forecast", "--json", "-w", "demo")).json()["deals_analyzed"] == 0


def test_workspace_delete_removes_its_deals(cli: Cli) -> None:
    load_demo(cli)
    ok(cli("workspace", "delete", "Demo", "--yes"))
    assert cli("workspace", "list", "--json").json()["total"] == 0
    ok(cli("workspace", "create", "Fresh"))
    assert all_deals(cli) == []


# --- export / import -------------------------------------------------------------------


def test_export_csv_to_stdout(cli: Cli) -> None:
    load_demo(cli)
    result = ok(cli("export", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 60
    assert {"title", "company", "value", "stage", "probability"} <= set(rows[0])
    titles = {d["title"] for d in all_deals(cli)}
    assert {r["title"] for r in rows} == titles


def test_export_csv_to_a_file(cli: Cli, tmp_path: Path) -> None:
    load_demo(cli)
    target = tmp_path / "deals.csv"
    result = ok(cli("export", "--workspace", "Demo", "--format", "csv", "-o", target))
    assert "title" not in result.out, "the CSV goes to the file, not to stdout"
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 60
    assert not list(tmp_path.glob("*.partial"))
    proposals = ok(cli("export", "--stage", "proposal", "-o", tmp_path / "p.csv"))
    with (tmp_path / "p.csv").open(encoding="utf-8", newline="") as stream:
        assert {r["stage"] for r in csv.DictReader(stream)} == {"proposal"}
    assert "Traceback" not in proposals.err


IMPORT_CSV = """\
Deal Name,Account,Amount,Stage,Probability,Close Date
Platform license,Acme Corp,"$12,000",Proposal,60,2026-12-31
Pilot,Globex,2500,Qualified,30,2027-01-15
Renewal,Initech,8000,Negotiation,80,2026-11-30
"""


def write_import_file(tmp_path: Path, text: str = IMPORT_CSV) -> Path:
    path = tmp_path / "crm-export.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_dry_run_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Imports"))
    path = write_import_file(tmp_path)
    report = cli("import", path, "--dry-run", "--json").json()
    assert report["dryRun"] is True
    assert report["rows"] == 3
    assert report["created"] == 3
    assert report["updated"] == report["unchanged"] == 0
    assert report["workspace"] == "Imports"
    assert all_deals(cli) == []


def test_import_then_reimport_does_not_duplicate(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Imports"))
    path = write_import_file(tmp_path)
    first = cli("import", path, "--workspace", "Imports", "--json").json()
    assert (first["dryRun"], first["rows"], first["created"]) == (False, 3, 3)

    deals = {d["title"]: d for d in all_deals(cli)}
    assert set(deals) == {"Platform license", "Pilot", "Renewal"}
    license_deal = deals["Platform license"]
    assert license_deal["company"] == "Acme Corp"
    assert license_deal["value"] == 12_000
    assert license_deal["stage"] == "proposal"
    assert license_deal["probability"] == 60
    assert license_deal["closeDate"] == "2026-12-31"

    second = cli("import", path, "--json").json()
    assert second["created"] == 0
    assert second["unchanged"] == 3
    assert len(all_deals(cli)) == 3

    dry = cli("import", path, "--dry-run", "--json").json()
    assert (dry["created"], dry["unchanged"]) == (0, 3)


def test_import_human_output(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Imports"))
    result = ok(cli("import", write_import_file(tmp_path)))
    assert "3" in result.out
    assert len(all_deals(cli)) == 3


def test_import_says_how_it_read_what_the_file_left_open(cli: Cli, tmp_path: Path) -> None:
    """The date order it took, probabilities as fractions: in the report, before the rep
    finds every close date a month off."""
    ok(cli("workspace", "create", "Imports"))
    path = write_import_file(tmp_path, "Title,Close Date,Probability\nA,03/04/2026,0.5\n")
    dry = ok(cli("import", path, "--dry-run"))
    text = " ".join(dry.out.split())
    assert "Note: dates are read as month/day/year" in text
    assert "03/04/2026 is March 4, 2026" in text and "--day-first" in text
    assert 'Note: probabilities in "Probability" are fractions; 0.6 is read as 60%' in text
    assert "Would import 1 row into" in text
    notes = cli("import", path, "--json").json()["notes"]
    assert any("month/day/year" in n for n in notes) and any("fractions" in n for n in notes)
    assert [d["closeDate"] for d in all_deals(cli)] == ["2026-03-04"]
    day_first = cli("import", path, "--day-first", "--dry-run", "--json").json()
    assert not any("month/day/year" in n for n in day_first["notes"])


def test_import_bad_file_is_all_or_nothing(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Imports"))
    bad = IMPORT_CSV + "Broken,Umbrella,lots,Proposal,60,2026-12-31\n"
    result = user_error(cli("import", write_import_file(tmp_path, bad)))
    assert "Traceback" not in result.err
    assert all_deals(cli) == []


def test_import_of_a_windows_excel_file_names_its_encoding(cli: Cli, tmp_path: Path) -> None:
    """Excel's plain "CSV" on Windows is cp1252: refused as not UTF-8, with the option
    to pass; read right with it. An encoding Python does not know is a usage error."""
    ok(cli("workspace", "create", "Imports"))
    path = tmp_path / "excel.csv"
    path.write_bytes("Title,Company,Value\nCafé deal,Société Générale,1200\n".encode("cp1252"))
    refused = user_error(cli("import", path))
    assert "not UTF-8 text" in refused.err and "--encoding cp1252" in refused.err
    assert all_deals(cli) == []
    unknown = user_error(cli("import", path, "--encoding", "klingon"))
    assert "--encoding" in unknown.err and "'klingon'" in unknown.err
    assert all_deals(cli) == []
    ok(cli("import", path, "--encoding", "cp1252"))
    [deal] = all_deals(cli)
    assert (deal["title"], deal["company"], deal["value"]) == (
        "Café deal",
        "Société Générale",
        1200,
    )


def test_import_reads_utf8_with_or_without_excels_mark(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Imports"))
    path = tmp_path / "marked.csv"
    path.write_bytes("\ufeffTitle,Value\nÜber deal,5\n".encode())
    ok(cli("import", path, "--encoding", "UTF8"))
    assert [d["title"] for d in all_deals(cli)] == ["Über deal"]


def test_import_missing_file(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Imports"))
    result = user_error(cli("import", tmp_path / "nope.csv"))
    assert "nope.csv" in result.err


# --- doctor / database URLs ------------------------------------------------------------


def test_doctor_on_a_fresh_home(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    """Before any command made the schema: paths under VECTOROS_HOME, not migrated, exit 1;
    ``doctor --upgrade`` creates the schema (and the data folder it lives in)."""
    before = invoke(capsys, ["doctor", "--json"])
    report = json.loads(before.out)
    for name, where in report["paths"].items():
        assert Path(where).is_relative_to(isolated_home.resolve()), (name, where)
    assert report["paths"]["database_file"] == str(
        isolated_home.resolve() / "data" / "vectoros.sqlite3"
    )
    assert report["ok"] is False
    assert report["database"].get("migrated") is False, report["database"]
    assert before.code == 1, "an unhealthy doctor must exit 1"

    upgraded = invoke(capsys, ["doctor", "--upgrade", "--json"])
    report = json.loads(upgraded.out)
    assert report["ok"] is True, report["database"]
    assert report["database"]["migrated"] is True
    assert report["database"]["counts"] == {
        "workspaces": 0,
        "deals": 0,
        "activities": 0,
        "insights": 0,
    }
    assert upgraded.code == 0, upgraded.err

    human = ok(invoke(capsys, ["doctor"]))
    assert isolated_home.name in human.out


def test_doctor_exit_code_when_unhealthy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Whatever else is wrong, a doctor that reports ok=false must not exit 0."""
    missing = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"
    result = invoke(capsys, ["--db", missing, "doctor", "--json"])
    assert json.loads(result.out)["ok"] is False
    assert result.code == 1


def test_doctor_counts_after_a_demo(capsys: pytest.CaptureFixture[str]) -> None:
    ok(invoke(capsys, ["demo", "--deals", "30", "--seed", "2"]))
    report = json.loads(ok(invoke(capsys, ["doctor", "--json"])).out)
    assert report["ok"] is True
    assert report["database"]["counts"]["workspaces"] == 1
    assert report["database"]["counts"]["deals"] == 30


def test_doctor_with_the_test_database(cli: Cli) -> None:
    report = cli("doctor", "--json").json()
    assert report["ok"] is True
    assert report["database"]["reachable"] is True


UNREACHABLE = "postgresql+psycopg://postgres:SECRETPW@127.0.0.1:1/x"


@pytest.mark.parametrize("command", [("doctor",), ("workspace", "list"), ("forecast",)])
def test_unreachable_postgres(
    capsys: pytest.CaptureFixture[str], isolated_home: Path, command: tuple[str, ...]
) -> None:
    result = invoke(capsys, ["--db", UNREACHABLE, *command])
    assert "Traceback" not in result.both
    assert "SECRETPW" not in result.both
    assert re.search(r"cannot (be )?(reach|open)", result.both, re.IGNORECASE), result.both
    logs = "".join(p.read_text() for p in isolated_home.rglob("*.log"))
    assert "SECRETPW" not in logs
    assert result.code == 1, result.both


def test_unreachable_postgres_doctor_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, ["--db", UNREACHABLE, "doctor", "--json"])
    assert "SECRETPW" not in result.both
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["database"]["reachable"] is False
    assert report["database"]["error"]
    assert "***" in report["database"]["url"]
    assert result.code == 1


@pytest.mark.parametrize("command", [("doctor",), ("workspace", "list")])
def test_unsupported_database_url(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    result = user_error(invoke(capsys, ["--db", "mysql://x", *command]))
    assert "mysql" in result.err
    assert "unexpected" not in result.err.lower()


# --- version and help ------------------------------------------------------------------


def test_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    info = ok(invoke(capsys, ["version", "--json"])).json()
    assert info["vectoros"] == __version__
    assert info["python"]


def test_version_human(capsys: pytest.CaptureFixture[str]) -> None:
    assert __version__ in ok(invoke(capsys, ["version"])).out


def test_bare_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    result = ok(invoke(capsys, []))
    assert "Usage" in result.out
    for command in ("demo", "forecast", "deals", "score", "insights", "doctor"):
        assert command in result.out


def test_help_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert "Usage" in ok(invoke(capsys, ["deals", "add", "--help"])).out


def test_unknown_command_and_flag(capsys: pytest.CaptureFixture[str]) -> None:
    user_error(invoke(capsys, ["frobnicate"]))
    user_error(invoke(capsys, ["forecast", "--no-such-flag"]))


@pytest.mark.parametrize("command", [["forecast", "--json"], ["deals", "list"]])
def test_a_data_file_that_is_not_a_database_is_reported_not_a_crash(
    command: list[str], capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    data = isolated_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "vectoros.sqlite3").write_text("notes\n")
    result = failure(invoke(capsys, command))
    assert "cannot open the database" in result.err
    assert "file is not a database" in result.err
    assert "unexpected error" not in result.err
    assert (data / "vectoros.sqlite3").read_text() == "notes\n"
