"""Scenario selection for the forecast: choice bars (window, scenario) and the case cards.

Both are clickable and only paint what they are given; the screen owns the state and
decides what a click changes (the widgets post :class:`ChoiceBar.Chosen` and
:class:`ScenarioCards.Chosen`).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from vectoros_tui.widgets.formatting import MODEL_LABELS, compact_money, money

# (scenario, card title, percentile key in simulation_stats, what the percentile means)
CASES: tuple[tuple[str, str, str, str], ...] = (
    ("worst", "Worst P5", "p5", "95% beat it"),
    ("likely", "Likely P50", "p50", "50% beat it"),
    ("best", "Best P95", "p95", "5% beat it"),
)


class _Choice(Static):
    """One clickable option of a :class:`ChoiceBar`."""

    def __init__(self, text: str, value: str, *, id: str | None = None) -> None:
        super().__init__(text, id=id, classes="choice")
        self.value = value

    def on_click(self, event: events.Click) -> None:
        event.stop()
        bar = next(a for a in self.ancestors if isinstance(a, ChoiceBar))
        bar.post_message(ChoiceBar.Chosen(bar, self.value))


class ChoiceBar(Horizontal):
    """``Label  a  b  c`` on one line; the selected option is highlighted."""

    DEFAULT_CSS = """
    ChoiceBar { width: auto; height: 1; margin-right: 2; }
    ChoiceBar > .choice-label { width: auto; color: $text-muted; margin-right: 1; }
    ChoiceBar > .choice { width: auto; padding: 0 1; }
    ChoiceBar > .choice:hover { background: $boost; }
    ChoiceBar > .choice.-selected { background: $accent; color: auto; text-style: bold; }
    """

    class Chosen(Message):
        def __init__(self, bar: ChoiceBar, value: str) -> None:
            super().__init__()
            self.bar = bar
            self.value = value

        @property
        def control(self) -> ChoiceBar:
            return self.bar

    def __init__(
        self, label: str, choices: Sequence[tuple[str, str]], value: str, *, id: str
    ) -> None:
        super().__init__(id=id)
        self._label = label
        self._choices = list(choices)
        self._value = value

    def compose(self) -> ComposeResult:
        yield Static(self._label, classes="choice-label")
        for value, text in self._choices:
            choice = _Choice(text, value, id=f"{self.id}-{value}" if self.id else None)
            choice.set_class(value == self._value, "-selected")
            yield choice

    def select(self, value: str) -> None:
        self._value = value
        for choice in self.query(_Choice):
            choice.set_class(choice.value == value, "-selected")


class ScenarioCard(Static):
    """One case (worst, likely or best); clicking it chooses that scenario."""

    def __init__(self, scenario: str, title: str) -> None:
        super().__init__("…", id=f"card-{scenario}", classes="card")
        self.scenario = scenario
        self.border_title = title

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(ScenarioCards.Chosen(self.scenario))


class ScenarioCards(Horizontal):
    """The three cases, the selected one highlighted, and a card of summary statistics."""

    DEFAULT_CSS = """
    ScenarioCards { height: 5; }
    ScenarioCards > .card {
        width: 1fr; height: 5; border: round $panel; padding: 0 1;
        border-title-color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ScenarioCards > .card.-selected {
        border: heavy $accent; border-title-color: $accent; border-title-style: bold;
    }
    ScenarioCards > #card-stats { width: 2fr; }
    """

    class Chosen(Message):
        def __init__(self, scenario: str) -> None:
            super().__init__()
            self.scenario = scenario

    def compose(self) -> ComposeResult:
        for scenario, title, _, _ in CASES:
            yield ScenarioCard(scenario, title)
        stats = Static("…", id="card-stats", classes="card")
        stats.border_title = "Summary"
        stats.tooltip = (
            "Coverage is the pipeline in the window divided by the goal. Without a goal "
            "(g sets one) the goal is 40% of that pipeline, ×1.5 for 60 days, ×2 for 90."
        )
        yield stats

    def show(
        self,
        result: Mapping[str, Any],
        scenario: str,
        model: str = "rep",
        *,
        for_now: bool = False,
    ) -> None:
        """Paint a forecast result (the engine's dict) with ``scenario`` highlighted;
        ``model``: whose forecast it is ("rep" or "history"). ``for_now``: the reps' numbers
        stand in while the history model, which may replace them, is still being learned;
        they are drawn dim and the summary says so."""
        self.show_model(model, for_now=for_now)
        stats = result["simulation_stats"]
        number_style = "dim bold" if for_now else "bold"
        for case, _, key, meaning in CASES:
            card = self.query_one(f"#card-{case}", ScenarioCard)
            card.set_class(case == scenario, "-selected")
            text = Text(money(stats[key]), style=number_style, no_wrap=True, overflow="ellipsis")
            text.append("\n" + ("◆ forecast" if case == scenario else meaning), style="dim")
            period = result.get("period")
            if period is not None:
                # The whole month or quarter in this case: won so far plus this.
                text.append(f"\n{_short_label(period['period'])} ", style="dim")
                text.append(compact_money(period[f"{case}_case"]), style="bold")
            card.update(text)
        goal = result.get("revenue_goal", 0.0)
        summary = Text(no_wrap=True, overflow="ellipsis")
        summary.append(f"{result['deals_analyzed']:,}", style="bold")
        summary.append(" deals analysed · ", style="dim")
        summary.append(compact_money(result["total_pipeline_value"]), style="bold")
        summary.append("\nConfidence ", style="dim")
        summary.append(f"{result['confidence']:.0%}", style="bold")
        summary.append(" · mean ", style="dim")
        summary.append(compact_money(result["mean_forecast"]), style="bold")
        summary.append("\nCoverage ", style="dim")
        if "goal" in result:
            # Pipeline in the window over the goal: 3x is the usual rule of thumb.
            summary.append(f"{result.get('pipeline_coverage') or 0.0:.1f}×", style="bold")
            summary.append(f" of the {compact_money(goal)} goal", style="dim")
        else:
            summary.append("— no goal (g)", style="dim")
        stats_card = self.query_one("#card-stats", Static)
        stats_card.update(summary)
        # They count as $0, or (amounts filled in at the close) as a past win's amount: a
        # forecast must say which. On the card's edge, where 80 columns still show it
        # (the lines cut off at the card's width).
        unpriced = result.get("unpriced_deals") or 0
        stand_in = result.get("unpriced_if_won")
        if not unpriced:
            stats_card.border_subtitle = None
        elif stand_in:
            each = compact_money(stand_in["mean"])
            stats_card.border_subtitle = f"{unpriced:,} unpriced ≈{each}/win"
        else:
            stats_card.border_subtitle = f"{unpriced:,} without a value"

    def show_model(self, model: str, *, for_now: bool = False) -> None:
        label = MODEL_LABELS.get(model, model)
        title = f"Summary · {label} for now…" if for_now else f"Summary · {label} model"
        self.query_one("#card-stats", Static).border_title = title


def _short_label(period: str) -> str:
    """``2026-Q4`` → ``Q4``, ``2026-12`` → ``Dec``."""
    _, _, part = period.partition("-")
    if part.startswith("Q"):
        return part
    return calendar.month_abbr[int(part)] if part.isdigit() and 1 <= int(part) <= 12 else part
