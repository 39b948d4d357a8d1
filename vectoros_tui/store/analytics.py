"""Forecasts, health scores and insights for a workspace: store data through the engine."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.health import score_workspace
from vectoros_tui.store.as_of import WorkspaceHistory, records_as_of
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.insights import InsightService, RegenerationResult
from vectoros_tui.store.model_store import KeptRun, ModelStore


class AnalyticsService:
    def __init__(self, deals: DealService, insights: InsightService, models: ModelStore) -> None:
        self.deals = deals
        self.insights = insights
        self.models = models

    def forecast(
        self,
        workspace_id: uuid.UUID,
        *,
        timeframe: str = "30d",
        scenario: str = "likely",
        simulations: int = 10_000,
        seed: int | None = None,
        goal: float | None = None,
        now: datetime | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """The forecast from ``now``; with ``as_of``, of the pipeline as it stood then,
        from what was known then (see :mod:`vectoros_tui.store.as_of`), from then."""
        from vectoros_tui.engine.forecast import forecast_revenue  # numpy: load when used

        deals = self.deals.records(workspace_id)
        if as_of is not None:
            deals = records_as_of(self.deals.db, workspace_id, deals, as_of)
            now = as_of
        result = forecast_revenue(
            deals,
            timeframe=timeframe,
            scenario=scenario,
            simulations=simulations,
            seed=seed,
            now=now,
            goal=goal,
        )
        if as_of is None:
            days = int(result["timeframe"].removesuffix("d"))
            open_deals = sum(1 for d in deals if d.is_open)
            self._keep_run(workspace_id, now or utc_now(), days, "rep", result, open_deals)
        return {"workspace_id": str(workspace_id), **result}

    def history_forecast(
        self,
        workspace_id: uuid.UUID,
        *,
        window_days: int = 30,
        simulations: int = 10_000,
        seed: int | None = None,
        now: datetime | None = None,
        as_of: datetime | None = None,
        goal: float | None = None,
    ) -> dict[str, Any]:
        """The history model's forecast (see :mod:`vectoros_tui.store.history_forecast`);
        raises ``NotEnoughHistory`` when the workspace's past is too short to learn from."""
        from vectoros_tui.store.history_forecast import (
            NotEnoughHistory,
            TrainingGrid,
            fit_until,
            history_forecast,
        )

        current = self.deals.records(workspace_id)
        moment = as_of or now or utc_now()
        kept = None
        fingerprint: tuple[Any, ...] = ()
        if as_of is None:
            fingerprint = self.deals.fingerprint(workspace_id)
            kept = self.models.fit(workspace_id, window_days, fingerprint, moment.date())
        if isinstance(kept, str):
            raise NotEnoughHistory(kept)
        history = None
        if kept is None or as_of is not None:
            history = WorkspaceHistory.load(self.deals.db, workspace_id, current)
        if kept is None:
            assert history is not None
            try:
                model, training = fit_until(TrainingGrid(history, window_days), moment)
            except NotEnoughHistory as exc:
                if as_of is None:
                    self.models.keep_fit(
                        workspace_id, window_days, fingerprint, moment.date(), str(exc)
                    )
                raise
            kept = (model, training.cutoffs)
            if as_of is None:
                self.models.keep_fit(workspace_id, window_days, fingerprint, moment.date(), kept)
        deals = history.at(as_of) if history is not None and as_of is not None else current
        open_deals = [d for d in deals if d.is_open]
        result = history_forecast(
            kept[0], kept[1], open_deals, moment, window_days, simulations, seed, goal=goal
        )
        if as_of is None:
            self._keep_run(workspace_id, moment, window_days, "history", result, len(open_deals))
        return {"workspace_id": str(workspace_id), **result}

    def _keep_run(
        self,
        workspace_id: uuid.UUID,
        moment: datetime,
        window_days: int,
        model: str,
        result: dict[str, Any],
        open_deals: int,
    ) -> None:
        self.models.keep_run(
            workspace_id,
            KeptRun(
                moment.date(),
                window_days,
                model,
                result["worst_case"],
                result["likely_case"],
                result["best_case"],
                result["mean_forecast"],
                open_deals,
            ),
        )

    def score(self, workspace_id: uuid.UUID, *, now: datetime | None = None) -> dict[str, Any]:
        return score_workspace(self.deals.records(workspace_id), now or utc_now())

    def regenerate_insights(
        self, workspace_id: uuid.UUID, *, timeframe: str = "30d", now: datetime | None = None
    ) -> RegenerationResult:
        """Run every insight rule; concentration is judged on the ``timeframe`` forecast."""
        from vectoros_tui.engine.forecast import forecast_revenue
        from vectoros_tui.engine.insights import generate_insights

        moment = now or utc_now()
        deals = self.deals.records(workspace_id)
        # The concentration rule only needs each deal's probability; 100 simulations keep
        # this cheap (the totals are not used).
        forecast = forecast_revenue(deals, timeframe=timeframe, simulations=100, seed=0, now=moment)
        contributions = [
            (d["deal_id"], d["title"], d["value"], d["adjusted_probability"])
            for d in forecast["forecasted_deals"]
        ]
        drafts = generate_insights(deals, moment, forecast_contributions=contributions)
        return self.insights.replace_generated(workspace_id, drafts, moment)
