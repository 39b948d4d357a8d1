"""The forecast's summary card says how many open deals have no value (each counts as
$0 if won), so a forecast of nothing says why."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from vectoros_tui.widgets.scenario_cards import ScenarioCards


class CardsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ScenarioCards()


def result(**extra: Any) -> dict[str, Any]:
    stats = {"p5": 0.0, "p50": 0.0, "p95": 0.0}
    return {
        "simulation_stats": stats,
        "deals_analyzed": 871,
        "total_pipeline_value": 0.0,
        "confidence": 0.0,
        "mean_forecast": 0.0,
        "revenue_goal": None,
        **extra,
    }


async def summary_of(shown: dict[str, Any]) -> str:
    app = CardsApp()
    async with app.run_test(size=(100, 10)) as pilot:
        app.query_one(ScenarioCards).show(shown, "likely", "history")
        await pilot.pause()
        card = app.query_one("#card-stats", Static)
        return f"{card.render()} {card.border_subtitle or ''}"


async def test_the_summary_counts_the_deals_without_a_value() -> None:
    assert "871 without a value" in await summary_of(result(unpriced_deals=871))
    assert "without a value" not in await summary_of(result(unpriced_deals=0))
    assert "without a value" not in await summary_of(result())  # the reps' forecast
