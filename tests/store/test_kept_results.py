"""Whole-workspace results kept against the data they came from, on SQLite and Postgres:
a forecast, the health scores and an insight regeneration asked again before anything
changed are read back, not computed; any change of a deal or an activity (by whichever
process: the revisions are kept by database triggers) or a new day computes them again."""

from __future__ import annotations

import json
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update

from vectoros_tui import plain_json
from vectoros_tui.engine.dates import utc_now
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.kept_results import KeptResults, Revision
from vectoros_tui.store.store import Store
from vectoros_tui.store.tables import KeptResult
from vectoros_tui.store.views import DealView, WorkspaceView


def today() -> date:
    return utc_now().date()


def new_deal(store: Store, workspace: WorkspaceView, **fields: Any) -> DealView:
    data: dict[str, Any] = {
        "title": "Acme renewal",
        "stage": "negotiation",
        "value": 50_000,
        "probability": 60,
        "close_date": today() + timedelta(days=10),
    }
    data.update(fields)
    return store.deals.create(workspace.id, data)


def kept_rows(store: Store, workspace: WorkspaceView) -> list[tuple[str, str]]:
    with store.db.read() as session:
        rows = session.execute(
            select(KeptResult.kind, KeptResult.params).where(
                KeptResult.workspace_id == workspace.id
            )
        ).all()
    return sorted((kind, params) for kind, params in rows)


def mark_kept_forecast(store: Store, workspace: WorkspaceView, result: dict[str, Any]) -> None:
    """Replace the kept forecast by ``result`` with a marker: read back, the marker shows;
    computed again, it is gone."""
    marked = {"result": {**result, "marker": 1}, "open_deals": 1}
    with store.db.write() as session:
        session.execute(
            update(KeptResult)
            .where(KeptResult.workspace_id == workspace.id)
            .values(payload=zlib.compress(json.dumps(marked).encode()))
        )


def activity(store: Store, deal: DealView, days_ago: int = 0) -> Any:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return store.activities.add(deal.id, {"type": "call", "description": "Spoke", "date": when})


def test_the_revisions_move_with_any_change_of_a_deal_or_an_activity(
    store: Store, workspace: WorkspaceView
) -> None:
    kept = KeptResults(store.db)
    other = store.workspaces.create("Other")
    start = kept.revision(workspace.id)
    assert start is not None
    deal = new_deal(store, workspace)
    after_deal = kept.revision(workspace.id)
    assert after_deal is not None and after_deal.deals > start.deals
    assert after_deal.activities == start.activities

    logged = activity(store, deal)
    after_add = kept.revision(workspace.id)
    assert after_add is not None and after_add.activities > after_deal.activities
    assert after_add.deals == after_deal.deals
    store.activities.update(logged.id, {"description": "Spoke again"})
    after_update = kept.revision(workspace.id)
    assert after_update is not None and after_update.activities > after_add.activities
    store.activities.delete(logged.id)
    after_delete = kept.revision(workspace.id)
    assert after_delete is not None and after_delete.activities > after_update.activities
    # Another workspace's numbers stay where they were.
    assert kept.revision(other.id) == Revision(0, 0)
    assert kept.revision(workspace.id.__class__(int=0)) is None


