"""Insights listed for the API straight from the rows are the views' API form, in the
same order, with the same filters, on SQLite and on Postgres."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_api_listing_is_the_views_api_form(store: Store, workspace: WorkspaceView) -> None:
    for n, (value, days) in enumerate([(90_000, -20), (90_000, -20), (5_000, -3), (40_000, 5)]):
        store.deals.create(
            workspace.id,
            {
                # Two deals alike but for their ids: their insights tie but for the id.
                "title": "Twin" if n < 2 else f"Deal {n}",
                "stage": "negotiation",
                "value": value,
                "close_date": date(2026, 3, 1) + timedelta(days=days),
            },
            now=NOW - timedelta(days=60),
        )
    store.analytics.regenerate_insights(workspace.id, now=NOW)
    views = store.insights.list(workspace.id)
    assert len(views) >= 6
    store.insights.mark_read(views[0].id)
    store.insights.dismiss(views[1].id)
    for options in ({}, {"include_dismissed": True}, {"unread_only": True}):
        expected = [v.to_api() for v in store.insights.list(workspace.id, **options)]
        listed = store.insights.list_api(workspace.id, **options)
        assert listed == expected, options
    everything = store.insights.list_api(workspace.id, include_dismissed=True)
    assert {i["isDismissed"] for i in everything} == {True, False}
    assert all(len(i["id"]) == 36 and i["workspaceId"] == str(workspace.id) for i in everything)
