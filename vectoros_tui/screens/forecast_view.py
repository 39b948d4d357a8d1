"""What the forecast screen shows, computed in its worker: plain data for the widgets."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.forecast import forecast_distribution, listed_deals
from vectoros_tui.engine.funnel import (
    Funnel,
    StageRevenue,
    WhatIf,
    apply_what_if,
    band_counts,
    describe_what_if,
    histogram_bins,
    stable_order,
    stage_revenue,
)
from vectoros_tui.engine.periods import PeriodForecast
from vectoros_tui.engine.win_model import WinModel
from vectoros_tui.store.history_forecast import ForecastReuse, history_forecast_and_totals
from vectoros_tui.store.snapshot import WorkspaceSnapshot
from vectoros_tui.widgets.forecast_charts import (
    BEST_COLOUR,
    LIKELY_COLOUR,
    WORST_COLOUR,
    DistributionData,
    Marker,
)

TIMEFRAMES = ("30d", "60d", "90d")
# Calendar windows: to the end of this month or quarter, counting what it has won so far.
PERIOD_WINDOWS = ("month", "quarter")
WINDOWS = TIMEFRAMES + PERIOD_WINDOWS
WINDOW_LABELS = {"month": "month", "quarter": "qtr"}
TOP_DEALS = 30


@dataclass(frozen=True)
class ForecastParams:
    timeframe: str  # what the simulation covers: "30d", or the days left of a period
    scenario: str
    simulations: int
    seed: int
    goal: float | None  # for a period: what is left of its goal once its wins are counted
    window: str = ""  # the rep's choice (one of WINDOWS); "" is ``timeframe`` itself
    period: PeriodForecast | None = None  # the month or quarter, when the window is one

    @property
    def chosen(self) -> str:
        return self.window or self.timeframe


@dataclass(frozen=True, eq=False)
class HistoryFit:
    """The history model fitted for the workspace and a window length: when the forecast
    uses it (``--model auto`` would), the screen's headline figures are its own."""

    model: WinModel
    cutoffs: int
    window_days: int


@dataclass(frozen=True)
class DealRow:
    deal_id: str
    title: str
    stage: str
    value: float
    probability: float | None  # the rep's call (after any override), percent
    weighted: float | None  # value x the rep's probability; None when not in the forecast
    close_date: str | None
    health: str | None
    what_if: str  # "" when the deal has no what-if, else e.g. "p 30%, close 2026-12-01"
    overridden: frozenset[str]  # what-if keys set on this deal ("excluded", "probability", …)


@dataclass(frozen=True)
class ForecastView:
    params: ForecastParams
    # The headline forecast (cards, distribution, revenue by stage): the history model's
    # when it is the default, else the reps'.
    result: dict[str, Any]
    distribution: DistributionData
    stages: list[StageRevenue]
    funnel: Funnel | None  # None: computed from the open deals alone, which cannot say
    health: dict[str, int]
    deals: list[DealRow]
    compute_ms: float
    model: str = "rep"  # whose forecast ``result`` is: "rep" or "history"
    fit: HistoryFit | None = None  # the history model that made it


def with_scenario(result: dict[str, Any], scenario: str) -> dict[str, Any]:
    """The same forecast read for another scenario (no new simulation is needed)."""
    return {**result, "scenario": scenario, "predicted_revenue": result[f"{scenario}_case"]}


def build_forecast_view(
    snapshot: WorkspaceSnapshot,
    params: ForecastParams,
    what_if: WhatIf,
    now: datetime,
    *,
    complete: bool = True,
    history: HistoryFit | None = None,
    reuse: ForecastReuse | None = None,
) -> ForecastView:
    """Everything the screen paints, computed in one go (runs in a thread worker).
    ``complete=False``: the snapshot holds only the open deals, unscored (see
    :func:`open_deals_snapshot`), so the funnel, which needs the closed ones, is left out
    and the health counts are empty. With ``history``, the headline is the history
    model's forecast of the same deals, what-ifs applied (a probability is one of its
    inputs, a close date too); the deals are listed by the reps' probabilities either way.
    ``reuse``: what the history model computed for the deals forecast last, computed
    again only for the deals that changed since."""
    started = time.perf_counter()
    # Only open deals are forecast; a team's workspace is mostly closed ones.
    deals = apply_what_if(stable_order(snapshot.open_deals), what_if)
    listed = None
    if history is None:
        result, totals = forecast_distribution(
            deals,
            params.timeframe,
            params.scenario,
            params.simulations,
            params.seed,
            now,
            params.goal,
            top_deals=TOP_DEALS,
            also_deals=what_if.keys(),
            rank_by_rep=True,
        )
    else:
        # The deals are still listed by value x the rep's call (what boards call weighted).
        listed = listed_deals(deals, params.timeframe, now, TOP_DEALS, what_if.keys())
        result, totals = history_forecast_and_totals(
            history.model,
            history.cutoffs,
            deals,
            now,
            history.window_days,
            params.simulations,
            params.seed,
            params.goal,
            params.scenario,
            deal_rows=False,
            reuse=reuse,
        )
    if params.period is not None:
        params.period.add_to(result)
    stats = result["simulation_stats"]
    distribution = DistributionData(
        histogram_bins(totals),
        (
            Marker("P5", stats["p5"], WORST_COLOUR),
            Marker("P50", stats["p50"], LIKELY_COLOUR),
            Marker("P95", stats["p95"], BEST_COLOUR),
        ),
        params.goal,
        result.get("probability_of_hitting_goal"),
        result["standard_deviation"],
    )
    return ForecastView(
        params=params,
        result=result,
        distribution=distribution,
        stages=stage_revenue(result["breakdown_by_stage"]),
        funnel=snapshot.funnel() if complete else None,
        health=band_counts(h.health_status for h in snapshot.health.values()),
        deals=_deal_rows(
            snapshot, deals, result["forecasted_deals"] if listed is None else listed, what_if
        ),
        compute_ms=(time.perf_counter() - started) * 1000,
        model="rep" if history is None else "history",
        fit=history,
    )


def _deal_rows(
    snapshot: WorkspaceSnapshot,
    deals: list[DealRecord],
    forecast: list[dict[str, Any]],
    what_if: WhatIf,
) -> list[DealRow]:
    """The top forecast deals, then every deal with a what-if that is not among them
    (excluded, or moved out of the window) so it can still be changed back."""
    by_id = {d.id: d for d in deals}

    def row(deal_id: str, counted: bool) -> DealRow | None:
        deal = by_id.get(deal_id) or snapshot.deal(deal_id)
        if deal is None:
            return None
        health = snapshot.health.get(deal_id)
        return DealRow(
            deal_id=deal_id,
            title=deal.title or "Untitled deal",
            stage=deal.stage,
            value=deal.value or 0.0,
            probability=deal.probability,
            # The board's meaning of weighted, from what the simulation drew with.
            weighted=deal.weighted_value if counted else None,
            close_date=deal.close_date.isoformat() if deal.close_date else None,
            health=health.health_status if health else None,
            what_if=describe_what_if(what_if.get(deal_id, {})),
            overridden=frozenset(what_if.get(deal_id, {})),
        )

    rows = [row(str(d["deal_id"]), True) for d in forecast[:TOP_DEALS]]
    shown = {r.deal_id for r in rows if r is not None}
    in_forecast = {str(d["deal_id"]) for d in forecast}
    rows += [row(i, i in in_forecast) for i in what_if if i not in shown]
    return [r for r in rows if r is not None]


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------- prompt