def test_a_forecast_asked_again_is_read_back_until_a_deal_changes(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    first = store.analytics.forecast(workspace.id, seed=0, keep=True)
    assert kept_rows(store, workspace)[0][0] == "forecast:rep"
    assert store.analytics.forecast(workspace.id, seed=0, keep=True) == first
    assert first["total_pipeline_value"] == 50_000
    # Read back, not computed: a marker put in the kept payload comes back with it.
    mark_kept_forecast(store, workspace, first)
    assert store.analytics.forecast(workspace.id, seed=0, keep=True)["marker"] == 1

    store.deals.update(deal.id, {"value": 80_000})
    changed = store.analytics.forecast(workspace.id, seed=0)
    assert changed["total_pipeline_value"] == 80_000
    # Another seed or window is another result, kept beside the first.
    store.analytics.forecast(workspace.id, seed=1)
    store.analytics.forecast(workspace.id, seed=0, timeframe="60d")
    assert len(kept_rows(store, workspace)) == 3


def test_a_fresh_forecast_is_what_its_kept_json_reads_back(store: Store) -> None:
    """Handed over without a JSON round trip, a fresh forecast must hold JSON's own types
    only (no tuples, dates or numpy numbers): the kept one read back equals it, in both
    models, with a goal, of the workspace and of one rep."""
    demo = create_demo_workspace(store.db, name="Kept", deals=400, history_months=12, seed=4)
    owner = store.deals.records(demo.workspace_id, open_only=True)[0].owner_id
    assert owner is not None
    for model in (store.analytics.forecast, store.analytics.history_forecast):
        for options in ({}, {"goal": 100_000.0}, {"owner_id": uuid.UUID(owner)}):
            fresh = model(demo.workspace_id, seed=3, **options)
            assert orjson.loads(plain_json.dumps(fresh)) == fresh
            assert model(demo.workspace_id, seed=3, **options) == fresh  # read back


def test_a_forecast_kept_in_another_format_is_computed_again(
    store: Store, workspace: WorkspaceView, monkeypatch: Any
) -> None:
    """A version that forecasts differently raises the format: what the previous one kept
    that day (its key without the new format) is not served."""
    from vectoros_tui.store import kept_payload

    new_deal(store, workspace)
    first = store.analytics.forecast(workspace.id, seed=0, keep=True)
    mark_kept_forecast(store, workspace, first)
    assert store.analytics.forecast(workspace.id, seed=0, keep=True)["marker"] == 1
    monkeypatch.setattr(kept_payload, "FORECAST_FORMAT", kept_payload.FORECAST_FORMAT + 1)
    assert "marker" not in store.analytics.forecast(workspace.id, seed=0, keep=True)


def test_a_kept_result_is_not_read_back_once_the_revision_moved(
    store: Store, workspace: WorkspaceView
) -> None:
    """The kept payload is replaced by a marker: read back, the marker shows; once a deal
    changed, the forecast is computed again and the marker is gone."""
    kept = KeptResults(store.db)
    new_deal(store, workspace)
    revision = kept.revision(workspace.id)
    assert revision is not None
    params = {"seed": 0}
    marker = {"marker": True}
    kept.keep(workspace.id, "k", '{"seed": 0}', today(), revision, b'{"marker": true}')
    assert kept.reuse_or_compute(workspace.id, "k", params, today(), dict) == marker
    # Another day: computed again.
    assert kept.reuse_or_compute(workspace.id, "k", params, today() + timedelta(days=1), dict) == {}
    # The new day's result replaced the old one (one row per kind and parameters).
    assert kept_rows(store, workspace) == [("k", '{"seed": 0}')]
    new_deal(store, workspace, title="Second")
    assert kept.get(workspace.id, "k", '{"seed": 0}', today(), revision) is None
    assert kept.reuse_or_compute(workspace.id, "k", params, today(), lambda: [1, 2]) == [1, 2]


def test_an_activity_logged_moves_the_scores_kept(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    activity(store, deal, days_ago=40)
    stale = store.analytics.score(workspace.id)
    assert store.analytics.score(workspace.id) == stale
    activity(store, deal, days_ago=0)
    fresh = store.analytics.score(workspace.id)
    (before,) = stale["scored_deals"]
    (after,) = fresh["scored_deals"]
    assert after["health_score"] > before["health_score"]


def test_an_insight_regeneration_is_skipped_while_nothing_changed(
    store: Store, workspace: WorkspaceView
) -> None:
    new_deal(store, workspace, close_date=today() - timedelta(days=20))
    first = store.analytics.regenerate_insights(workspace.id)
    assert first.added > 0
    listed = store.insights.list(workspace.id)
    again = store.analytics.regenerate_insights(workspace.id)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert store.insights.list(workspace.id) == listed
    new_deal(store, workspace, title="Globex", close_date=today() - timedelta(days=5))
    third = store.analytics.regenerate_insights(workspace.id)
    assert third.added > 0
    titles = " ".join(i.title for i in store.insights.list(workspace.id))
    assert "Globex" in titles


def test_a_damaged_kept_result_is_computed_again(store: Store, workspace: WorkspaceView) -> None:
    new_deal(store, workspace)
    first = store.analytics.forecast(workspace.id, seed=0)
    with store.db.write() as session:
        session.execute(
            update(KeptResult)
            .where(KeptResult.workspace_id == workspace.id)
            .values(payload=b"not zlib")
        )
    assert store.analytics.forecast(workspace.id, seed=0) == first


def test_an_explicit_moment_or_no_seed_is_never_kept(
    store: Store, workspace: WorkspaceView
) -> None:
    new_deal(store, workspace)
    moment = datetime.now(UTC)
    store.analytics.forecast(workspace.id, seed=0, now=moment)
    store.analytics.forecast(workspace.id)
    store.analytics.score(workspace.id, now=moment)
    store.analytics.regenerate_insights(workspace.id, now=moment)
    assert kept_rows(store, workspace) == []


def test_update_is_given_the_result_kept_earlier_that_day(
    store: Store, workspace: WorkspaceView
) -> None:
    """A result kept today at earlier revisions goes to ``update`` (a forecast takes the
    unchanged deals' rows from it); one kept another day, or none, to ``compute``."""
    kept = KeptResults(store.db)
    params = {"seed": 0}
    seen: list[Any] = []

    def update(earlier: Any) -> Any:
        seen.append(earlier)
        return {"n": earlier["n"] + 1}

    def ask(day: date) -> Any:
        return kept.reuse_or_compute(
            workspace.id, "k", params, day, lambda: {"n": 0}, update=update
        )

    new_deal(store, workspace)
    assert ask(today()) == {"n": 0}, "nothing kept: computed"
    assert ask(today()) == {"n": 0} and seen == [], "kept and still holding: read back"
    new_deal(store, workspace, title="Second")
    assert ask(today()) == {"n": 1}
    assert seen == [{"n": 0}], "the result kept earlier today"
    new_deal(store, workspace, title="Third")
    assert ask(today() + timedelta(days=1)) == {"n": 0}, "kept for another day: computed"
    assert seen == [{"n": 0}]
