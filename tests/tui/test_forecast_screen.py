"""The forecast screen (F3), driven with Pilot on SQLite and Postgres.

Every check compares what the screen holds and shows with the engine's own
``forecast_revenue`` on the same snapshot, seed and what-ifs, so the screen cannot drift
from the CLI's numbers.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pilot_helpers import FIXED_NOW, paste, wait_for, wait_for_snapshot
from rich.text import Text
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.engine.deal_record import record_from_mapping
from vectoros_tui.engine.forecast import (
    effective_win_probability,
    forecast_distribution,
)
from vectoros_tui.engine.funnel import apply_what_if, stable_order
from vectoros_tui.engine.periods import parse_period
from vectoros_tui.screens.forecast import (
    ForecastParams,
    ForecastScreen,
    ValuePrompt,
    build_forecast_view,
)
from vectoros_tui.screens.forecast_view import TOP_DEALS
from vectoros_tui.store.snapshot import WorkspaceSnapshot
from vectoros_tui.widgets.formatting import compact_money, money
from vectoros_tui.widgets.model_comparison import ModelsPanel

SIZE = (100, 30)


# --------------------------------------------------------------------------- helpers


async def open_forecast(app: VectorOSApp, pilot: Pilot, *, reveal: bool = True) -> ForecastScreen:
    """Switch to the forecast (F3) and wait until its first forecast is painted; with
    ``reveal``, scroll its deal table into sight, as a rep does before the keys that act
    on its rows (the first of which would otherwise only reveal it)."""
    await wait_for_snapshot(app, pilot)
    await pilot.press("f3")
    await wait_for(lambda: isinstance(app.screen, ForecastScreen), pilot)
    screen = app.screen
    assert isinstance(screen, ForecastScreen)
    await settle(screen, pilot)
    if reveal:
        screen.query_one("#top-deals").scroll_visible(top=True, animate=False)
        await pilot.pause()
    return screen


async def settle(screen: ForecastScreen, pilot: Pilot, previous: object = None) -> None:
    """Wait for a painted forecast newer than ``previous``."""
    await wait_for(
        lambda: screen.result is not None and screen.result is not previous and not screen.pending,
        pilot,
    )
    await pilot.pause()


def expected(app: VectorOSApp, screen: ForecastScreen) -> dict[str, Any]:
    """The engine's forecast for what the screen is showing (deals in id order, as the
    screen sorts them so a seed's forecast does not depend on the database's row order).
    The screen keeps only the rows it shows (the engine's tests check they are the full
    list's own), so the rest is compared to the full forecast."""
    assert app.snapshot is not None
    deals = apply_what_if(stable_order(app.snapshot.deals), screen.what_if)
    # Ranked as the screen ranks its deals: value x the rep's probability.
    full, _ = forecast_distribution(
        deals,
        screen.timeframe,
        screen.scenario,
        screen.simulations,
        seed=screen.seed,
        now=app.now(),
        goal=screen.goal,
        rank_by_rep=True,
    )
    rows = full["forecasted_deals"]
    kept = rows[:TOP_DEALS] + [r for r in rows[TOP_DEALS:] if str(r["deal_id"]) in screen.what_if]
    return {**full, "forecasted_deals": kept}


def shown(widget: Widget) -> str:
    rendered = widget.render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def table_rows(screen: ForecastScreen) -> dict[str, list[str]]:
    table = screen.query_one("#top-deals", DataTable)
    rows = {}
    for row in table.ordered_rows:
        cells = table.get_row(row.key)
        rows[str(row.key.value)] = [c.plain if isinstance(c, Text) else str(c) for c in cells]
    return rows


def highlighted(screen: ForecastScreen) -> str:
    deal_id = screen.highlighted_deal_id()
    assert deal_id is not None
    return deal_id


def expected_contribution(app: VectorOSApp, deal_id: str) -> float:
    """A deal's share of the mean forecast: value × its per-run win probability."""
    assert app.snapshot is not None
    deal = app.snapshot.deal(deal_id)
    assert deal is not None and deal.probability is not None and deal.value is not None
    p = deal.probability / 100
    return deal.value * float(effective_win_probability([p])[0])


def noise(result: dict[str, Any]) -> float:
    """Generous Monte Carlo tolerance for a difference of two means."""
    runs = result["simulation_stats"]["num_simulations"]
    return 6 * result["standard_deviation"] / math.sqrt(runs) * math.sqrt(2)


async def answer_prompt(app: VectorOSApp, pilot: Pilot, text: str) -> ValuePrompt:
    await wait_for(lambda: isinstance(app.screen, ValuePrompt), pilot)
    prompt = app.screen
    assert isinstance(prompt, ValuePrompt)
    prompt.query_one(Input).value = ""
    # Pasted, as a terminal delivers a paste: typing key by key costs ~50 ms a key in Pilot.
    await paste(pilot, text)
    await pilot.press("enter")
    await pilot.pause()
    return prompt


# --------------------------------------------------------------------------- tests


async def test_shows_the_engine_forecast_for_the_snapshot(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        result = screen.result
        assert result == expected(app, screen)
        assert (result["timeframe"], result["scenario"]) == ("30d", "likely")
        assert result["predicted_revenue"] == result["likely_case"]

        for case in ("worst", "likely", "best"):
            assert money(result[f"{case}_case"]) in shown(screen.query_one(f"#card-{case}"))
        assert screen.query_one("#card-likely").has_class("-selected")
        stats = shown(screen.query_one("#card-stats"))
        assert f"{result['deals_analyzed']} deals analysed" in stats
        assert f"Confidence {result['confidence']:.0%}" in stats
        assert compact_money(result["mean_forecast"]) in stats
        # No goal: no coverage against a goal nobody set.
        assert "Coverage — no goal (g)" in stats
        legend = shown(screen.query_one("#legend", Static))
        for key in ("p5", "p50", "p95"):
            assert compact_money(result["simulation_stats"][key]) in legend

        # Histogram bins hold every run; the table lists the top deals in the engine's order.
        assert screen.view is not None
        assert screen.view.distribution.histogram.total == screen.simulations
        top = [str(d["deal_id"]) for d in result["forecasted_deals"][:5]]
        assert list(table_rows(screen))[:5] == top
        assert highlighted(screen) == top[0]
        # Health bands cover every open deal; the funnel starts from every deal.
        assert app.snapshot is not None
        assert sum(screen.view.health.values()) == len(app.snapshot.open_deals)
        assert screen.view.funnel.steps[0].reached == len(app.snapshot.deals)
        # The reps' headline: its stages' second figure is value x their probability.
        assert screen.view.model == "rep"
        assert str(screen.query_one("#stage-revenue").border_subtitle).endswith("weighted")


async def test_timeframe_and_scenario_change_the_numbers(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot, reveal=False)  # its choices are on top
        thirty = screen.result
        assert thirty is not None

        await pilot.press("t")
        await settle(screen, pilot, thirty)
        sixty = screen.result
        assert sixty is not None and sixty["timeframe"] == "60d"
        assert sixty == expected(app, screen)
        assert sixty["deals_analyzed"] > thirty["deals_analyzed"]
        assert sixty["mean_forecast"] > thirty["mean_forecast"]

        await pilot.click("#timeframe-choice-90d")  # also clickable
        await settle(screen, pilot, sixty)
        assert screen.timeframe == "90d" and screen.result == expected(app, screen)

        for scenario in ("best", "worst", "likely"):
            before = screen.result
            await pilot.press("s")
            await pilot.pause()
            result = screen.result
            assert result is not None and result is not before
            assert screen.scenario == scenario == result["scenario"]
            assert result["predicted_revenue"] == result[f"{scenario}_case"]
            assert result == expected(app, screen)
            assert screen.query_one(f"#card-{scenario}").has_class("-selected")
        assert screen.result["worst_case"] < screen.result["likely_case"]  # type: ignore[index]

        await pilot.click("#card-best")
        await pilot.pause()
        assert screen.scenario == "best"
        assert screen.result["predicted_revenue"] == screen.result["best_case"]  # type: ignore[index]


async def test_excluding_the_top_deal_lowers_the_mean_and_z_restores_it(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        original = screen.result
        assert original is not None
        top = highlighted(screen)
        assert top == original["forecasted_deals"][0]["deal_id"]

        await pilot.press("x")
        await settle(screen, pilot, original)
        excluded = screen.result
        assert excluded is not None
        assert screen.what_if == {top: {"excluded": True}}
        assert excluded == expected(app, screen)
        assert excluded["deals_analyzed"] == original["deals_analyzed"] - 1
        assert top not in {d["deal_id"] for d in excluded["forecasted_deals"]}
        drop = original["mean_forecast"] - excluded["mean_forecast"]
        assert drop == pytest.approx(expected_contribution(app, top), abs=noise(original))
        row = table_rows(screen)[top]  # still listed, marked, so it can be put back
        assert row[0].startswith("✎") and "excluded" in row

        await pilot.press("z")
        await settle(screen, pilot, excluded)
        assert screen.what_if == {}
        assert screen.result == original
        assert not table_rows(screen)[top][0].startswith("✎")


async def test_a_zero_probability_override_removes_the_deal_from_the_winners(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        original = screen.result
        assert original is not None
        top = highlighted(screen)

        await pilot.press("p")
        await answer_prompt(app, pilot, "0")
        await settle(screen, pilot, original)
        result = screen.result
        assert result is not None
        assert screen.what_if == {top: {"probability": 0.0}}
        assert result == expected(app, screen)
        row = next(d for d in result["forecasted_deals"] if d["deal_id"] == top)
        assert row["adjusted_probability"] == 0 and row["weighted_value"] == 0
        drop = original["mean_forecast"] - result["mean_forecast"]
        assert drop == pytest.approx(expected_contribution(app, top), abs=noise(original))
        cells = table_rows(screen)[top]
        assert cells[0].startswith("✎") and "0%" in cells


async def test_a_close_date_override_can_move_a_deal_out_of_the_window(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        original = screen.result
        assert original is not None
        top = highlighted(screen)
        later = (FIXED_NOW + timedelta(days=200)).date().isoformat()

        await pilot.press("c")
        await answer_prompt(app, pilot, later)
        await settle(screen, pilot, original)
        assert screen.what_if == {top: {"close_date": later}}
        assert screen.result == expected(app, screen)
        assert screen.result["deals_analyzed"] == original["deals_analyzed"] - 1  # type: ignore[index]
        assert "outside" in table_rows(screen)[top]


async def test_invalid_what_if_input_shows_an_error_and_changes_nothing(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        original = screen.result

        for key, text, message in (
            ("p", "150", "between 0 and 100"),
            ("p", "abc", "not a number"),
            ("c", "2026-02-30", "not a real calendar date"),
            ("c", "next week", "YYYY-MM-DD"),
            ("g", "lots", "not an amount"),
        ):
            await pilot.press(key)
            prompt = await answer_prompt(app, pilot, text)
            assert app.screen is prompt  # still asking
            assert message in str(prompt.query_one("#prompt-error", Label).render())
            await pilot.press("escape")
            await wait_for(lambda: app.screen is screen, pilot)

        await pilot.pause()
        assert screen.what_if == {}
        assert screen.goal is None
        assert screen.result is original and not screen.pending


async def test_a_goal_reports_the_chance_of_hitting_it(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        original = screen.result
        assert original is not None
        goal = round(original["likely_case"], -3)

        await pilot.press("g")
        await answer_prompt(app, pilot, f"{goal / 1000:.0f}k")
        await settle(screen, pilot, original)
        result = screen.result
        assert result is not None
        assert screen.goal == goal == result["goal"]
        assert result == expected(app, screen)
        assert 0.3 < result["probability_of_hitting_goal"] < 0.7  # the goal is about P50
        status = shown(screen.query_one("#goal-status", Static))
        assert f"{result['probability_of_hitting_goal']:.0%} chance" in status
        assert "goal" in shown(screen.query_one("#legend", Static))
        stats = shown(screen.query_one("#card-stats"))
        assert f"{result['pipeline_coverage']:.1f}× of the {compact_money(goal)} goal" in stats

        # The goal belongs to this workspace's 30-day window, and is kept.
        assert app.snapshot is not None and app.store is not None
        workspace_id = app.snapshot.workspace.id
        await wait_for(lambda: app.store.goals.get(workspace_id, 30) == goal, pilot)
        await pilot.press("t")  # 60 days: no goal there
        await settle(screen, pilot, result)
        assert screen.goal is None and "probability_of_hitting_goal" not in screen.result
        await pilot.press("t", "t", "t", "t")  # 90 days, this month, quarter, 30 again
        await wait_for(lambda: screen.timeframe == "30d" and screen.goal == goal, pilot)

    # A new session of the app on the same database finds it again.
    again = make_app(demo_database)
    async with again.run_test(size=SIZE) as pilot:
        screen = await open_forecast(again, pilot)
        await wait_for(lambda: screen.goal == goal, pilot)
        await settle(screen, pilot)
        assert screen.result is not None and screen.result["goal"] == goal


async def test_this_month_and_quarter_count_their_wins_and_forecast_the_days_left(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        assert app.snapshot is not None and app.store is not None
        deals = app.snapshot.deals

        def won_between(first: datetime) -> float:
            return sum(
                d.value or 0.0
                for d in deals
                if d.outcome == "won" and d.closed_at and first <= d.closed_at <= FIXED_NOW
            )

        def showing(label: str) -> bool:
            # Settled: the models compared and the headline forecast by the default one.
            result = screen.result or {}
            settled = not screen.pending and not screen.models_pending
            return settled and result.get("period", {}).get("period") == label

        await pilot.press("t", "t", "t")  # 60 days, 90 days, this month
        await wait_for(lambda: showing("2026-11"), pilot)
        result = screen.result
        assert result is not None
        won = won_between(datetime(2026, 11, 1, tzinfo=UTC))
        assert won > 0  # the demo has November wins, so the test can tell
        # FIXED_NOW is 20 November: the 20th to the 30th is 11 days, today counted.
        assert result["timeframe"] == "11d" and result["period"]["days_left"] == 11
        assert result["period"]["won_so_far"] == round(won, 2)
        assert result["period"]["likely_case"] == round(won + result["likely_case"], 2)
        same, _ = forecast_distribution(
            stable_order(deals),
            "11d",
            "likely",
            screen.simulations,
            seed=screen.seed,
            now=FIXED_NOW,
            rank_by_rep=True,
        )
        # The headline is the default model's; the reps' forecast of the days left (their
        # row beside the history model's) is the engine's either way.
        assert screen.query_one(ModelsPanel).rep[1] == same["likely_case"]
        # The history model's headline: its stages' second figure is what it expects the
        # window to bring, not what boards call weighted.
        assert screen.view is not None and screen.view.model == "history"
        assert str(screen.query_one("#stage-revenue").border_subtitle).endswith("expected")
        status = shown(screen.query_one("#goal-status", Static))
        assert f"2026-11 won {compact_money(won)}" in status and "goal none" in status

        # A goal for the month counts what is won: the simulation needs only the rest.
        goal = round(won + result["likely_case"], -3)
        await pilot.press("g")
        await answer_prompt(app, pilot, f"{goal:.0f}")
        await wait_for(lambda: (screen.result or {}).get("period", {}).get("goal") == goal, pilot)
        assert screen.result is not None and screen.result["goal"] == round(goal - won, 2)
        assert 0.2 < screen.result["probability_of_hitting_goal"] < 0.8
        workspace_id = app.snapshot.workspace.id
        november = parse_period("2026-11", FIXED_NOW.date())
        await wait_for(lambda: app.store.goals.get_period(workspace_id, november) == goal, pilot)
        assert app.store.goals.get(workspace_id, 11) is None  # not a "next 11 days" goal

        # The quarter: October's wins count too, 42 days to go, no goal of its own.
        await pilot.press("t")
        await wait_for(lambda: showing("2026-Q4"), pilot)
        quarter = screen.result
        assert quarter is not None and quarter["timeframe"] == "42d"
        assert quarter["period"]["won_so_far"] == round(
            won_between(datetime(2026, 10, 1, tzinfo=UTC)), 2
        )
        assert screen.goal is None and "goal" not in quarter["period"]


async def test_a_deal_saved_elsewhere_recomputes_the_forecast(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        original = screen.result
        assert original is not None and app.store is not None
        top = original["forecasted_deals"][0]["deal_id"]
        snapshot = app.snapshot

        app.store.deals.update(top, {"probability": 5}, now=FIXED_NOW)
        app.data_changed()
        await wait_for_snapshot(app, pilot, snapshot)
        await settle(screen, pilot, original)
        result = screen.result
        assert result is not None
        assert result == expected(app, screen)
        assert result["mean_forecast"] < original["mean_forecast"]
        assert result["forecasted_deals"][0]["deal_id"] != top
        assert table_rows(screen)[top][3] == "5%"


async def test_palette_commands_drive_the_screen(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        commands = {name: callback for name, _, callback in screen.palette_commands()}
        assert {
            "Forecast: 30-day window",
            "Forecast: 60-day window",
            "Forecast: 90-day window",
            "Forecast: worst case",
            "Forecast: likely case",
            "Forecast: best case",
            "Forecast: set revenue goal",
            "Forecast: reset what-ifs",
        } <= set(commands)
        before = screen.result
        commands["Forecast: 90-day window"]()
        await settle(screen, pilot, before)
        assert screen.result["timeframe"] == "90d"  # type: ignore[index]
        commands["Forecast: worst case"]()
        await pilot.pause()
        assert screen.result["predicted_revenue"] == screen.result["worst_case"]  # type: ignore[index]


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_layout_fits_small_terminals(
    demo_database: str, make_app: Callable[..., VectorOSApp], size: tuple[int, int]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=size) as pilot:
        screen = await open_forecast(app, pilot)
        assert screen.has_class("-narrow" if size[0] < 100 else "-wide")
        # The cards and the chart are on screen without scrolling, inside the width.
        for selector in ("#card-worst", "#card-stats", "#distribution"):
            region = screen.query_one(selector).region
            assert region.right <= size[0] and region.y < size[1] - 1
        assert screen.query_one("#top-deals", DataTable).has_focus


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_keys_for_the_deal_table_show_it_before_they_move_or_act_on_its_rows(
    demo_database: str, make_app: Callable[..., VectorOSApp], size: tuple[int, int]
) -> None:
    """The screen opens on its headline with the deal table focused below it: the first
    key for the table scrolls it into sight instead of moving (or acting on) a row the
    rep cannot see."""
    app = make_app(demo_database)
    async with app.run_test(size=size) as pilot:
        screen = await open_forecast(app, pilot, reveal=False)
        table = screen.query_one("#top-deals", DataTable)
        assert table.has_focus and not screen.can_view_partial(table)
        for key in ("down", "p", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, f"{key} opened nothing"
            assert table.cursor_row == 0 and screen.what_if == {}
            assert screen.can_view_partial(table)
            screen.query_one("#forecast-body").scroll_home(animate=False)
            await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        await pilot.press("down")  # now in sight: the cursor moves
        assert table.cursor_row == 1


def test_two_thousand_open_deals_forecast_with_an_exclusion() -> None:
    # Its speed is measured by benchmarks/bench_tui.py, not asserted here.
    deals = [
        record_from_mapping(
            {
                "id": f"deal-{i}",
                "title": f"Deal {i}",
                "stage": ("prospect", "qualified", "proposal", "negotiation")[i % 4],
                "value": 1_000 + (i * 7_919) % 250_000,
                "probability": 5 + (i * 37) % 90,
                "closeDate": (FIXED_NOW + timedelta(days=i % 30)).date().isoformat(),
                "outcome": None,
                "createdAt": "2026-09-01T00:00:00Z",
                "updatedAt": "2026-11-01T00:00:00Z",
            }
        )
        for i in range(2_000)
    ]
    snapshot = WorkspaceSnapshot(None, deals, {}, FIXED_NOW)  # type: ignore[arg-type]
    params = ForecastParams("30d", "likely", 10_000, 0, None)
    view = build_forecast_view(snapshot, params, {"deal-1": {"excluded": True}}, FIXED_NOW)
    full = build_forecast_view(snapshot, params, {}, FIXED_NOW)
    assert view.result["deals_analyzed"] == 1_999
    assert full.result["deals_analyzed"] == 2_000


async def test_one_save_is_one_forecast_and_none_while_the_forecast_is_hidden(
    demo_database: str,
    make_app: Callable[..., VectorOSApp],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A spy around the real computation counts how often the screen forecasts."""
    import vectoros_tui.screens.forecast as forecast_module

    real = forecast_module.build_forecast_view
    computed: list[float] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        view = real(*args, **kwargs)
        computed.append(view.result["likely_case"])
        return view

    monkeypatch.setattr(forecast_module, "build_forecast_view", counting)
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_forecast(app, pilot)
        assert len(computed) == 1
        session = app.session
        assert session is not None and app.snapshot is not None
        deal = max(app.snapshot.open_deals, key=lambda d: d.value or 0)

        # Saved from the pipeline (the forecast hidden): nothing computed until F3.
        await pilot.press("f2")
        await pilot.pause()
        before = app.snapshot
        await app.workers.wait_for_complete()
        worker = app.run_worker(
            lambda: session.save_deal(
                uuid.UUID(deal.id),
                {"probability": 5},
                expected_version=deal.version,
            ),
            thread=True,
        )
        await worker.wait()
        await wait_for_snapshot(app, pilot, before)
        await pilot.pause(0.3)
        assert len(computed) == 1
        await pilot.press("f3")
        await wait_for(lambda: len(computed) == 2 and not screen.pending, pilot)

        # A reload that finds only our own save publishes nothing: no second forecast.
        assert session.changed_elsewhere()
        app.data_changed()
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert not session.changed_elsewhere()
        assert len(computed) == 2


async def test_the_forecast_is_computed_as_work_the_rep_waits_for(
    demo_database: str, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While it computes, background loads of the workspace step aside (foreground.py),
    from the moment it is asked for: its worker thread starts a moment later, and the save
    that asked for it goes on in its own thread meanwhile."""
    import vectoros_tui.screens.forecast as forecast_screen
    from vectoros_tui.foreground import FOREGROUND

    seen: list[bool] = []
    expected: list[bool] = []
    build = forecast_screen.build_forecast_view
    expect = FOREGROUND.expect

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(FOREGROUND.busy)
        return build(*args, **kwargs)

    def expecting(within: float = 1.0) -> None:
        expect(within)
        expected.append(FOREGROUND.busy)

    monkeypatch.setattr(forecast_screen, "build_forecast_view", watched)
    monkeypatch.setattr(FOREGROUND, "expect", expecting)
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await open_forecast(app, pilot)
    assert seen and all(seen)
    assert len(expected) >= len(seen) and all(expected)
    assert not FOREGROUND.busy


async def test_background_loads_step_aside_from_the_moment_the_forecast_screen_is_made(
    demo_database: str, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mounting the screen takes a moment (longer beside the first load of a team's
    workspace), and its first forecast starts only once it has mounted: the expectation
    is set before the mount, when the open deals are there to forecast."""
    import vectoros_tui.screens.forecast as forecast_screen
    from vectoros_tui.foreground import FOREGROUND

    order: list[str] = []
    expect = FOREGROUND.expect
    mount = forecast_screen.ForecastScreen.on_mount

    def expecting(within: float = 1.0) -> None:
        order.append("expect")
        expect(within)

    def mounting(self: forecast_screen.ForecastScreen) -> None:
        order.append("mount")
        mount(self)

    monkeypatch.setattr(FOREGROUND, "expect", expecting)
    monkeypatch.setattr(forecast_screen.ForecastScreen, "on_mount", mounting)
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        await open_forecast(app, pilot)
    assert order[:2] == ["expect", "mount"], order
