"""The forecast's summary card says how many open deals have no value and what each
counts as if won ($0, or a past win's amount where amounts are filled in at the close),
so a forecast of nothing says why."""

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


async def test_where_amounts_come_at_the_close_the_summary_says_what_an_unpriced_deal_counts():
    """Amounts filled in at the close: an unpriced deal counts as a past win's amount,
    and the card says how much, not that it counts as nothing."""
    stand_in = {"mean": 3_914.99, "sd": 6_510.1, "deals": 2_506}
    shown = await summary_of(result(unpriced_deals=871, unpriced_if_won=stand_in))
    assert "871 unpriced ≈$3.9k/win" in shown
    assert "without a value" not in shown
