"""`vectoros forecast --as-of DAY`: the pipeline as it stood at the end of a past day.

The history comes from `vectoros import` of a CRM export with created and closed dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import Cli, ok, one_line, user_error

# Won on 1 March, so open until then; an open deal from 5 January; one created 10 February.
HISTORY = """\
id,Title,Stage,Amount,Probability,Close Date,Created Date,Closed Date
w1,Won in March,Closed Won,1000,100,2025-03-01,2025-01-01,2025-03-01
o1,Open since January,Proposal,2000,40,,2025-01-05,
n1,New in February,Qualified,4000,30,,2025-02-10,
"""
QUICK = ("--simulations", 200, "--seed", 1)


def load_history(cli: Cli, tmp_path: Path, text: str = HISTORY) -> None:
    path = tmp_path / "history.csv"
    path.write_text(text, encoding="utf-8")
    ok(cli("workspace", "create", "Hist"))
    ok(cli("import", path, "-w", "Hist"))


def forecast(cli: Cli, *args: object) -> dict:
    return cli("forecast", "-w", "Hist", *QUICK, "--json", *args).json()


def titles(result: dict) -> set[str]:
    return {d["title"] for d in result["forecasted_deals"]}


def test_as_of_counts_a_deal_won_later_as_open_and_not_deals_created_later(
    cli: Cli, tmp_path: Path
) -> None:
    load_history(cli, tmp_path)
    today = forecast(cli)
    assert "as_of" not in today
    assert today["deals_analyzed"] == 2
    assert titles(today) == {"Open since January", "New in February"}

    then = forecast(cli, "--as-of", "2025-02-01")
    assert then["as_of"] == "2025-02-01"
    assert then["deals_analyzed"] == 2
    assert titles(then) == {"Won in March", "Open since January"}
    assert then["total_pipeline_value"] == 3000
    won_then = next(d for d in then["forecasted_deals"] if d["title"] == "Won in March")
    assert won_then["value"] == 1000
    assert won_then["adjusted_probability"] < 1  # an open deal then, not a certain win

    # After it was won it is no longer in the open pipeline.
    march = forecast(cli, "--as-of", "2025-03-02")
    assert march["as_of"] == "2025-03-02"
    assert titles(march) == {"Open since January", "New in February"}


def test_as_of_the_first_deals_day_has_that_deal(cli: Cli, tmp_path: Path) -> None:
    load_history(cli, tmp_path)
    first_day = forecast(cli, "--as-of", "2025-01-01")
    assert first_day["as_of"] == "2025-01-01"
    assert titles(first_day) == {"Won in March"}


def test_as_of_a_day_leaves_out_what_happened_the_next_day(cli: Cli, tmp_path: Path) -> None:
    load_history(cli, tmp_path)
    eve = forecast(cli, "--as-of", "2025-02-09")
    assert titles(eve) == {"Won in March", "Open since January"}
    before_the_win = forecast(cli, "--as-of", "2025-02-28")
    assert "Won in March" in titles(before_the_win)


def test_human_output_says_as_of_the_end_of_the_day(cli: Cli, tmp_path: Path) -> None:
    load_history(cli, tmp_path)
    result = ok(cli("forecast", "-w", "Hist", *QUICK, "--as-of", "2025-02-01"))
    first = result.out.splitlines()[0]
    assert "Hist · 30d forecast as of the end of 2025-02-01 · 2 open deals" in first
    today = ok(cli("forecast", "-w", "Hist", *QUICK))
    assert "as of" not in today.out.splitlines()[0]


def test_a_future_day_is_refused(cli: Cli, tmp_path: Path) -> None:
    load_history(cli, tmp_path)
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    result = user_error(cli("forecast", "-w", "Hist", "--as-of", tomorrow))
    message = one_line(result.err)
    assert "--as-of" in message
    assert f"{tomorrow} is in the future (today is {today.isoformat()})" in message
    assert result.out == ""


def test_a_day_before_the_first_deal_is_refused_naming_that_deals_day(
    cli: Cli, tmp_path: Path
) -> None:
    load_history(cli, tmp_path)
    result = user_error(cli("forecast", "-w", "Hist", "--as-of", "2024-12-31"))
    message = one_line(result.err)
    assert "--as-of" in message
    assert "2024-12-31 is before the workspace's first deal was created (2025-01-01)" in message


@pytest.mark.parametrize("day", ["2025-02-30", "01/02/2025", "2025-2", "yesterday"])
def test_a_badly_written_day_is_refused(cli: Cli, tmp_path: Path, day: str) -> None:
    load_history(cli, tmp_path)
    result = user_error(cli("forecast", "-w", "Hist", "--as-of", day))
    message = one_line(result.err)
    assert "--as-of" in message
    assert day in message
    assert result.out == ""


def test_an_empty_workspace_is_refused(cli: Cli) -> None:
    ok(cli("workspace", "create", "Hist"))
    result = user_error(cli("forecast", "-w", "Hist", "--as-of", "2025-01-01"))
    message = one_line(result.err)
    assert "--as-of" in message
    assert "no deals" in message
