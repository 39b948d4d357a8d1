"""The forecast screen's two models side by side, and the calibration of their chances.

Both widgets draw what a worker already computed (see the store's model comparison).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from vectoros_tui.engine.team import band_bar
from vectoros_tui.store.model_comparison import Comparison, held
from vectoros_tui.widgets.forecast_charts import BEST_COLOUR, LIKELY_COLOUR
from vectoros_tui.widgets.formatting import MODEL_LABELS, compact_money
from vectoros_tui.widgets.palette import Palette
from vectoros_tui.widgets.themed_plot import ThemedPlot


class ModelsPanel(Static):
    """P5 / P50 / P95 of the rep and history models, the one `auto` picks and why."""

    DEFAULT_CSS = """
    ModelsPanel { border: round $panel; height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.rep: tuple[float, float, float] | None = None
        self.comparison: Comparison | None = None
        self.status = "Learning from history…"

    def on_mount(self) -> None:
        self.border_title = "Models side by side"

    def show_rep(self, result: dict[str, Any]) -> None:
        self.rep = (result["worst_case"], result["likely_case"], result["best_case"])
        self._paint()

    def show(self, comparison: Comparison | None, status: str = "") -> None:
        self.comparison = comparison
        self.status = status
        self._paint()

    def _paint(self) -> None:
        palette = Palette.of(self.app)
        found = self.comparison
        default = found.default if found is not None else None
        table = Table.grid(padding=(0, 2))
        table.add_column("model", no_wrap=True)
        for _ in range(3):
            table.add_column(justify="right", no_wrap=True)
        table.add_column("record", no_wrap=True, overflow="ellipsis")
        table.add_row(
            Text("model", style="dim"),
            Text("P5", style="dim"),
            Text("P50", style="dim"),
            Text("P95", style="dim"),
            Text("held (P5–P95)", style="dim"),
        )
        track = found.track["summary"] if found is not None and found.track else {}
        for name in ("history", "rep"):
            label = Text(MODEL_LABELS[name])
            if name == default:
                label.append(" ★ default", style=palette.style("accent", bold=True))
            band = self._band(name)
            cells = [Text(compact_money(v)) for v in band] if band else [Text("—", style="dim")] * 3
            summary = track.get(name, {})
            record = (
                Text(f"{held(summary)} of last {summary['cutoffs']} months")
                if summary.get("cutoffs")
                else Text("—", style="dim")
            )
            table.add_row(label, *cells, record)
        lines: list[Any] = [table]
        if found is None:
            lines.append(Text(self.status, style="dim"))
        else:
            why = Text(f"auto uses {MODEL_LABELS[found.default]}: {found.reason}.")
            lines.append(why)
            lines.append(Text(f"{found.note}.", style="dim"))
            if self.status:
                lines.append(Text(self.status, style="dim"))
        self.update(Group(*lines))

    def _band(self, name: str) -> tuple[float, float, float] | None:
        if name == "rep":
            return self.rep
        found = self.comparison
        if found is None or found.history is None:
            return None
        return (found.history.p5, found.history.p50, found.history.p95)


class CalibrationChart(Vertical):
    """Predicted chance of winning within the window against the share that did, per
    tenth of predicted chance, for both models over the replayed cut-offs."""

    DEFAULT_CSS = """
    CalibrationChart { border: round $panel; height: 14; }
    CalibrationChart > #calibration-legend { height: 1; padding: 0 1; }
    CalibrationChart > ThemedPlot { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="calibration-legend")
        yield ThemedPlot()

    def on_mount(self) -> None:
        self.border_title = "Calibration: predicted vs won within the window"

    def show(self, calibration: dict[str, list[dict[str, Any]]] | None) -> None:
        legend = Text(no_wrap=True, overflow="ellipsis")
        plot = self.query_one(ThemedPlot)
        plt = plot.plt
        plt.clear_data()
        plt.frame(False)
        if not calibration or not any(calibration.values()):
            legend.append("No cut-off to replay yet: the track record needs a month of history.")
            self.query_one("#calibration-legend", Static).update(legend)
            plot.refresh()
            return
        plt.plot([0, 1], [0, 1], color="gray")  # where a calibrated model's points lie
        for name, colour in (("history", BEST_COLOUR), ("rep", LIKELY_COLOUR)):
            bins = calibration.get(name) or []
            if not bins:
                continue
            legend.append("● ", style="#{:02x}{:02x}{:02x}".format(*colour))
            legend.append(f"{MODEL_LABELS[name]}  ")
            plt.scatter(
                [b["predicted"] for b in bins],
                [b["observed"] for b in bins],
                color=colour,
                marker="●",
            )
        legend.append("on the diagonal: calibrated", style="dim")
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        ticks = [0, 0.25, 0.5, 0.75, 1]
        plt.xticks(ticks, [f"{t:.0%}" for t in ticks])
        plt.yticks(ticks, [f"{t:.0%}" for t in ticks])
        self.query_one("#calibration-legend", Static).update(legend)
        plot.refresh()


class TeamPanel(Static):
    """One row per rep: open deals, P5 / P50 / P95 with a band bar on a shared scale,
    and the team's band from the same runs with its chance of reaching the goal."""

    DEFAULT_CSS = """
    TeamPanel { border: round $panel; height: auto; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.border_title = "Team: each rep's band, the team's from the same runs"
        self.display = False

    def show(self, result: dict[str, Any] | None) -> None:
        owners = (result or {}).get("owners") or []
        # A team view needs a team: deals owned by more than one member.
        named = [r for r in owners if r.get("userId")]
        self.display = bool(result) and len(named) >= 2
        if not self.display or result is None:
            return
        scale = max((r["best_case"] for r in owners), default=0.0)
        table = Table.grid(padding=(0, 2))
        table.add_column("rep", no_wrap=True, overflow="ellipsis", max_width=22)
        table.add_column(justify="right", no_wrap=True)
        for _ in range(3):
            table.add_column(justify="right", no_wrap=True)
        goals = any("goal" in r for r in owners)
        if goals:
            table.add_column(justify="right", no_wrap=True)
        table.add_column("band", no_wrap=True)
        heads = ["rep", "deals", "P5", "P50", "P95", *(["goal · P(hit)"] if goals else [])]
        table.add_row(*(Text(h, style="dim") for h in [*heads, "P5–P95"]))
        for row in owners:
            goal = (
                [Text(f"{compact_money(row['goal'])} · {row['probability_of_hitting_goal']:.0%}")]
                if "goal" in row
                else [Text("—", style="dim")]
            )
            table.add_row(
                Text(row["name"]),
                Text(f"{row['deals']:,}"),
                Text(compact_money(row["worst_case"])),
                Text(compact_money(row["likely_case"])),
                Text(compact_money(row["best_case"])),
                *(goal if goals else []),
                Text(band_bar(row["worst_case"], row["likely_case"], row["best_case"], scale)),
            )
        team = result["team"]
        table.add_row(
            Text("team", style="bold"),
            Text(f"{sum(r['deals'] for r in owners):,}"),
            Text(compact_money(team["worst_case"]), style="bold"),
            Text(compact_money(team["likely_case"]), style="bold"),
            Text(compact_money(team["best_case"]), style="bold"),
            *([Text("")] if goals else []),
            Text(""),
        )
        lines: list[Any] = [table]
        model = "history model" if result.get("model") == "history" else "reps' probabilities"
        note = Text(f"{model}; the team's band is not the sum of the reps'", style="dim")
        if "probability_of_hitting_goal" in team:
            note.append(
                f" · goal {compact_money(team['goal'])}: "
                f"{team['probability_of_hitting_goal']:.0%} chance",
                style="bold",
            )
        lines.append(note)
        self.update(Group(*lines))
