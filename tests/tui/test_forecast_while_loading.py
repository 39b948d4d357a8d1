"""While the whole workspace is still loading, the forecast screen shows the forecast of
the open deals, read on their own, and says the rest is coming; its charts never claim
there is nothing to show. Pilot, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pilot_helpers import FIXED_NOW, press_before_the_workspace_loads, wait_for
from rich.text import Text
from textual.widgets import Static

from vectoros_tui.app import VectorOSApp
from vectoros_tui.screens.forecast import ForecastScreen
from vectoros_tui.store import model_comparison
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.model_comparison import prepare
from vectoros_tui.store.store import open_store
from vectoros_tui.widgets.forecast_charts import FunnelChart

SIZE = (100, 30)


def text_of(widget: object) -> str:
    rendered = widget.render()  # type: ignore[attr-defined]
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


async def test_the_open_deals_forecast_shows_before_the_workspace_has_loaded(
    demo_database: str, make_app: Callable[..., VectorOSApp]
) -> None:
    app = make_app(demo_database)
    async with app.run_test(size=SIZE) as pilot:
        full, screen = await press_before_the_workspace_loads(app, pilot, "f3", ForecastScreen)
        await wait_for(lambda: screen.view is not None and not screen.pending, pilot)
        early = screen.view
        assert early is not None and early.funnel is None  # needs the closed deals
        status = str(screen.query_one("#goal-status", Static).content)
        assert "loading the rest of the workspace" in status
        assert "Computing…" in text_of(screen.query_one("#funnel", FunnelChart))
        assert "Computing…" in text_of(screen.query_one("#health"))  # not scored yet
        for chart in ("#stage-revenue", "#health"):
            assert "No open deals" not in text_of(screen.query_one(chart))

        # The whole workspace arrives: the same numbers, now with the funnel.
        app.snapshot = full
        await wait_for(
            lambda: screen.view is not early and screen.view is not None and not screen.pending,
            pilot,
        )
        late = screen.view
        assert late is not None and late.funnel is not None
        for key in ("worst_case", "likely_case", "best_case", "deals_analyzed"):
            assert early.result[key] == late.result[key], key
        assert sum(early.health.values()) == 0  # the open deals alone are not scored
        assert sum(late.health.values()) == len(full.open_deals)
        assert "Computing…" not in text_of(screen.query_one("#funnel", FunnelChart))


async def test_with_a_model_kept_today_the_open_deals_forecast_is_the_history_models(
    tmp_path: Path, make_app: Callable[..., VectorOSApp]
) -> None:
    """The model fitted today is kept (the demo, the CLI and every app keep it): the
    forecast shown while the rest loads is already the default model's, not the reps'
    numbers that the history model's would replace a few seconds later."""
    url = f"sqlite:///{tmp_path / 'kept.sqlite3'}"
    store = open_store(url)
    demo = create_demo_workspace(store.db, deals=700, seed=5, now=FIXED_NOW, history_months=18)
    prepare(store.deals, store.models, demo.workspace_id, FIXED_NOW, 30)
    store.close()
    model_comparison.forget()
    app = make_app(url)
    async with app.run_test(size=SIZE) as pilot:
        _, screen = await press_before_the_workspace_loads(app, pilot, "f3", ForecastScreen)
        await wait_for(lambda: screen.view is not None and not screen.pending, pilot)
        early = screen.view
        assert early is not None and early.funnel is None  # the open deals alone
        assert early.model == "history"
        assert screen.query_one("#card-stats").border_title == "Summary · history model"
