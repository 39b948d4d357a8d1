"""Listings (`deals list`, `insights`, `score`, `workspace list`, ...): one line per item at
any width; in a narrow terminal the least important columns go first and free text is
shortened with an ellipsis; through a pipe every column is printed in full."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Cli, ok
from rich.cells import cell_len

from vectoros_tui.cli.output import GAP, Column, fit_columns
from vectoros_tui.money import format_money

COLUMNS = [
    Column("id", rank=3),
    Column("title", shrink=True, min_width=10),
    Column("stage", rank=1),
    Column("company", rank=2, shrink=True, min_width=6),
]
ROW = ["1234abcd", "A rather long deal title", "negotiation", "Initech Corporation"]


def widths(width: int | None) -> dict[str, int]:
    return {COLUMNS[i].name: w for i, w in fit_columns(COLUMNS, [ROW], width)}


def test_everything_in_full_without_a_width() -> None:
    assert widths(None) == {"id": 8, "title": 24, "stage": 11, "company": 19}


def test_free_text_shrinks_before_any_column_goes() -> None:
    natural = 8 + 24 + 11 + 19 + 3 * GAP
    shown = widths(natural - 10)
    assert set(shown) == {"id", "title", "stage", "company"}
    assert sum(shown.values()) + 3 * GAP == natural - 10
    assert shown["title"] >= 10 and shown["company"] >= 6


def test_the_highest_rank_goes_first_then_the_next() -> None:
    assert list(widths(8 + 10 + 11 + 6 + 3 * GAP - 1)) == ["title", "stage", "company"]
    assert list(widths(10 + 11 + 6 + 2 * GAP - 1)) == ["title", "stage"]
    assert list(widths(10 + 11 + GAP - 1)) == ["title"]


def test_the_essential_column_still_fits_a_tiny_width() -> None:
    assert widths(5) == {"title": 5}


def test_wide_characters_are_measured_in_cells() -> None:
    row = ["漢字漢字漢字漢字漢字漢字", "x"]
    columns = [Column("title", shrink=True, min_width=4), Column("s", rank=1)]
    assert fit_columns(columns, [row], None)[0] == (0, 24)
    assert fit_columns(columns, [row], 10) == [(0, 7), (1, 1)]


# --- the commands ----------------------------------------------------------------------


def load_demo(cli: Cli) -> None:
    ok(cli("demo", "--deals", 40, "--history-months", 0, "--seed", 4, "--name", "Demo"))


def lines_of(out: str) -> list[str]:
    return out.rstrip("\n").split("\n")


def stage_shown(deal: dict[str, Any]) -> str:
    return deal["outcome"] if deal["stage"] == "closed" and deal["outcome"] else deal["stage"]


def test_deals_list_at_80_columns_is_one_line_per_deal(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(cli)
    ok(
        cli(
            "deals",
            "update",
            cli("deals", "list", "--json").json()["deals"][0]["id"],
            "--title",
            "A deal whose title goes on and on and on well past any column width",
        )
    )
    deals = cli("deals", "list", "--limit", 20, "--json").json()["deals"]
    monkeypatch.setenv("COLUMNS", "80")
    title, header, *rows, caption = lines_of(ok(cli("deals", "list", "--limit", 20)).out)
    assert title == "Deals in Demo" and caption == "showing 1-20 of 40"
    assert len(rows) == len(deals) == 20, "one line per deal, none wrapped"
    assert all(cell_len(line) <= 80 for line in [header, *rows])
    assert header.split()[:5] == ["title", "company", "stage", "value", "prob."]
    assert "close date" in header and not header.startswith("id")
    for deal, row in zip(deals, rows, strict=True):
        assert row.startswith(deal["title"][:20])
        assert f" {stage_shown(deal)} " in row
        assert f" {format_money(deal['value'])} " in row
        assert f" {deal['probability']}% " in row
        assert (deal["closeDate"] or "—") in row
        assert deal["id"][:8] not in row
    assert any("…" in row for row in rows), "the long title is shortened, not wrapped"


def test_deals_list_at_200_columns_shows_every_column_in_full(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(cli)
    deals = cli("deals", "list", "--limit", 20, "--json").json()["deals"]
    monkeypatch.setenv("COLUMNS", "200")
    _, header, *rows, _ = lines_of(ok(cli("deals", "list", "--limit", 20)).out)
    assert header.split()[:6] == ["id", "title", "company", "stage", "value", "prob."]
    assert len(rows) == 20
    for deal, row in zip(deals, rows, strict=True):
        assert cell_len(row) <= 200
        assert row.startswith(deal["id"][:8])
        assert deal["title"] in row and (deal["company"] or "—") in row
        assert "…" not in row


def test_through_a_pipe_every_column_is_printed_in_full(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    ok(cli("workspace", "create", "Demo"))
    long_title = "Enterprise agreement " * 9
    ok(cli("deals", "add", "--title", long_title, "--company", "Initech", "--value", "750k"))
    _, header, row, _ = lines_of(ok(cli("deals", "list")).out)
    assert long_title.strip() in row and "Initech" in row and "$750,000" in row
    assert header.startswith("id") and "…" not in row


@pytest.mark.parametrize(
    ("command", "count"),
    [
        (("insights",), lambda cli: min(cli("insights", "--json").json()["total"], 25)),
        (("score", "--top", 15), lambda cli: 15),
        (("workspace", "list"), lambda cli: 2),
        (("forecast", "--top", 10), lambda cli: 10),
    ],
)
def test_other_listings_fit_80_columns(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, command: tuple[Any, ...], count: Any
) -> None:
    load_demo(cli)
    ok(cli("workspace", "create", "Second"))
    ok(cli("workspace", "use", "Demo"))
    expected = count(cli)
    monkeypatch.setenv("COLUMNS", "80")
    out = lines_of(ok(cli(*command)).out)
    assert all(cell_len(line) <= 80 for line in out), [line for line in out if len(line) > 80]
    assert len(out) >= expected + 1
    if command[0] == "insights":
        # Title, header, one line per insight, caption: nothing wrapped onto a second line.
        assert len(out) == expected + 3
        items = cli("insights", "--no-refresh", "--json").json()["insights"]
        for item, line in zip(items[:expected], out[2 : 2 + expected], strict=True):
            assert item["priority"] in line and item["id"][:8] in line
