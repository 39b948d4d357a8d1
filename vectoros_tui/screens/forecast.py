"""The forecast screen: scenario cards, the distribution of simulated totals, revenue by
stage, the funnel, pipeline health and the top deals, with what-if overrides.

Data flow: the app's snapshot (or a key) changes → :meth:`ForecastScreen.recompute` starts
a thread worker → :func:`build_forecast_view` runs the Monte Carlo forecast and bins its
totals off the UI thread → a :class:`ForecastScreen.ForecastReady` message carries the
result back → the handler paints the widgets. What-ifs live only in
:attr:`ForecastScreen.what_if` and are applied to copies of the snapshot's deals; nothing
is ever saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from vectoros_tui.engine.forecast import SCENARIOS, forecast_distribution, parse_timeframe
from vectoros_tui.engine.funnel import (
    EXCLUDED,
    WhatIf,
    describe_what_if,
    parse_close_date,
    parse_goal,
    parse_probability,
    set_override,
    stable_order,
    toggle_exclusion,
)
from vectoros_tui.engine.periods import Period, PeriodForecast, parse_period
from vectoros_tui.foreground import FOREGROUND
from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.screens.forecast_view import (
    PERIOD_WINDOWS,
    TIMEFRAMES,
    WINDOW_LABELS,
    WINDOWS,
    DealRow,
    ForecastParams,
    ForecastView,
    HistoryFit,
    build_forecast_view,
    shorten,
    with_scenario,
)
from vectoros_tui.screens.value_prompt import Answer, ValuePrompt
from vectoros_tui.store.history_forecast import ForecastReuse
from vectoros_tui.store.model_comparison import Comparison, compare_models, kept_history_fit
from vectoros_tui.store.snapshot import WorkspaceSnapshot, open_deals_snapshot
from vectoros_tui.store.views import WorkspaceView
from vectoros_tui.widgets.forecast_charts import (
    DistributionChart,
    FunnelChart,
    HealthDistribution,
    StageRevenueChart,
)
from vectoros_tui.widgets.formatting import MODEL_LABELS, compact_money
from vectoros_tui.widgets.model_comparison import CalibrationChart, ModelsPanel, TeamPanel
from vectoros_tui.widgets.palette import Palette
from vectoros_tui.widgets.revealing_table import RevealingTable
from vectoros_tui.widgets.scenario_cards import ChoiceBar, ScenarioCards

if TYPE_CHECKING:
    from vectoros_tui.app import VectorOSApp

# Width the top-deals table needs besides the deal titles: the other six columns, every
# column's padding and the what-if mark. Titles get what is left (within limits), so at 80
# columns only the health column scrolls out of view.
_OTHER_COLUMNS = 64
_TITLE_WIDTHS = (20, 26, 36)  # narrowest, before layout, widest


# How long a forecast asked for during the first load waits for the open deals that load
# reads first, before it reads them itself.
_OPEN_DEALS_WAIT_S = 3.0


class _ModelsKey(NamedTuple):
    """What the models side by side were computed for: the deals as one full load read
    them (its fingerprint) and the saves patched into them since (edits), and a window."""

    workspace: Any
    fingerprint: tuple[Any, ...]
    edits: int
    days: int


class ForecastScreen(ReportsWorkerErrors, Screen[None]):
    """Scenarios, the distribution and what-ifs for the current workspace."""

    AUTO_FOCUS = ""  # focus the deal table without scrolling it into view (on_mount)
    # Textual declares this an instance attribute, so it cannot be a ClassVar here.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "cycle_timeframe", "Window", id="forecast.timeframe"),
        Binding("s", "cycle_scenario", "Scenario", id="forecast.scenario"),
        Binding("g", "set_goal", "Goal", id="forecast.goal"),
        Binding("x", "toggle_exclude", "Exclude", id="forecast.exclude"),
        Binding("p", "override_probability", "Prob.", id="forecast.probability"),
        Binding("c", "override_close_date", "Close", id="forecast.close_date"),
        Binding("z", "reset_what_if", "Reset", id="forecast.reset"),
    ]

    class ModelsReady(Message):
        """The history model's band and both models' track record for ``key``."""

        def __init__(
            self,
            comparison: Comparison,
            key: _ModelsKey,
            team: dict[str, Any] | None,
            rep: dict[str, Any] | None = None,
        ) -> None:
            super().__init__()
            self.comparison = comparison
            self.key = key
            self.team = team
            # The reps' forecast of the same deals, when the headline is not theirs.
            self.rep = rep

    class ForecastReady(Message):
        """A worker finished; ``generation`` tells a current result from a stale one."""

        def __init__(self, view: ForecastView, generation: int) -> None:
            super().__init__()
            self.view = view
            self.generation = generation

    def __init__(self) -> None:
        super().__init__()
        self.seed = 0
        self.timeframe = "30d"
        self.scenario = "likely"
        self.simulations = 10_000
        # Goals are saved per workspace and window; ``_goals`` holds those of the workspace
        # shown (None until read), the config's goal stands in for a window without one.
        self._goals: dict[int, float] | None = None
        self._goals_of: object = None  # the workspace id ``_goals`` belongs to
        self._period_goals: dict[str, float] = {}  # by period label (2026-Q1, 2026-03)
        self._default_goal: float | None = None
        self.what_if: WhatIf = {}
        self.result: dict[str, Any] | None = None
        self.view: ForecastView | None = None
        self._stale = False  # the snapshot changed while the screen was hidden
        self._generation = 0  # forecasts started
        self._painted = 0  # the generation on screen
        # What the next forecast worker computes: (snapshot, params, what-ifs, now).
        self._job: (
            tuple[WorkspaceSnapshot, ForecastParams, WhatIf, datetime, HistoryFit | None] | None
        ) = None
        # The history models comparisons made the default, by workspace and window length
        # (one per window the rep has looked at): the headline is forecast by the one for
        # the window on screen, the reps' probabilities where there is none.
        self._fits: dict[tuple[object, int], HistoryFit] = {}
        # Which model the comparison made the default, by workspace and window length:
        # until it has said, a headline by the reps' probabilities only stands in.
        self._verdicts: dict[tuple[object, int], str] = {}
        # What the history model computed for the deals forecast last: a save changes one.
        self._reuse = ForecastReuse()
        # The models comparison on screen and the one asked for: (workspace, deals'
        # fingerprint, window days).
        self._models_shown: _ModelsKey | None = None
        self._models_wanted: _ModelsKey | None = None

    def expect_first_forecast(self) -> None:
        """Called by the app as it makes the screen: its first forecast starts once it has
        mounted, 0.1-0.2 s after the key, or twice that beside the first load of a team's
        workspace, which from now steps aside. Not while that load still reads the open
        deals: the forecast waits for them."""
        session = self.vectoros.session
        if session is not None and session.open_deals_read:
            FOREGROUND.expect()

    @property
    def vectoros(self) -> VectorOSApp:
        return cast("VectorOSApp", self.app)

    @property
    def pending(self) -> bool:
        """Whether a forecast is being computed that is not on screen yet."""
        return self._painted != self._generation

    @property
    def models_pending(self) -> bool:
        """Whether the models comparison on screen is not yet for the deals shown."""
        return self._models_wanted is not None and self._models_shown != self._models_wanted

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="forecast-body"):
            with Horizontal(id="controls"):
                yield ChoiceBar(
                    "Window",
                    [(t, WINDOW_LABELS.get(t, t)) for t in WINDOWS],
                    self.timeframe,
                    id="timeframe-choice",
                )
                yield ChoiceBar(
                    "Scenario", [(s, s) for s in SCENARIOS], self.scenario, id="scenario-choice"
                )
                yield Static("", id="goal-status")
            yield ScenarioCards(id="cards")
            yield ModelsPanel(id="models")
            yield TeamPanel(id="team")
            with Horizontal(id="row-distribution"):
                yield DistributionChart(id="distribution")
                with Vertical(id="side-charts"):
                    yield StageRevenueChart(id="stage-revenue")
                    yield HealthDistribution(id="health")
            yield RevealingTable(id="top-deals", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="row-funnel"):
                yield FunnelChart(id="funnel")
                yield Static("", id="what-if-summary")
            yield CalibrationChart(id="calibration")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        defaults = self.vectoros.settings.forecast
        wanted = defaults.timeframe.strip().lower()
        self.timeframe = wanted if wanted in WINDOWS else self.timeframe
        self.scenario = defaults.scenario
        self.simulations = defaults.simulations
        self._default_goal = defaults.goal
        self.query_one("#timeframe-choice", ChoiceBar).select(self.timeframe)
        self.query_one("#scenario-choice", ChoiceBar).select(self.scenario)
        self.query_one("#distribution", DistributionChart).border_title = "Simulated totals"
        table = self.query_one("#top-deals", DataTable)
        table.border_title = "Top deals by weighted value (value × rep %)"
        table.border_subtitle = "x exclude · p probability · c close date · z reset · ⏎ open"
        table.add_column("Deal", key="deal")
        table.add_column("Stage", key="stage")
        table.add_column("Value", key="value")
        table.add_column("Rep %", key="probability")
        table.add_column("Weighted", key="weighted")
        table.add_column("Close", key="close")
        table.add_column("Health", key="health")
        self.query_one("#what-if-summary", Static).border_title = "What-if (forecast only)"
        table.focus(scroll_visible=False)
        self._paint_goal_status()
        self.watch(self.app, "snapshot", self._snapshot_changed, init=True)

    # --- computing ------------------------------------------------------------------

    def on_screen_resume(self) -> None:
        if self._stale:
            self._snapshot_changed(self.vectoros.snapshot)

    def _snapshot_changed(self, snapshot: WorkspaceSnapshot | None) -> None:
        if not self.is_current and self.view is not None and self not in self.app.screen_stack:
            # In another mode: forecast once the rep is back, from whatever the snapshot is
            # by then. Under the editor (same stack) it forecasts now, so the figures are
            # ready when the rep steps back from a save.
            self._stale = True
            return
        self._stale = False
        if snapshot is not None and snapshot.workspace.id != self._goals_of:
            self._goals_of = snapshot.workspace.id
            self._goals = None
            self._load_goals()  # recomputes once read
            return
        if snapshot is not None and self.what_if:
            # What-ifs name deals: drop those of deals gone (or of another workspace).
            for deal_id in [d for d in self.what_if if snapshot.deal(d) is None]:
                del self.what_if[deal_id]
        self.recompute()

    def recompute(self) -> None:
        """Forecast again with the current settings and what-ifs (in a thread worker)."""
        snapshot = self.vectoros.snapshot
        days, period = self.window()
        if snapshot is None:
            session = self.vectoros.session
            ready = self.vectoros.store is not None and period is None and not self.what_if
            if session is not None and ready:
                # The whole workspace is still loading: forecast its open deals now.
                self._generation += 1
                self._preliminary(self._generation, session.workspace, days)
            self.query_one("#goal-status", Static).update(
                Text("Loading the workspace…", style="dim")
            )
            return
        self._generation += 1
        in_period = None
        if period is not None:
            in_period = PeriodForecast.of(
                period, snapshot.deals, self.vectoros.now(), self.goal, self.goal_source
            )
        params = ForecastParams(
            f"{days}d",
            self.scenario,
            self.simulations,
            self.seed,
            self.goal if in_period is None else in_period.remaining,
            window=self.timeframe,
            period=in_period,
        )
        overrides = {deal_id: dict(changes) for deal_id, changes in self.what_if.items()}
        history = self._fits.get((snapshot.workspace.id, days))
        self._job = (snapshot, params, overrides, self.vectoros.now(), history)
        FOREGROUND.expect()  # from now: the worker thread starts a moment later
        self._forecast(self._generation)

    @work(
        thread=True, exclusive=True, group="forecast", exit_on_error=False, description="forecast"
    )
    def _forecast(self, generation: int) -> None:
        # The inputs are read here rather than passed in: a finished Textual worker lives on
        # in a reference cycle until Python's full collection, and workers holding
        # snapshots (30,000 objects each) made those collections 100-200 ms pauses.
        job = self._job
        if job is None or generation != self._generation:
            return  # a newer forecast has been asked for
        snapshot, params, overrides, now, history = job
        with FOREGROUND.running():
            days = parse_timeframe(params.timeframe)
            history = history or self._kept_fit(snapshot.workspace, days, now)
            view = build_forecast_view(
                snapshot, params, overrides, now, history=history, reuse=self._reuse
            )
        if not get_current_worker().is_cancelled:
            self.post_message(self.ForecastReady(view, generation))

    @work(
        thread=True, exclusive=True, group="forecast", exit_on_error=False, description="forecast"
    )
    def _preliminary(self, generation: int, workspace: WorkspaceView, days: int) -> None:
        """The forecast of the open deals, read on their own while the app still loads
        the whole workspace (seconds for a team's 100,000 deals); the full snapshot's
        forecast replaces it when it arrives."""
        now = self.vectoros.now()
        session = self.vectoros.session
        # Not as foreground work: the load reading them must not step aside for us.
        read = session.wait_for_open_deals(_OPEN_DEALS_WAIT_S) if session is not None else None
        with FOREGROUND.running():  # the load of the rest steps aside meanwhile
            snapshot = open_deals_snapshot(self.require_store(), workspace, now, read)
            if generation != self._generation or self.vectoros.snapshot is not None:
                return
            params = ForecastParams(
                f"{days}d", self.scenario, self.simulations, self.seed, self.goal
            )
            history = self._kept_fit(workspace, days, now)
            view = build_forecast_view(snapshot, params, {}, now, complete=False, history=history)
        if not get_current_worker().is_cancelled:
            self.post_message(self.ForecastReady(view, generation))

    def _kept_fit(self, workspace: WorkspaceView, days: int, now: datetime) -> HistoryFit | None:
        """The history model kept today for the window, while no models comparison has
        said which model is the default there: the headline is then the history model's
        from the first paint, not the reps' replaced a moment later (in a worker)."""
        if (workspace.id, days) in self._verdicts:
            return self._fits.get((workspace.id, days))
        store = self.require_store()
        found = kept_history_fit(store.deals, store.models, workspace.id, days, now)
        return None if found is None else HistoryFit(found[0], found[1], days)

    @on(ForecastReady)
    def _forecast_ready(self, message: ForecastReady) -> None:
        if message.generation != self._generation:
            return  # a newer forecast is on its way
        fit = message.view.fit
        workspace = self._workspace()
        if fit is not None and workspace is not None:
            # Forecasts until the comparison has said use it too (the full snapshot's).
            self._fits.setdefault((workspace.id, fit.window_days), fit)
        self.view = message.view
        self._painted = message.generation
        self._paint()
        if message.view.funnel is None:
            self.query_one("#goal-status", Static).update(
                Text("Open deals forecast · loading the rest of the workspace…", style="dim")
            )
        self._compare_models()

    def _compare_models(self) -> None:
        """After the rep forecast is painted, the history model for the same deals: it
        reads the history from the database and may fit, so it never delays the rep's."""
        snapshot = self.vectoros.snapshot
        if snapshot is None or self.vectoros.store is None:
            return
        # A save patches the snapshot and keeps its fingerprint: its edits tell them apart,
        # or the models would go on showing the deals as they were before it.
        key = _ModelsKey(
            snapshot.workspace.id, snapshot.fingerprint, snapshot.edits, self.window()[0]
        )
        if key == self._models_wanted:
            return
        previous, self._models_wanted = self._models_wanted, key
        if previous is None or (previous.workspace, previous.days) != (key.workspace, key.days):
            # After a save the numbers shown stay until the new ones replace them.
            self.query_one(ModelsPanel).show(None, "Learning from history…")
        self._models(snapshot, key, self.vectoros.now())

    @work(thread=True, exclusive=True, group="models", exit_on_error=False, description="models")
    def _models(self, snapshot: WorkspaceSnapshot, key: _ModelsKey, now: datetime) -> None:
        store = self.require_store()
        comparison = compare_models(
            store.deals,
            snapshot.workspace.id,
            snapshot.deals,
            key.days,
            now,
            simulations=self.simulations,
            seed=self.seed,
            kept=store.models,
        )
        rep = None
        if comparison.default == "history":
            # The headline will be the history model's: the reps' band for their row.
            rep, _ = forecast_distribution(
                stable_order(snapshot.open_deals),
                f"{key.days}d",
                self.scenario,
                self.simulations,
                self.seed,
                now,
                top_deals=0,
                rank_by_rep=True,
            )
        team = None
        if len({d.owner_id for d in snapshot.deals if d.is_open and d.owner_id}) >= 2:
            team = store.analytics.team_forecast(
                snapshot.workspace.id,
                window_days=key.days,
                model=comparison.default,
                simulations=self.simulations,
                seed=self.seed,
                goal=self._job[1].goal if self._job else self.goal,
                now=now,
                fitted=comparison.model,
                open_deals=snapshot.open_deals,
                member_goals={
                    str(user): amount
                    for user, amount in store.goals.members(snapshot.workspace.id, key.days).items()
                },
            )
        if not get_current_worker().is_cancelled:
            self.post_message(self.ModelsReady(comparison, key, team, rep))

    @on(ModelsReady)
    def _models_ready(self, message: ModelsReady) -> None:
        if message.key != self._models_wanted:
            return
        self._models_shown = message.key
        found = message.comparison
        fit = None
        if found.default == "history" and found.model is not None and found.cutoffs:
            fit = HistoryFit(found.model, found.cutoffs, found.window_days)
        workspace, days = message.key.workspace, message.key.days
        self._fits = {key: f for key, f in self._fits.items() if key[0] == workspace}
        if fit is None:
            self._fits.pop((workspace, days), None)
        else:
            self._fits[workspace, days] = fit
        self._follow_the_default()
        self._verdict(workspace, days, "rep" if fit is None else "history")
        if message.rep is not None:
            self.query_one(ModelsPanel).show_rep(message.rep)
        self.query_one(ModelsPanel).show(message.comparison)
        self.query_one(TeamPanel).show(message.team)
        track = message.comparison.track
        self.query_one(CalibrationChart).show(track["calibration"] if track else None)

    @on(Worker.StateChanged)
    def _forecast_failed(self, event: Worker.StateChanged) -> None:
        # The app shows the error itself; say here why the numbers did not change.
        if event.worker.group == "models" and event.state == WorkerState.ERROR:
            self._models_shown = self._models_wanted
            self.query_one(ModelsPanel).show(None, "The history model failed (see the error).")
            if self._models_wanted is not None:
                # Not a model that failed to compare: the reps' headline until one does.
                workspace, days = self._models_wanted.workspace, self._models_wanted.days
                self._fits.pop((workspace, days), None)
                self._follow_the_default()
                self._verdict(workspace, days, "rep")
        if event.worker.group == "forecast" and event.state == WorkerState.ERROR:
            self._painted = self._generation
            self.query_one("#goal-status", Static).update(
                Text(
                    "Forecast failed; fix the deal named in the error",
                    style=Palette.of(self.app).style("error", bold=True),
                )
            )

    def _follow_the_default(self) -> None:
        """Forecast again when the headline on screen is not by the model that should
        make it now (another fit, or none), for the window on screen."""
        snapshot, job = self.vectoros.snapshot, self._job
        if snapshot is None or job is None or self.view is None:
            return
        wanted = self._fits.get((snapshot.workspace.id, self.window()[0]))
        # The job's fit, or the one kept today that its worker found.
        used = job[4] or self.view.fit
        if used is wanted or (
            used is not None and wanted is not None and used.model is wanted.model
        ):
            return
        if not self.is_current and self not in self.app.screen_stack:
            self._stale = True  # another mode: forecast once the rep is back
            return
        self.recompute()

    # --- painting -------------------------------------------------------------------

    def _paint(self) -> None:
        view = self.view
        if view is None:
            return
        self.result = with_scenario(view.result, self.scenario)
        result = self.result
        self.query_one("#timeframe-choice", ChoiceBar).select(view.params.chosen)
        self.query_one("#scenario-choice", ChoiceBar).select(self.scenario)
        self.query_one(ScenarioCards).show(
            result, self.scenario, view.model, for_now=self._stands_in(view)
        )
        if view.model == "rep":
            self.query_one(ModelsPanel).show_rep(result)
        chart = self.query_one("#distribution", DistributionChart)
        period = view.params.period
        span = (
            f"{result['timeframe']} window"
            if period is None
            else f"{period.label}, {period.days_left} days left"
        )
        chart.border_title = (
            f"Simulated totals ({MODEL_LABELS[view.model]}) · "
            f"{result['simulation_stats']['num_simulations']:,} runs · " + span
        )
        chart.show(view.distribution)
        self.query_one("#stage-revenue", StageRevenueChart).show(
            view.stages, expected=view.model == "history"
        )
        if view.funnel is not None:  # not a forecast of the open deals alone (unscored)
            self.query_one("#health", HealthDistribution).show(view.health)
            self.query_one("#funnel", FunnelChart).show(view.funnel)
        self._paint_deals(view.deals)
        self._paint_goal_status()

    def _workspace(self) -> WorkspaceView | None:
        """The workspace shown: the snapshot's, or the one still loading."""
        snapshot, session = self.vectoros.snapshot, self.vectoros.session
        if snapshot is not None:
            return snapshot.workspace
        return session.workspace if session is not None else None

    def _stands_in(self, view: ForecastView) -> bool:
        """Whether ``view`` is the reps' forecast shown while the models comparison for
        its window, which may make the history model the headline, is still to come."""
        if view.model != "rep":
            return False
        workspace = self._workspace()
        days = parse_timeframe(view.params.timeframe)
        # Unknown yet, or the history model's forecast is on its way.
        return workspace is None or self._verdicts.get((workspace.id, days)) != "rep"

    def _verdict(self, workspace: object, days: int, model: str) -> None:
        """Keep the comparison's default for the window; a reps' headline it confirms
        stops standing in."""
        self._verdicts = {key: v for key, v in self._verdicts.items() if key[0] == workspace}
        self._verdicts[workspace, days] = model
        view = self.view
        if view is not None and self.result is not None and not self._stands_in(view):
            self.query_one(ScenarioCards).show(self.result, self.scenario, view.model)

    def _paint_goal_status(self) -> None:
        period = self.view.params.period if self.view is not None else None
        if (
            period is not None
            and self.view is not None
            and self.view.params.window == self.timeframe
        ):
            self._paint_period_status(period)
            return
        status = Text(no_wrap=True, overflow="ellipsis")
        goal = self.goal
        if goal is None:
            status.append("Goal ", style="dim")
            status.append("none", style="bold")
            status.append(f" for {self.timeframe} (g)", style="dim")
        else:
            status.append(f"Goal {self.timeframe} ", style="dim")
            status.append(compact_money(goal), style="bold")
            if self.goal_source == "config":
                status.append(" (config)", style="dim")
            chance = (self.result or {}).get("probability_of_hitting_goal")
            if chance is not None:
                status.append(f" · {chance:.0%} chance", style="bold")
            status.append(" (g)", style="dim")
        self.query_one("#goal-status", Static).update(status)

    def _paint_period_status(self, period: PeriodForecast) -> None:
        """``2026-Q4 won 120k · goal 750k 42% (g)``: the period so far and its goal."""
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(f"{period.label} won ", style="dim")
        status.append(compact_money(period.won), style="bold")
        status.append(" · goal ", style="dim")
        if period.goal is None:
            status.append("none", style="bold")
        else:
            status.append(compact_money(period.goal), style="bold")
            chance = (self.result or {}).get("probability_of_hitting_goal")
            if chance is not None:
                status.append(f" {chance:.0%}", style="bold")
        status.append(" (g)", style="dim")
        self.query_one("#goal-status", Static).update(status)

    def _paint_deals(self, rows: list[DealRow], *, retry: bool = True) -> None:
        table = self.query_one("#top-deals", DataTable)
        if retry and not table.region.width:
            # Not laid out yet: titles are cut to the table's width, so paint again once
            # it is (the same forecast must always look the same).
            self.call_after_refresh(self._paint_deals, rows, retry=False)
        # Keep the cursor on the same row, not the same deal: after "x" the excluded deal
        # drops to the end, and the next deal moves up under the cursor.
        keep = table.cursor_row
        width = self._title_width(table)
        table.clear()
        palette = Palette.of(self.app)
        changed = palette.style("warning", bold=True)
        for row in rows:
            excluded = EXCLUDED in row.overridden
            title = Text("✎ " if row.overridden else "  ", style=changed)
            title.append(shorten(row.title, width), style="dim strike" if excluded else "")
            probability = "—" if row.probability is None else f"{row.probability:g}%"
            if excluded:
                weighted = Text("excluded", style=changed, justify="right")
            elif row.weighted is None:
                weighted = Text("outside", style=changed, justify="right")
            else:
                weighted = Text(compact_money(row.weighted), justify="right")
            table.add_row(
                title,
                row.stage,
                Text(compact_money(row.value), justify="right"),
                Text(
                    probability,
                    justify="right",
                    style=changed if "probability" in row.overridden else "",
                ),
                weighted,
                Text(
                    row.close_date or "—", style=changed if "close_date" in row.overridden else ""
                ),
                Text(row.health or "—", style=palette.health(row.health) if row.health else "dim"),
                key=row.deal_id,
            )
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1), animate=False)
        self._paint_what_if_summary(rows)

    @staticmethod
    def _title_width(table: DataTable[Any]) -> int:
        narrowest, fallback, widest = _TITLE_WIDTHS
        inner = table.region.shrink(table.styles.gutter).width - 2  # room for a scrollbar
        if inner <= 0:
            return fallback
        return max(narrowest, min(widest, inner - _OTHER_COLUMNS))

    def on_resize(self) -> None:
        # Titles are cut to the table's width; cut them again once the new layout is in.
        if self.view is not None:
            view = self.view
            self.call_after_refresh(self._paint_deals, view.deals)

    def _paint_what_if_summary(self, rows: list[DealRow]) -> None:
        summary = Text()
        if not self.what_if:
            summary.append("No what-ifs: the forecast uses the saved deals.\n", style="dim")
            summary.append("On a top deal: ", style="dim")
            summary.append("x", style="bold")
            summary.append(" exclude · ", style="dim")
            summary.append("p", style="bold")
            summary.append(" probability · ", style="dim")
            summary.append("c", style="bold")
            summary.append(" close date", style="dim")
        else:
            titles = {r.deal_id: r.title for r in rows}
            count = len(self.what_if)
            summary.append(f"{count} deal{'s' if count != 1 else ''} changed", style="bold")
            summary.append(" · z resets · never saved\n", style="dim")
            for deal_id, changes in self.what_if.items():
                summary.append("✎ ", style="bold yellow")
                summary.append(shorten(titles.get(deal_id, deal_id), 24))
                summary.append(f"  {describe_what_if(changes)}\n", style="yellow")
        self.query_one("#what-if-summary", Static).update(summary)

    # --- state changes --------------------------------------------------------------

    def window(self) -> tuple[int, Period | None]:
        """The days the forecast covers, and the month or quarter when it is one."""
        if self.timeframe in PERIOD_WINDOWS:
            today = self.vectoros.now().date()
            period = parse_period(self.timeframe, today)
            return period.days_left(self.vectoros.now()), period
        return parse_timeframe(self.timeframe), None

    def set_timeframe(self, timeframe: str) -> None:
        if timeframe not in WINDOWS:
            raise ValueError(f"timeframe must be one of {', '.join(WINDOWS)}")
        self.timeframe = timeframe
        self.query_one("#timeframe-choice", ChoiceBar).select(timeframe)
        self.recompute()

    def set_scenario(self, scenario: str) -> None:
        """Choose the case the forecast reports; the simulation itself is unchanged."""
        if scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}")
        self.scenario = scenario
        self.query_one("#scenario-choice", ChoiceBar).select(scenario)
        self._paint()

    @property
    def goal(self) -> float | None:
        """The goal of the window shown: saved for this workspace, else the config's (a
        month or quarter has only its saved goal)."""
        days, period = self.window()
        if period is not None:
            return self._period_goals.get(period.label)
        if self._goals is not None and days in self._goals:
            return self._goals[days]
        return self._default_goal

    @property
    def goal_source(self) -> str:
        days, period = self.window()
        if period is not None:
            return "saved" if period.label in self._period_goals else "none"
        if self._goals is not None and days in self._goals:
            return "saved"
        return "config" if self._default_goal is not None else "none"

    @work(thread=True, exclusive=True, group="goals", exit_on_error=False, description="goals")
    def _load_goals(self) -> None:
        session = self.require_session()
        goals, periods = session.goals(), session.period_goals()
        self.app.call_from_thread(self._goals_loaded, session.workspace.id, goals, periods)

    def _goals_loaded(
        self, workspace_id: object, goals: dict[int, float], periods: dict[str, float]
    ) -> None:
        if workspace_id != self._goals_of:
            return  # read for a workspace the rep has left
        self._goals = goals
        self._period_goals = periods
        self._paint_goal_status()
        self.recompute()

    def set_goal(self, goal: float | None) -> None:
        """Set (None: clear) the goal of the window shown, for this workspace, and keep it."""
        days, period = self.window()
        if period is not None:
            if goal is None:
                self._period_goals.pop(period.label, None)
            else:
                self._period_goals[period.label] = goal
            self._save_period_goal(period, goal)
            self._paint_goal_status()
            self.recompute()
            return
        goals = dict(self._goals or {})
        if goal is None:
            goals.pop(days, None)
        else:
            goals[days] = goal
        self._goals = goals
        self._save_goal(days, goal)
        self._paint_goal_status()
        self.recompute()

    @work(thread=True, group="goals-save", exit_on_error=False, description="goals-save")
    def _save_goal(self, days: int, goal: float | None) -> None:
        self.require_session().save_goal(days, goal)

    @work(thread=True, group="goals-save", exit_on_error=False, description="goals-save")
    def _save_period_goal(self, period: Period, goal: float | None) -> None:
        self.require_session().save_period_goal(period, goal)

    def highlighted_deal_id(self) -> str | None:
        table = self.query_one("#top-deals", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)

    @on(ChoiceBar.Chosen, "#timeframe-choice")
    def _timeframe_clicked(self, event: ChoiceBar.Chosen) -> None:
        self.set_timeframe(event.value)

    @on(ChoiceBar.Chosen, "#scenario-choice")
    def _scenario_clicked(self, event: ChoiceBar.Chosen) -> None:
        self.set_scenario(event.value)

    @on(ScenarioCards.Chosen)
    def _card_clicked(self, event: ScenarioCards.Chosen) -> None:
        self.set_scenario(event.scenario)

    @on(DataTable.RowSelected, "#top-deals")
    def _open_deal(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.vectoros.open_deal(str(event.row_key.value))

    # --- actions --------------------------------------------------------------------

    def action_cycle_timeframe(self) -> None:
        index = WINDOWS.index(self.timeframe) if self.timeframe in WINDOWS else -1
        self.set_timeframe(WINDOWS[(index + 1) % len(WINDOWS)])

    def action_cycle_scenario(self) -> None:
        self.set_scenario(SCENARIOS[(SCENARIOS.index(self.scenario) + 1) % len(SCENARIOS)])

    def action_set_goal(self) -> None:
        def chosen(answer: Answer | None) -> None:
            if answer is not None:
                self.set_goal(cast("float | None", answer.value))

        current = "" if self.goal is None else f"{self.goal:.0f}"
        days, period = self.window()
        span = (
            f"to close in the next {days} days in this workspace"
            if period is None
            else f"won in {period.label} in this workspace, what is won already included"
        )
        self.app.push_screen(
            ValuePrompt(
                "Revenue goal",
                f"Revenue {span}, e.g. 250000, 250k or 1.2M; kept for this "
                f"{'window' if period is None else 'period'}. Empty clears it.",
                parse_goal,
                current,
            ),
            chosen,
        )

    def action_toggle_exclude(self) -> None:
        deal_id = self._deal_for_what_if()
        if deal_id is None:
            return
        excluded = toggle_exclusion(self.what_if, deal_id)
        self.notify(
            f"{self._title_of(deal_id)} {'left out of' if excluded else 'back in'} the forecast "
            "(what-if, not saved)",
            timeout=3,
        )
        self.recompute()

    def action_override_probability(self) -> None:
        self._prompt_override(
            "probability",
            "Win probability (what-if)",
            "A number from 0 to 100; forecast only, never saved.",
            parse_probability,
        )

    def action_override_close_date(self) -> None:
        self._prompt_override(
            "close_date",
            "Close date (what-if)",
            "A date as YYYY-MM-DD; forecast only, never saved.",
            parse_close_date,
        )

    def action_reset_what_if(self) -> None:
        if not self.what_if:
            self.notify("No what-ifs to reset", timeout=2)
            return
        self.what_if.clear()
        self.notify("What-ifs cleared: the forecast uses the saved deals again", timeout=3)
        self.recompute()

    def _prompt_override(
        self, field: str, title: str, hint: str, parse: Callable[[str], object]
    ) -> None:
        deal_id = self._deal_for_what_if()
        if deal_id is None:
            return
        snapshot = self.vectoros.snapshot
        deal = snapshot.deal(deal_id) if snapshot else None
        current = self.what_if.get(deal_id, {}).get(field, getattr(deal, field, None))
        shown = (
            ""
            if current is None
            else (f"{current:g}" if isinstance(current, float) else str(current))
        )

        def chosen(answer: Answer | None) -> None:
            if answer is not None:
                set_override(self.what_if, deal_id, field, answer.value)
                self.recompute()

        self.app.push_screen(
            ValuePrompt(f"{title}: {self._title_of(deal_id)}", hint, parse, shown), chosen
        )

    def _deal_for_what_if(self) -> str | None:
        if not self.query_one("#top-deals", RevealingTable).revealed():
            return None  # the row it would act on is shown first
        deal_id = self.highlighted_deal_id()
        if deal_id is None:
            self.notify("No deal highlighted: pick one in the top-deals table", timeout=3)
        return deal_id

    def _title_of(self, deal_id: str) -> str:
        snapshot = self.vectoros.snapshot
        deal = snapshot.deal(deal_id) if snapshot else None
        return repr(deal.title) if deal else deal_id

    # --- command palette ------------------------------------------------------------

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (
                f"Forecast: {t[:-1]}-day window",
                f"Forecast the deals closing within {t} (t)",
                partial(self.set_timeframe, t),
            )
            for t in TIMEFRAMES
        ]
        commands += [
            (
                f"Forecast: this {p}",
                f"Forecast to the end of this {p}, with what it has won so far (t)",
                partial(self.set_timeframe, p),
            )
            for p in PERIOD_WINDOWS
        ]
        commands += [
            (
                f"Forecast: {s} case",
                f"Report the {s} case as the forecast (s)",
                partial(self.set_scenario, s),
            )
            for s in SCENARIOS
        ]
        commands += [
            (
                "Forecast: set revenue goal",
                "Goal and the chance of hitting it (g)",
                self.action_set_goal,
            ),
            (
                "Forecast: clear revenue goal",
                "Forecast without a goal",
                partial(self.set_goal, None),
            ),
            (
                "Forecast: reset what-ifs",
                "Forget every exclusion and override (z)",
                self.action_reset_what_if,
            ),
        ]
        return commands
