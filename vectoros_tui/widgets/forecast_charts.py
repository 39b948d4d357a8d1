"""The forecast's charts: the distribution of simulated totals, revenue by stage, the
stage funnel and the pipeline's health bands.

Every chart is handed data that a worker already computed (histogram bins, funnel counts)
and only draws it: plotext and the bar rows are rebuilt on resize, so nothing heavy may
happen here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from vectoros_tui.engine.funnel import Funnel, Histogram, StageRevenue
from vectoros_tui.widgets.formatting import compact_money
from vectoros_tui.widgets.palette import Palette
from vectoros_tui.widgets.themed_plot import ThemedPlot

_EIGHTHS = " ▏▎▍▌▋▊▉"

# Marker colours, shared by the plot's lines and the legend that names them.
WORST_COLOUR = (230, 90, 90)
LIKELY_COLOUR = (235, 200, 70)
BEST_COLOUR = (90, 200, 120)
GOAL_COLOUR = (200, 120, 230)
BAR_COLOUR = (90, 140, 220)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``fraction`` (0-1) of ``width`` cells long, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


# --------------------------------------------------------------------------- distribution


@dataclass(frozen=True)
class Marker:
    label: str
    value: float
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class DistributionData:
    histogram: Histogram
    markers: tuple[Marker, ...]
    goal: float | None
    goal_probability: float | None
    spread: float | None = None  # the totals' standard deviation


class DistributionChart(Vertical):
    """Histogram of the simulated totals with P5/P50/P95 and the goal as vertical lines."""

    DEFAULT_CSS = """
    DistributionChart { border: round $panel; height: 14; padding: 0 0; }
    DistributionChart > #legend { height: 1; padding: 0 1; }
    DistributionChart > ThemedPlot { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="legend")
        yield ThemedPlot()

    def show(self, data: DistributionData) -> None:
        legend = Text(no_wrap=True, overflow="ellipsis")
        for marker in data.markers:
            legend.append("┃ ", style=_hex(marker.colour))
            legend.append(f"{marker.label} {compact_money(marker.value)}  ")
        if data.spread is not None:
            legend.append(f"σ {compact_money(data.spread)}  ", style="dim")
        if data.goal is not None:
            legend.append("┃ ", style=_hex(GOAL_COLOUR))
            legend.append(f"goal {compact_money(data.goal)}")
            if data.goal_probability is not None:
                legend.append(f" {_percent(data.goal_probability)} likely", style="bold")
        self.query_one("#legend", Static).update(legend)
        self._draw(data)

    def _draw(self, data: DistributionData) -> None:
        plot = self.query_one(ThemedPlot)
        plt = plot.plt
        plt.clear_data()
        plt.frame(False)
        histogram = data.histogram
        if not histogram.counts:
            plot.refresh()
            return
        low, high = histogram.edges[0], histogram.edges[-1]
        span = high - low
        lines = [(m.value, m.colour) for m in data.markers]
        if data.goal is not None and low - span <= data.goal <= high + span:
            lines.append((data.goal, GOAL_COLOUR))
            low, high = min(low, data.goal), max(high, data.goal)
        margin = (high - low) * 0.02
        # Totals are never negative: keep the axis from showing "$-2k".
        low, high = max(low - margin, min(low, 0.0)), high + margin
        plt.bar(histogram.centers, list(histogram.counts), width=1, color=BAR_COLOUR)
        for value, colour in lines:
            plt.vertical_line(value, color=colour)
        plt.xlim(low, high)
        ticks = [low + (high - low) * k / 4 for k in range(5)]
        plt.xticks(ticks, [compact_money(t) for t in ticks])
        peak = max(histogram.counts)
        total = histogram.total
        plt.yticks([0, peak / 2, peak], ["0", f"{peak / 2 / total:.0%}", f"{peak / total:.0%}"])
        plot.refresh()


# --------------------------------------------------------------------------- bar charts


