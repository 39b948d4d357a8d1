"""Forecasts, health scores and insights for a workspace: store data through the engine."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.health import score_workspace
from vectoros_tui.store.as_of import WorkspaceHistory, records_as_of
from vectoros_tui.store.deals import DealService
from vectoros_tui.store.insights import InsightService, RegenerationResult
from vectoros_tui.store.kept_answer import SCORE
from vectoros_tui.store.kept_payload import forecast_kind, forecast_params
from vectoros_tui.store.kept_results import KeptResults
from vectoros_tui.store.model_payload import DataSize
from vectoros_tui.store.model_store import KeptRun, ModelStore
from vectoros_tui.store.owners import OwnerService

if TYPE_CHECKING:
    from vectoros_tui.engine.deal_record import DealRecord
    from vectoros_tui.engine.win_model import WinModel


class AnalyticsService:
    def __init__(
        self,
        deals: DealService,
        insights: InsightService,
        models: ModelStore,
        owners: OwnerService,
    ) -> None:
        self.deals = deals
        self.insights = insights
        self.models = models
        self.owners = owners
        self.kept = KeptResults(deals.db)

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
        owner_id: uuid.UUID | None = None,
        keep: bool = False,
    ) -> dict[str, Any]:
        """The forecast from ``now``; with ``as_of``, of the pipeline as it stood then,
        from what was known then (see :mod:`vectoros_tui.store.as_of`), from then. With
        ``owner_id``, of that member's deals only. ``keep``: record it as the day's
        forecast (a rep's own run does; a server answering reads does not write)."""
        from vectoros_tui.engine.forecast import forecast_revenue  # numpy: load when used

        moment = now or utc_now()

        def compute() -> dict[str, Any]:
            if as_of is None:
                # The forecast counts open deals only; the closed ones are most of the rows.
                deals = self.deals.records(workspace_id, owner_id=owner_id, open_only=True)
            else:
                deals = self.deals.records(workspace_id, owner_id=owner_id)
                deals = records_as_of(self.deals.db, workspace_id, deals, as_of)
            result = forecast_revenue(
                deals,
                timeframe=timeframe,
                scenario=scenario,
                simulations=simulations,
                seed=seed,
                now=as_of or moment,
                goal=goal,
            )
            return {"result": result, "open_deals": sum(1 for d in deals if d.is_open)}

        return self._today_or_kept(
            workspace_id,
            "rep",
            {"timeframe": timeframe, "scenario": scenario, "goal": goal},
            simulations,
            seed,
            moment,
            now=now,
            as_of=as_of,
            owner_id=owner_id,
            keep=keep,
            compute=compute,
        )

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
        owner_id: uuid.UUID | None = None,
        scenario: str = "likely",
        keep: bool = False,
    ) -> dict[str, Any]:
        """The history model's forecast (see :mod:`vectoros_tui.store.history_forecast`);
        raises ``NotEnoughHistory`` when the workspace's past is too short to learn from."""
        from vectoros_tui.store.history_forecast import kept_forecast

        moment = as_of or now or utc_now()

        def compute(earlier: dict[str, Any] | None = None) -> dict[str, Any]:
            model, cutoffs, history = self._fitted(workspace_id, window_days, moment, as_of)
            if as_of is None:
                # The model learns from the whole team; it forecasts one member's deals.
                open_deals = self.deals.records(workspace_id, owner_id=owner_id, open_only=True)
            else:
                assert history is not None
                mine = None if owner_id is None else str(owner_id)
                open_deals = [
                    d
                    for d in history.at(as_of)
                    if d.is_open and (mine is None or d.owner_id == mine)
                ]
            return kept_forecast(
                model,
                cutoffs,
                open_deals,
                moment,
                window_days,
                simulations,
                seed,
                goal,
                scenario,
                earlier=earlier,
                # A forecast of today, kept: the next one takes its unchanged rows.
                with_inputs=as_of is None,
            )

        return self._today_or_kept(
            workspace_id,
            "history",
            {"window_days": window_days, "scenario": scenario, "goal": goal},
            simulations,
            seed,
            moment,
            now=now,
            as_of=as_of,
            owner_id=owner_id,
            keep=keep,
            compute=compute,
            update=compute,
        )

    def _today_or_kept(
        self,
        workspace_id: uuid.UUID,
        model: str,
        params: dict[str, Any],
        simulations: int,
        seed: int | None,
        moment: datetime,
        *,
        now: datetime | None,
        as_of: datetime | None,
        owner_id: uuid.UUID | None,
        keep: bool,
        compute: Callable[[], dict[str, Any]],
        update: Callable[[Any], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A forecast by ``model``: ``compute()`` gives {"result", "open_deals"}, and
        ``update`` the same from the one kept earlier that day (see
        :meth:`KeptResults.reuse_or_compute`). Today's
        (no ``now`` or ``as_of`` given) with a fixed seed is the same until the data
        changes (the history model it uses is kept for the day too): read back while it
        holds. ``keep``: record today's forecast of the whole workspace as the day's."""
        today = as_of is None and now is None and seed is not None
        found = self.kept.reuse_or_compute(
            workspace_id,
            forecast_kind(model),
            forecast_params(params, owner_id, simulations, seed),
            moment.date() if today else None,
            compute,
            plain=True,
            update=update,
        )
        result = found["result"]
        if keep and as_of is None and owner_id is None:
            days = int(result["timeframe"].removesuffix("d"))
            self._keep_run(workspace_id, moment, days, model, result, found["open_deals"])
        return {"workspace_id": str(workspace_id), **result}

    def _fitted(
        self,
        workspace_id: uuid.UUID,
        window_days: int,
        moment: datetime,
        as_of: datetime | None,
    ) -> tuple[WinModel, int, WorkspaceHistory | None]:
        """The history model for ``moment`` (kept in the database for today's data and
        day; an as-of fit is made afresh and not kept), its training cut-offs, and the
        history if it had to be read. Raises ``NotEnoughHistory``."""
        from vectoros_tui.store.history_forecast import NotEnoughHistory, TrainingGrid, fit_until

        kept = None
        # Two counts decide whether the kept fit holds: no deal is read for a kept fit.
        data = DataSize(*self.deals.closed_and_total(workspace_id))
        if as_of is None:
            kept = self.models.fit(workspace_id, window_days, data, moment.date())
        if isinstance(kept, str):
            raise NotEnoughHistory(kept)
        history = None
        if kept is None or as_of is not None:
            current = self.deals.records(workspace_id)
            history = WorkspaceHistory.load(self.deals.db, workspace_id, current)
        if kept is None:
            assert history is not None
            try:
                model, training = fit_until(TrainingGrid(history, window_days), moment)
            except NotEnoughHistory as exc:
                if as_of is None:
                    self.models.keep_fit(workspace_id, window_days, data, moment.date(), str(exc))
                raise
            kept = (model, training.cutoffs)
            if as_of is None:
                self.models.keep_fit(workspace_id, window_days, data, moment.date(), kept)
        return kept[0], kept[1], history

    def team_forecast(
        self,
        workspace_id: uuid.UUID,
        *,
        window_days: int = 30,
        model: str = "auto",
        simulations: int = 10_000,
        seed: int | None = None,
        goal: float | None = None,
        now: datetime | None = None,
        fitted: WinModel | None = None,
        member_goals: dict[str, float] | None = None,
        open_deals: Sequence[DealRecord] | None = None,
    ) -> dict[str, Any]:
        """Each member's band and the team's, from the same runs (see
        :mod:`vectoros_tui.engine.team`): ``model`` rep, history or auto (history when
        there is enough, else rep, saying why). ``fitted``: a history model the caller
        already has (the app's), instead of the one kept for today's data.
        ``member_goals`` (user id -> amount): each rep's chance of reaching theirs.
        ``open_deals``: the workspace's open deals as the caller already holds them (the
        app's, in the store's order), instead of reading them again."""
        import numpy as np

        from vectoros_tui.engine.forecast import parse_simulations, window_win_probabilities
        from vectoros_tui.engine.team import band, bernoulli_group_totals, by_group, team_summary
        from vectoros_tui.engine.win_features import deal_features
        from vectoros_tui.engine.win_model import simulate_won_totals
        from vectoros_tui.store.history_forecast import NotEnoughHistory

        simulations = parse_simulations(simulations)
        moment = now or utc_now()
        if open_deals is None:
            open_deals = self.deals.records(workspace_id, open_only=True)
        members = {str(m.id): m for m in self.owners.members(workspace_id)}
        keys = sorted({d.owner_id or "" for d in open_deals}, key=lambda k: (k == "", k))
        column = {key: i for i, key in enumerate(keys)}
        groups = [column[d.owner_id or ""] for d in open_deals]
        recorded = [d.value or 0.0 for d in open_deals]
        values = by_group(recorded, groups, len(keys))
        rng = np.random.default_rng(seed)
        used, note = model, None
        totals = None
        unpriced = None
        stand_in = None  # what an unpriced deal counted as if won (JSON), if anything
        if model != "rep" and fitted is None:
            try:
                fitted, _, _ = self._fitted(workspace_id, window_days, moment, None)
            except NotEnoughHistory as exc:
                if model == "history":
                    raise
                used, note = "rep", f"{exc}; used the reps' probabilities"
        if model != "rep" and fitted is not None:
            used = "history"
            matrix = deal_features(open_deals, moment, window_days, fitted.owners).matrix
            if fitted.unpriced is not None:
                worth, unpriced = fitted.unpriced.priced(np.array(recorded, dtype=np.float64))
                values = by_group(worth.tolist(), groups, len(keys))
                stand_in = fitted.unpriced.to_json()
            totals = simulate_won_totals(fitted, matrix, values, simulations, rng, None, unpriced)
        if totals is None:
            chances = window_win_probabilities(open_deals, window_days, moment)
            p = np.array([chances.get(d.id, 0.0) for d in open_deals])
            totals = bernoulli_group_totals(p, values, simulations, rng)
        reps: list[dict[str, Any]] = []
        for key, index in column.items():
            member = members.get(key)
            mine = [d for d in open_deals if (d.owner_id or "") == key]
            reps.append(
                {
                    "userId": key or None,
                    "email": member.email if member else None,
                    "name": member.label if member else "unassigned",
                    "deals": len(mine),
                    "pipeline": round(sum(d.value or 0.0 for d in mine), 2),
                    **band(totals[:, index]),
                }
            )
            target = (member_goals or {}).get(key)
            if target is not None:
                reps[-1]["goal"] = target
                reps[-1]["probability_of_hitting_goal"] = round(
                    float(np.mean(totals[:, index] >= target)), 4
                )
        # Biggest likely first; deals nobody owns last.
        reps.sort(key=lambda r: (r["userId"] is None, -r["likely_case"], r["name"]))
        result: dict[str, Any] = {
            "workspace_id": str(workspace_id),
            "model": used,
            "timeframe": f"{window_days}d",
            "simulations": simulations,
            "owners": reps,
            "team": team_summary(totals, goal),
            "sum_of_owner_p5": round(sum(r["worst_case"] for r in reps), 2),
            "sum_of_owner_p95": round(sum(r["best_case"] for r in reps), 2),
            # As the single forecast says them: how many have no value, and (amounts
            # filled in at the close) what each counted as if won.
            "unpriced_deals": sum(1 for value in recorded if not value),
            "unpriced_if_won": stand_in,
        }
        if note:
            result["model_note"] = note
        return result

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
        moment = now or utc_now()

        def compute() -> dict[str, Any]:
            _, total = self.deals.closed_and_total(workspace_id)
            return score_workspace(
                self.deals.records(workspace_id, open_only=True), moment, total_deals=total
            )

        # Scores count days (since the last activity, to the close date): kept for the day.
        day = None if now is not None else moment.date()
        return self.kept.reuse_or_compute(workspace_id, SCORE, {}, day, compute)

    def regenerate_insights(
        self, workspace_id: uuid.UUID, *, timeframe: str = "30d", now: datetime | None = None
    ) -> RegenerationResult:
        """Run every insight rule; concentration is judged on the ``timeframe`` forecast.

        Without ``now``, a regeneration for today from the very deals and activities the
        last one saw is skipped (the rules would draft the same insights): nothing added,
        updated or removed."""
        from vectoros_tui.engine.forecast import forecast_revenue
        from vectoros_tui.engine.insights import generate_insights

        moment = now or utc_now()
        regenerated: list[RegenerationResult] = []

        def compute() -> dict[str, Any]:
            # Every rule reads open deals only.
            deals = self.deals.records(workspace_id, open_only=True)
            # The concentration rule only needs each deal's probability; 100 simulations
            # keep this cheap (the totals are not used).
            forecast = forecast_revenue(
                deals, timeframe=timeframe, simulations=100, seed=0, now=moment
            )
            contributions = [
                (d["deal_id"], d["title"], d["value"], d["adjusted_probability"])
                for d in forecast["forecasted_deals"]
            ]
            drafts = generate_insights(deals, moment, forecast_contributions=contributions)
            regenerated.append(self.insights.replace_generated(workspace_id, drafts, moment))
            return {"regenerated_at": moment.isoformat()}

        day = None if now is not None else moment.date()
        self.kept.reuse_or_compute(workspace_id, "insights", {"timeframe": timeframe}, day, compute)
        return regenerated[0] if regenerated else RegenerationResult(0, 0, 0)
