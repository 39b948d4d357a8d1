"""The forecast screen's models side by side (rep % and history), which one auto picks and
why, their track record and calibration: driven with Pilot on SQLite, each figure checked
against the store's own model comparison and backtest for the same deals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pilot_helpers import FIXED_NOW, wait_for, wait_for_snapshot
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.engine.forecast import forecast_distribution
from vectoros_tui.engine.funnel import stable_order
from vectoros_tui.screens.forecast import ForecastScreen
from vectoros_tui.screens.value_prompt import ValuePrompt
from vectoros_tui.store import model_comparison
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.history_forecast import history_forecast_and_totals
from vectoros_tui.store.model_comparison import compare_models, held
from vectoros_tui.store.store import open_store
from vectoros_tui.widgets.formatting import compact_money, money
from vectoros_tui.widgets.model_comparison import CalibrationChart, ModelsPanel, TeamPanel
from vectoros_tui.widgets.scenario_cards import ScenarioCards

SIZE = (100, 30)


def demo_with(tmp_path: Path, history_months: int, deals: int) -> str:
    url = f"sqlite:///{tmp_path / 'models.sqlite3'}"
    store = open_store(url)
    create_demo_workspace(
        store.db, deals=deals, seed=5, now=FIXED_NOW, history_months=history_months
    )
    store.close()
    return url


async def models_shown(app: VectorOSApp, pilot: Pilot) -> ForecastScreen:
    await wait_for_snapshot(app, pilot)
    await pilot.press("f3")
    await wait_for(lambda: isinstance(app.screen, ForecastScreen), pilot)
    screen = app.screen
    assert isinstance(screen, ForecastScreen)
    await wait_for(
        lambda: screen.result is not None and not screen.pending and not screen.models_pending,
        pilot,
        timeout=30,
    )
    await pilot.pause()
    return screen


def render_text(widget: Static) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def panel_text(screen: ForecastScreen) -> str:
    return render_text(screen.query_one(ModelsPanel))


async def test_with_history_the_learned_model_is_the_default_with_its_record(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    model_comparison.forget()
    app = make_app(demo_with(tmp_path, history_months=18, deals=700))
    async with app.run_test(size=SIZE) as pilot:
        screen = await models_shown(app, pilot)
        found = screen.query_one(ModelsPanel).comparison
        assert found is not None and found.history is not None
        assert found.default == "history"
        # The screen's numbers are the store's for the same deals, clock and seed.
        assert app.snapshot is not None and app.store is not None
        again = compare_models(
            app.store.deals,
            app.snapshot.workspace.id,
            app.snapshot.deals,
            30,
            FIXED_NOW,
            simulations=screen.simulations,
            seed=screen.seed,
        )
        assert again.history == found.history
        text = panel_text(screen)
        assert "history ★ default" in text
        # How much it learned from, and that the windows overlap (one every 10 days).
        assert found.model is not None
        assert (
            f"History model: {found.cutoffs} past windows (every 10 days): "
            f"{found.model.rows:,} open deals, {found.model.wins:,} won within 30 days"
        ) in " ".join(text.split())
        assert compact_money(found.history.p50) in text
        assert screen.result is not None and screen.view is not None
        reps, _ = forecast_distribution(
            stable_order(app.snapshot.open_deals),
            "30d",
            "likely",
            screen.simulations,
            screen.seed,
            FIXED_NOW,
            rank_by_rep=True,
        )
        assert screen.query_one(ModelsPanel).rep == (
            reps["worst_case"],
            reps["likely_case"],
            reps["best_case"],
        )
        assert compact_money(reps["likely_case"]) in text  # the rep's P50 beside it
        # The headline (cards, distribution) is the default model's forecast of the deals.
        assert screen.view.model == "history"
        assert found.model is not None and found.cutoffs is not None
        headline, _ = history_forecast_and_totals(
            found.model,
            found.cutoffs,
            [d for d in app.snapshot.deals if d.is_open],
            FIXED_NOW,
            30,
            screen.simulations,
            screen.seed,
        )
        assert screen.result["likely_case"] == headline["likely_case"]
        assert headline["likely_case"] == pytest.approx(found.history.p50, abs=0.01)
        assert screen.result["likely_case"] != reps["likely_case"]
        assert screen.query_one("#card-stats").border_title == "Summary · history model"
        assert str(screen.query_one("#distribution").border_title).startswith(
            "Simulated totals (history)"
        )
        likely_card = screen.query_one("#card-likely", Static)
        assert money(headline["likely_case"]) in str(likely_card.render())
        # A what-if moves the headline through the history model: the biggest deal out.
        biggest = max((d for d in app.snapshot.deals if d.is_open), key=lambda d: d.value or 0)
        screen.what_if[biggest.id] = {"excluded": True}
        screen.recompute()
        await wait_for(lambda: not screen.pending, pilot)
        without, _ = history_forecast_and_totals(
            found.model,
            found.cutoffs,
            [d for d in app.snapshot.deals if d.is_open and d.id != biggest.id],
            FIXED_NOW,
            30,
            screen.simulations,
            screen.seed,
        )
        assert screen.view.model == "history"
        assert screen.result["likely_case"] == without["likely_case"]
        # The reps' row beside it stays the deals as they stand, as the history row does.
        assert screen.query_one(ModelsPanel).rep[1] == reps["likely_case"]
        # The deals table still lists by the reps' probabilities, the excluded deal too.
        assert any(row.deal_id == biggest.id for row in screen.view.deals)
        del screen.what_if[biggest.id]
        screen.recompute()
        await wait_for(lambda: not screen.pending, pilot)
        assert found.track is not None
        summary = found.track["summary"]
        assert f"{held(summary['history'])} of last {summary['history']['cutoffs']} months" in text
        assert "auto uses history: its band held what closed in" in text
        # The team view: a row per rep, the team's band from the same runs.
        team_panel = screen.query_one(TeamPanel)
        assert team_panel.display
        team = app.store.analytics.team_forecast(
            app.snapshot.workspace.id,
            window_days=30,
            model="history",
            simulations=screen.simulations,
            seed=screen.seed,
            now=FIXED_NOW,
            fitted=found.model,
        )
        shown = render_text(team_panel)
        for row in team["owners"]:
            assert row["name"] in shown
        assert compact_money(team["team"]["likely_case"]) in shown
        assert "history model" in shown
        # The calibration chart names both models.
        chart = screen.query_one(CalibrationChart)
        legend = str(chart.query_one("#calibration-legend", Static).content)
        assert "history" in legend and "rep %" in legend
        # A goal of nothing (or a month's goal already won) under the history headline:
        # coverage 0, as the reps' forecast says it, not a crash.
        await pilot.press("g")
        await wait_for(lambda: isinstance(app.screen, ValuePrompt), pilot)
        app.screen.query_one(Input).value = "0"
        await pilot.press("enter")
        await wait_for(
            lambda: (
                app.screen is screen
                and not screen.pending
                and (screen.result or {}).get("goal") == 0.0
            ),
            pilot,
        )
        assert screen.view is not None and screen.view.model == "history"
        assert screen.result is not None and screen.result["pipeline_coverage"] == 0.0
        assert screen.result["probability_of_hitting_goal"] == 1.0
        assert "0.0×" in str(screen.query_one("#card-stats", Static).render())


def record_summary_titles(
    app: VectorOSApp, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, bool]]:
    """Every title the summary card is given, with whether the case numbers beside it were
    drawn dim, in order (the real widget, only watched)."""
    titles: list[tuple[str, bool]] = []
    show_model = ScenarioCards.show_model

    def watched(cards: ScenarioCards, model: str, *, for_now: bool = False) -> None:
        show_model(cards, model, for_now=for_now)
        titles.append((str(cards.query_one("#card-stats").border_title), for_now))

    monkeypatch.setattr(ScenarioCards, "show_model", watched)
    return titles


async def test_the_reps_numbers_say_they_stand_in_until_the_history_model_replaces_them(
    tmp_path: Path, make_app: Callable[..., VectorOSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reps' forecast is painted at once, the history model's a moment later: a
    headline that jumped from one to the other without a word (on the demo from $1.5M to
    $520k) read as the forecast changing its mind."""
    model_comparison.forget()
    url = demo_with(tmp_path, history_months=18, deals=700)
    app = make_app(url)
    titles = record_summary_titles(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await models_shown(app, pilot)
        assert screen.view is not None and screen.view.model == "history"
        # Nothing was kept yet: the reps' numbers stood in while the model was learned.
        assert titles[0] == ("Summary · rep % for now…", True), titles
        assert titles[-1] == ("Summary · history model", False)
        assert ("Summary · rep % model", False) not in titles
    # The next start the same day finds the model kept: its numbers are the first shown.
    model_comparison.forget()
    titles.clear()
    app = make_app(url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await models_shown(app, pilot)
        assert titles and set(titles) == {("Summary · history model", False)}, titles
        first_open = len(titles)
        # Another window: its own comparison, so the reps' numbers stand in again.
        await pilot.press("t")
        await wait_for(lambda: screen.window()[0] == 60, pilot)
        await wait_for(
            lambda: not screen.pending and not screen.models_pending and screen.view is not None,
            pilot,
            timeout=30,
        )
        await wait_for(lambda: screen.view is not None and screen.view.model == "history", pilot)
        await pilot.pause()
        after = titles[first_open:]
        assert after[0] == ("Summary · rep % for now…", True), after
        assert after[-1] == ("Summary · history model", False), after
        assert ("Summary · rep % model", False) not in after
        likely = screen.query_one("#card-likely", Static).render()
        assert "dim" not in str(likely.spans[0].style)  # type: ignore[union-attr]


async def test_without_enough_history_the_reps_model_is_the_default_and_says_why(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    model_comparison.forget()
    app = make_app(demo_with(tmp_path, history_months=0, deals=60))
    async with app.run_test(size=SIZE) as pilot:
        screen = await models_shown(app, pilot)
        found = screen.query_one(ModelsPanel).comparison
        assert found is not None and found.history is None and found.default == "rep"
        text = panel_text(screen)
        assert not screen.query_one(TeamPanel).display  # nobody owns the plain demo's deals
        assert "rep % ★ default" in text
        assert "too little history" in text.lower()
        assert screen.view is not None and screen.view.model == "rep"
        assert screen.query_one("#card-stats").border_title == "Summary · rep % model"
        likely = screen.query_one("#card-likely", Static).render()
        assert "dim" not in str(likely.spans[0].style)  # type: ignore[union-attr]
        assert "needs at least 200 and 20" in text.replace("it needs", "needs")


async def test_a_save_refreshes_the_models_for_the_new_deals(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    model_comparison.forget()
    app = make_app(demo_with(tmp_path, history_months=12, deals=450))
    async with app.run_test(size=SIZE) as pilot:
        screen = await models_shown(app, pilot)
        before = screen.query_one(ModelsPanel).comparison
        assert before is not None and before.history is not None
        assert app.snapshot is not None and app.store is not None
        # Mark the biggest open deal lost: the history model's band must not still count it.
        biggest = max((d for d in app.snapshot.deals if d.is_open), key=lambda d: d.value or 0)
        snapshot = app.snapshot
        app.store.deals.update(
            biggest.id,
            {"stage": "closed", "outcome": "lost", "lost_reason": "Price"},
            now=FIXED_NOW,
        )
        app.data_changed()
        await wait_for_snapshot(app, pilot, snapshot)
        await wait_for(
            lambda: (
                screen.query_one(ModelsPanel).comparison is not before and not screen.models_pending
            ),
            pilot,
            timeout=30,
        )
        after = screen.query_one(ModelsPanel).comparison
        assert after is not None and after.history is not None
        assert after.history.p95 < before.history.p95

        # The rep's own save (what the deal editor does): the snapshot is patched and keeps
        # its fingerprint until the next full load, and the models must follow it all the
        # same, agreeing with the headline, itself the history model's forecast.
        assert app.session is not None
        snapshot = app.snapshot
        assert snapshot is not None
        second = max((d for d in snapshot.deals if d.is_open), key=lambda d: d.value or 0)
        await asyncio.to_thread(
            app.session.save_deal,
            uuid.UUID(second.id),
            {"stage": "closed", "outcome": "lost", "lost_reason": "Price"},
        )
        await wait_for(lambda: app.snapshot is not snapshot, pilot)
        assert app.snapshot is not None and app.snapshot.fingerprint == snapshot.fingerprint
        await wait_for(
            lambda: (
                screen.query_one(ModelsPanel).comparison is not after
                and not screen.models_pending
                and not screen.pending
            ),
            pilot,
            timeout=30,
        )
        saved = screen.query_one(ModelsPanel).comparison
        assert saved is not None and saved.history is not None
        assert saved.history.p95 < after.history.p95
        assert screen.result is not None and screen.view is not None
        assert screen.view.model == "history"
        headline = screen.result["simulation_stats"]["p50"]
        assert abs(saved.history.p50 - headline) <= 0.01 * headline
