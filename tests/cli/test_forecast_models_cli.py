"""`vectoros forecast --model rep|history|auto`, `vectoros forecast history` and
`vectoros backtest`, on a demo with 18 months of played-out history and on one without,
on both databases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import Cli, ok, one_line, user_error
from sqlmodel import select

from vectoros_tui.engine.win_model import MIN_TRAINING_ROWS, MIN_WINS
from vectoros_tui.store.store import open_store
from vectoros_tui.store.tables import ForecastRun, ModelFit

QUICK = ("--simulations", 1000, "--seed", 3)
# The replay's arithmetic is the same on both databases (the store's backtest tests read
# the history from each); the command's output and errors are checked on SQLite.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# The seed's forecast keys (rep's JSON is the original's, exactly).
REP_KEYS = {
    "workspace_id",
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
    "total_pipeline_value",
    "revenue_goal",
    "pipeline_coverage",
    "breakdown_by_stage",
    "simulation_stats",
    "forecasted_deals",
    "seed",
}


def history_demo(cli: Cli) -> None:
    ok(cli("demo", "--deals", 700, "--seed", 5, "--name", "Hist"))


def plain_demo(cli: Cli) -> None:
    ok(cli("demo", "--deals", 60, "--history-months", 0, "--seed", 5, "--name", "Plain"))


def forecast(cli: Cli, workspace: str, *args: object) -> dict[str, Any]:
    return ok(cli("forecast", "-w", workspace, *QUICK, "--json", *args)).json()


def kept(database_url: str, table: Any) -> list[Any]:
    store = open_store(database_url)
    try:
        with store.db.read() as session:
            return list(session.exec(select(table)).all())
    finally:
        store.close()


def test_auto_uses_the_history_model_and_explains_each_deal(cli: Cli, database_url: str) -> None:
    history_demo(cli)
    result = forecast(cli, "Hist")
    assert result["model"] == "history"
    assert result["worst_case"] <= result["likely_case"] <= result["best_case"]
    # Every key a reader of the reps' forecast reads is there too.
    assert set(result) >= REP_KEYS
    assert result["predicted_revenue"] == result["likely_case"]
    by_stage = {b["stage"]: b for b in result["breakdown_by_stage"]}
    for stage, row in by_stage.items():
        mine = [d for d in result["forecasted_deals"] if d["stage"] == stage]
        assert row["deals"] == len(mine)
        expected = sum(d["value"] * d["winProbabilityInWindow"] for d in mine)
        assert abs(row["weighted_value"] - expected) <= 1e-3 * max(expected, 1) + len(mine)
    training = result["training"]
    assert training["open_deal_periods"] >= MIN_TRAINING_ROWS
    assert training["won_within_window"] >= MIN_WINS
    assert training["minimum"] == {
        "open_deal_periods": MIN_TRAINING_ROWS,
        "won_within_window": MIN_WINS,
    }
    deals = result["forecasted_deals"]
    assert len(deals) == result["deals_analyzed"] > 0
    for deal in deals:
        assert 0 <= deal["winProbabilityInWindow"] <= 1
        total = (
            deal["winProbabilityInWindow"]
            + deal["lossProbabilityInWindow"]
            + deal["stillOpenProbability"]
        )
        assert abs(total - 1) < 1e-3
        assert 1 <= len(deal["reasons"]) <= 3
        assert len({r["reason"] for r in deal["reasons"]}) == len(deal["reasons"])
    # Ranked by value x chance of winning within the window (the chance is shown rounded
    # to 4 places, so two neighbours may look a hair out of order).
    for before, after in itertools.pairwise(deals):
        rounding = 5e-5 * (before["value"] + after["value"])
        assert (
            after["value"] * after["winProbabilityInWindow"]
            <= before["value"] * before["winProbabilityInWindow"] + rounding
        )
    # The fit is kept for this data and day, and the day's run is kept.
    [fit] = kept(database_url, ModelFit)
    assert fit.window_days == 30 and "not_enough" not in fit.payload
    assert {(r.model, r.window_days) for r in kept(database_url, ForecastRun)} == {("history", 30)}


def test_the_kept_fit_is_reused_until_outcomes_change_enough(cli: Cli, database_url: str) -> None:
    history_demo(cli)
    # The demo fits today's model and replays its track record: the first forecast, on
    # the CLI or the screen, reads them instead of the whole history.
    [fit] = kept(database_url, ModelFit)
    assert fit.window_days == 30 and "not_enough" not in fit.payload
    assert fit.payload.get("track")
    first = forecast(cli, "Hist")
    assert kept(database_url, ModelFit)[0].updated_at == fit.updated_at
    again = forecast(cli, "Hist")
    # The same model (its deals' ages moved by the seconds between the runs, no more).
    assert again["training"] == first["training"]
    assert abs(again["mean_forecast"] - first["mean_forecast"]) <= 1e-3 * first["mean_forecast"]
    assert kept(database_url, ModelFit)[0].updated_at == fit.updated_at  # reused, not refitted

    # One more lost deal: the same fit, but the deal is no longer forecast.
    deals = [d["deal_id"] for d in first["forecasted_deals"]]
    ok(cli("deals", "update", deals[0], "--stage", "closed", "--outcome", "lost"))
    changed = forecast(cli, "Hist")
    assert kept(database_url, ModelFit)[0].updated_at == fit.updated_at
    assert deals[0] not in {d["deal_id"] for d in changed["forecasted_deals"]}
    assert changed["deals_analyzed"] == first["deals_analyzed"] - 1

    # Enough outcomes later (more than 1% of the closed deals, at least 3), it refits.
    closed = fit.payload["data"][0]
    for deal in deals[1 : 2 + max(3, closed // 100)]:
        ok(cli("deals", "update", deal, "--stage", "closed", "--outcome", "won"))
    forecast(cli, "Hist")
    [refit] = kept(database_url, ModelFit)
    assert refit.updated_at > fit.updated_at
    assert refit.payload["data"][0] > closed


def test_rep_keeps_the_originals_json_and_auto_falls_back_saying_why(cli: Cli) -> None:
    plain_demo(cli)
    rep = forecast(cli, "Plain", "--model", "rep")
    assert set(rep) == REP_KEYS
    auto = forecast(cli, "Plain")
    assert auto["model"] == "rep"
    assert f"at least {MIN_TRAINING_ROWS} and {MIN_WINS}" in auto["model_note"]
    assert {k: v for k, v in auto.items() if k not in ("model", "model_note")} == rep

    refused = user_error(cli("forecast", "-w", "Plain", "--model", "history"))
    message = one_line(refused.err)
    assert "too little history" in message
    assert f"at least {MIN_TRAINING_ROWS} and {MIN_WINS}" in message

    text = ok(cli("forecast", "-w", "Plain", *QUICK)).out
    assert "Model: the reps' probabilities; too little history" in one_line(text)


def test_forecast_history_lists_each_days_runs(cli: Cli) -> None:
    plain_demo(cli)
    empty = ok(cli("forecast", "history", "-w", "Plain"))
    assert "No 30-day forecast kept" in one_line(empty.out)
    history_demo(cli)
    # The demo keeps the day's forecast, as `vectoros forecast` would make it.
    (made,) = ok(cli("forecast", "history", "-w", "Hist", "--json")).json()["runs"]
    assert made["model"] == "history"
    forecast(cli, "Hist")
    forecast(cli, "Hist", "--model", "rep")
    forecast(cli, "Hist", "--as-of", "2026-06-01")  # as-of forecasts are not kept
    listed = ok(cli("forecast", "history", "-w", "Hist", "--json")).json()
    runs = listed["runs"]
    assert [r["model"] for r in runs] == ["history", "rep"]
    assert all(r["actual"] is None and r["within_band"] is None for r in runs)  # window open
    assert runs[0]["p5"] <= runs[0]["p50"] <= runs[0]["p95"]
    text = ok(cli("forecast", "history", "-w", "Hist")).out
    assert "window open" in text
    user_error(cli("forecast", "history", "-w", "Hist", "--as-of", "2026-06-01"))
    user_error(cli("forecast", "yesterday", "-w", "Hist"))


@SQLITE_ONLY
def test_backtest_scores_three_models_and_refuses_bad_ranges(cli: Cli) -> None:
    history_demo(cli)
    result = ok(cli("backtest", "-w", "Hist", "--simulations", 500, "--json")).json()
    assert len(result["cutoffs"]) == 12
    assert set(result["summary"]) == {"rep", "history", "run_rate"}
    for row in result["cutoffs"]:
        assert row["actual"] >= 0
        assert row["forecasts"]["rep"]["p5"] <= row["forecasts"]["rep"]["p95"]
    learned = result["summary"]["history"]
    assert learned["cutoffs"] >= 6
    assert 0 <= learned["coverage_p5_p95"] <= 1
    # On a history with reps' optimism built in, the learned model beats their numbers.
    assert learned["mean_pinball"] < result["summary"]["rep"]["mean_pinball"]
    assert {b["from"] for b in result["calibration"]["history"]} <= {i / 10 for i in range(10)}

    text = ok(cli("backtest", "-w", "Hist", "--simulations", 500, "--model", "history")).out
    assert "Scores" in text and "history" in text and "rep %" not in text

    for args, words in [
        (("--every", "5x"), "--every '5x'"),
        (("--every", "0mo"), "--every '0mo'"),
        (("--to", "2099-01-01"), "has not passed yet"),
        (("--from", "2000-01-01"), "before the first deal"),
        (("--from", "2026-06-01", "--to", "2026-05-01"), "is after --to"),
        (("--from", "2026-13-01"), "2026-13-01"),
    ]:
        refused = user_error(cli("backtest", "-w", "Hist", *args))
        assert words in one_line(refused.err), args


def test_backtest_of_an_empty_workspace_says_there_is_nothing_to_replay(cli: Cli) -> None:
    ok(cli("workspace", "create", "Empty"))
    refused = user_error(cli("backtest", "-w", "Empty"))
    assert "no deals" in one_line(refused.err)


def test_the_forecast_history_chart_is_plain_text_with_both_models_and_what_closed() -> None:
    from vectoros_tui.cli.analytics_commands import _history_chart

    rows = [
        {"day": f"2026-10-{d:02d}", "model": m, "p5": b * 0.4, "p50": b, "p95": b * 1.8}
        | {"actual": 100_000.0 if d < 20 else None}
        for d in (1, 11, 21)
        for m, b in (("history", 700_000.0), ("rep", 1_900_000.0))
    ]
    chart = _history_chart(rows, 90)
    assert "\x1b" not in chart
    for words in ("history P50", "rep P5–P95", "closed", "$3.4M", "2026-10-01"):
        assert words in chart, words


def test_only_a_reps_own_forecast_is_kept_a_served_read_writes_nothing(
    cli: Cli, database_url: str
) -> None:
    plain_demo(cli)
    store = open_store(database_url)
    try:
        workspace = store.workspaces.resolve("Plain")
        store.analytics.forecast(workspace.id, simulations=500)  # as the server answers
        assert kept(database_url, ForecastRun) == []
        store.analytics.forecast(workspace.id, simulations=500, keep=True)  # as the CLI runs
        assert [r.model for r in kept(database_url, ForecastRun)] == ["rep"]
    finally:
        store.close()


def test_the_text_says_how_many_open_deals_have_no_value(cli: Cli, database_url: str) -> None:
    history_demo(cli)
    assert "no value" not in ok(cli("forecast", "-w", "Hist", *QUICK)).out
    result = forecast(cli, "Hist")
    assert result["unpriced_deals"] == 0
    for deal in result["forecasted_deals"][:2]:
        ok(cli("deals", "update", deal["deal_id"], "--value", "0"))
    text = one_line(ok(cli("forecast", "-w", "Hist", *QUICK)).out)
    assert f"2 of the {result['deals_analyzed']} open deals have no value" in text
    assert forecast(cli, "Hist")["unpriced_deals"] == 2


def at_close_export(path: Path) -> Path:
    """A CRM export whose amounts are filled in at the close (the Maven CRM sample's
    way): 150 deals won at their amount, 150 lost at 0, 60 still open with none, over
    the last 16 months."""
    today = datetime.now(UTC).date()
    lines = ["opportunity_id,sales_agent,deal_stage,engage_date,close_date,close_value"]
    for number in range(360):
        engaged = today - timedelta(days=480 - number)
        closed = engaged + timedelta(days=10 + number % 50)
        kind = ("Won", "Lost", "Engaging")[number % 3 if number < 300 else 2]
        if kind == "Engaging" or closed >= today:
            lines.append(f"O{number},Agent {number % 4},Engaging,{engaged},,")
        elif kind == "Won":
            lines.append(f"O{number},Agent {number % 4},Won,{engaged},{closed},{1000 + number}")
        else:
            lines.append(f"O{number},Agent {number % 4},Lost,{engaged},{closed},0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_unpriced_deals_where_amounts_come_at_the_close_count_as_past_wins(
    cli: Cli, tmp_path: Path
) -> None:
    path = at_close_export(tmp_path / "sales_pipeline.csv")
    mapping = ("--map", "title=opportunity_id", "--stage-map", "Engaging=qualified")
    ok(cli("import", path, "-w", "Maven", *mapping))
    result = forecast(cli, "Maven", "--model", "history")
    stand_in = result["unpriced_if_won"]
    assert stand_in["deals"] > 50
    assert result["unpriced_deals"] == result["deals_analyzed"] > 0
    text = one_line(ok(cli("forecast", "-w", "Maven", "--model", "history", *QUICK)).out)
    assert (
        f"{result['unpriced_deals']} of the {result['deals_analyzed']} open deals have no "
        "value yet. This workspace's amounts are filled in at the close"
    ) in text
    assert f"from {stand_in['deals']} won deals" in text
    assert "counts as $0" not in text
    # The deals listed show the amount each counts as if won, marked as not their own.
    mean = f"{stand_in['mean']:,.0f}"
    assert f"~${mean}" in text
    # Replayed, the reps' model forecasts $0 (no amount was known then): the scores say why.
    replay = one_line(ok(cli("backtest", "-w", "Maven", "--simulations", 500)).out)
    assert "This workspace's amounts are filled in at the close" in replay