class BarChart(Widget):
    """A bordered block of one-line rows, redrawn to the current width."""

    DEFAULT_CSS = """
    BarChart {
        border: round $panel; padding: 0 1; height: auto;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    accent = "#0178d4"
    # Until the first figures arrive the chart says they are coming: its "nothing to show"
    # line would contradict a workspace of 100,000 deals whose forecast is still running.
    shown = False

    def render(self) -> RenderResult:
        self.accent = Palette.of(self.app).style("accent") or self.accent
        width = max(self.content_size.width, 10)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        lines = self.lines(width) if self.shown else [Text("Computing…", style="dim")]
        for index, line in enumerate(lines):
            if index:
                text.append("\n")
            text.append_text(line)
        return text

    def lines(self, width: int) -> list[Text]:
        raise NotImplementedError


class StageRevenueChart(BarChart):
    """Open pipeline in the window by stage: total value (░) and, solid (█), what the
    headline's model expects it to bring: weighted by the reps' probabilities, or the
    history model's expected revenue in the window ("weighted" is the reps' alone)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Revenue by stage"
        self._rows: list[StageRevenue] = []
        self._expected = False
        self._label()

    def show(self, rows: Sequence[StageRevenue], *, expected: bool = False) -> None:
        """``expected``: the rows' second figure is the history model's expected revenue,
        not value x the reps' probability."""
        self.shown = True
        self._rows = list(rows)
        self._expected = expected
        self._label()
        self.refresh(layout=True)

    def _label(self) -> None:
        solid = "expected" if self._expected else "weighted"
        self.border_subtitle = f"░ total  [$accent]█[/] {solid}"

    def lines(self, width: int) -> list[Text]:
        if not self._rows:
            return [Text("No open deals in the window", style="dim")]
        label = max(len(r.stage) for r in self._rows) + 1
        numbers = 15
        room = width - label - numbers
        biggest = max((r.total_value for r in self._rows), default=0.0) or 1.0
        header = Text(" " * max(0, width - numbers))
        header.append(f"{'total':>7} {'exp.' if self._expected else 'wtd':>7}", style="dim")
        out = [header]
        for row in self._rows:
            line = Text(row.stage.ljust(label))
            if room >= 4:
                solid = bar(row.weighted_value / biggest, room - 1)
                shade = "░" * max(0, round(row.total_value / biggest * (room - 1)) - len(solid))
                line.append(solid, style=self.accent)
                line.append(shade, style="dim")
                line.append(" " * (room - len(solid) - len(shade)))
            line.append(
                f"{compact_money(row.total_value):>7} {compact_money(row.weighted_value):>7}"
            )
            out.append(line)
        return out


class FunnelChart(BarChart):
    """Deals that reached each stage, with the conversion from the stage before."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Funnel · all deals"
        self._funnel: Funnel | None = None

    def show(self, funnel: Funnel) -> None:
        self.shown = True
        self._funnel = funnel
        self.refresh(layout=True)

    def lines(self, width: int) -> list[Text]:
        funnel = self._funnel
        if funnel is None or not funnel.steps[0].reached:
            return [Text("No deals yet", style="dim")]
        label = max(len(s.step) for s in funnel.steps) + 1
        numbers = 12
        room = width - label - numbers
        first = funnel.steps[0].reached
        header = Text(" " * max(0, width - numbers))
        header.append(f"{'reached':>7} {'conv':>4}", style="dim")
        out = [header]
        for step in funnel.steps:
            line = Text(step.step.ljust(label))
            if room >= 4:
                drawn = bar(step.reached / first, room - 1)
                line.append(drawn, style=self.accent)
                line.append(" " * (room - len(drawn)))
            line.append(f"{step.reached:>7,} ")
            line.append(f"{_percent(step.conversion):>4}", style="bold")
            out.append(line)
        rate = _percent(funnel.win_rate)
        out.append(
            Text(
                f"open {funnel.open:,} · won {funnel.won:,} · lost {funnel.lost:,} · win {rate}",
                style="dim",
            )
        )
        return out


class HealthDistribution(BarChart):
    """Open deals per health band (excellent … critical)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Pipeline health"
        self._counts: dict[str, int] = {}

    def show(self, counts: Mapping[str, int]) -> None:
        self.shown = True
        self._counts = dict(counts)
        total = sum(self._counts.values())
        self.border_title = f"Pipeline health · {total:,} open"
        self.refresh(layout=True)

    def lines(self, width: int) -> list[Text]:
        total = sum(self._counts.values())
        if not total:
            return [Text("No open deals to score", style="dim")]
        label = max(len(band) for band in self._counts) + 1
        numbers = 11
        room = width - label - numbers
        biggest = max(self._counts.values())
        out = []
        palette = Palette.of(self.app)
        for band, count in self._counts.items():
            line = Text(band.ljust(label))
            if room >= 4:
                drawn = bar(count / biggest, room - 1)
                line.append(drawn, style=palette.health(band))
                line.append(" " * (room - len(drawn)))
            line.append(f"{count:>6,} ")
            line.append(f"{count / total:>4.0%}", style="dim")
            out.append(line)
        return out
