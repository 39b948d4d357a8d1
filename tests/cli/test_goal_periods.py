"""Goals per calendar period (`vectoros goal set 3M --period 2026-Q1`) and forecasts to a
period's end (`vectoros forecast --period this-quarter`), on both databases."""

from __future__ import annotations

from harness import Cli, ok, one_line, user_error

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.periods import parse_period

QUICK = ("--simulations", 2000, "--seed", 2)


def demo(cli: Cli) -> None:
    ok(cli("demo", "--deals", 500, "--seed", 9, "--name", "Q"))


def test_period_goals_are_kept_listed_and_cleared_apart_from_window_goals(cli: Cli) -> None:
    demo(cli)
    ok(cli("goal", "set", "3M", "--period", "2026-Q1", "-w", "Q"))
    ok(cli("goal", "set", "$1,000,000", "--period", "2026-03", "-w", "Q"))
    ok(cli("goal", "set", "250k", "--window", "30d", "-w", "Q"))
    listed = ok(cli("goal", "-w", "Q", "--json")).json()
    assert [(g["period"], g["amount"]) for g in listed["periodGoals"]] == [
        ("2026-03", 1_000_000.0),
        ("2026-Q1", 3_000_000.0),
    ]
    assert [(g["windowDays"], g["amount"]) for g in listed["goals"]] == [(30, 250_000.0)]
    ok(cli("goal", "set", "3.5M", "--period", "2026-q1", "-w", "Q"))  # replaces
    ok(cli("goal", "clear", "--period", "2026-03", "-w", "Q"))
    listed = ok(cli("goal", "-w", "Q", "--json")).json()
    assert [(g["period"], g["amount"]) for g in listed["periodGoals"]] == [("2026-Q1", 3_500_000.0)]
    assert "2026-Q1" in ok(cli("goal", "-w", "Q")).out


def test_bad_periods_exit_2_and_write_nothing(cli: Cli) -> None:
    demo(cli)
    for args, words in [
        (("--period", "2026-Q5"), "Q1 to Q4"),
        (("--period", "2026-00"), "01 to 12"),
        (("--period", "soon"), "not a period"),
        (("--period", "2026-Q1", "--window", "30d"), "not both"),
    ]:
        refused = user_error(cli("goal", "set", "1M", "-w", "Q", *args))
        assert words in one_line(refused.err), args
    assert ok(cli("goal", "-w", "Q", "--json")).json()["periodGoals"] == []


def test_a_period_forecast_counts_what_it_has_won_and_its_goal(cli: Cli) -> None:
    demo(cli)
    today = utc_now()
    quarter = parse_period("this-quarter", today.date())
    won = sum(
        d["value"]
        for d in ok(cli("deals", "list", "-w", "Q", "--limit", 10000, "--json")).json()["deals"]
        if d["outcome"] == "won" and quarter.start.isoformat()[:10] <= d["closedAt"][:10]
    )
    ok(cli("goal", "set", won + 1_000_000, "--period", "this-quarter", "-w", "Q"))
    for model in ("rep", "history"):
        result = ok(
            cli(
                "forecast",
                "-w",
                "Q",
                "--period",
                "this-quarter",
                "--model",
                model,
                "--json",
                *QUICK,
            )
        ).json()
        period = result["period"]
        assert period["period"] == quarter.label
        assert period["days_left"] == quarter.days_left(today)
        assert result["timeframe"] == f"{quarter.days_left(today)}d"
        assert abs(period["won_so_far"] - won) < 0.01
        assert period["likely_case"] == round(won + result["likely_case"], 2)
        assert period["goal"] == won + 1_000_000
        # The simulation's goal is what is left of the period's.
        assert result["goal"] == 1_000_000
        assert period["probability_of_hitting_goal"] == result["probability_of_hitting_goal"]
    text = ok(cli("forecast", "-w", "Q", "--period", "this-quarter", *QUICK)).out
    assert "won so far" in text and "Period goal" in text


def test_a_period_forecast_refuses_past_future_and_mixed_windows(cli: Cli) -> None:
    demo(cli)
    for args, words in [
        (("--period", "2020-Q1"), "has ended"),
        (("--period", "2099-01"), "has not started"),
        (("--period", "this-month", "--timeframe", "30d"), "--period sets the window"),
        (("--period", "this-month", "--as-of", "2026-06-01"), "--period sets the window"),
    ]:
        refused = user_error(cli("forecast", "-w", "Q", *args))
        assert words in one_line(refused.err), args
