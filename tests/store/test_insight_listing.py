"""Insights listed for the API straight from the rows are the views' API form, in the
same order, with the same filters, on SQLite and on Postgres."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from vectoros_tui.store.store import Store
from vectoros_tui.store.views import InsightView, WorkspaceView

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LISTINGS = ({}, {"include_dismissed": True}, {"unread_only": True})


def regenerate_and_mark(
    store: Store, workspace: WorkspaceView, *, at_least: int, read: int, dismissed: int
) -> list[InsightView]:
    """The workspace's insights, regenerated, with the ``read``-th of the listing marked
    read and the ``dismissed``-th dismissed: every listing filter then has work to do."""
    store.analytics.regenerate_insights(workspace.id, now=NOW)
    views = store.insights.list(workspace.id)
    assert len(views) >= at_least
    store.insights.mark_read(views[read].id)
    store.insights.dismiss(views[dismissed].id)
    return views


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
    regenerate_and_mark(store, workspace, at_least=6, read=0, dismissed=1)
    for options in LISTINGS:
        expected = [v.to_api() for v in store.insights.list(workspace.id, **options)]
        listed = store.insights.list_api(workspace.id, **options)
        assert listed == expected, options
    everything = store.insights.list_api(workspace.id, include_dismissed=True)
    assert {i["isDismissed"] for i in everything} == {True, False}
    assert all(len(i["id"]) == 36 and i["workspaceId"] == str(workspace.id) for i in everything)


def test_the_most_pressing_are_the_first_of_the_listing(
    store: Store, workspace: WorkspaceView
) -> None:
    """What the CLI shows of a big workspace's insights: the listing's first ``top``
    (ties broken by id, as the listing breaks them), its total, and the same of one
    set of deals."""
    deals = [
        store.deals.create(
            workspace.id,
            {
                "title": "Twin" if n < 3 else f"Deal {n}",
                "stage": ("negotiation", "proposal", "qualified")[n % 3],
                "value": (90_000, 90_000, 90_000, 5_000, 40_000, 12_000, 0, 7_500)[n],
                "close_date": date(2026, 3, 1)
                + timedelta(days=(-20, -20, -20, -3, 5, 2, -9, 40)[n]),
            },
            now=NOW - timedelta(days=60 + n),
        )
        for n in range(8)
    ]
    # Alike but for their titles, which order them: by code point, as Python orders text,
    # whatever the database's collation (an en_US one puts "_gamma" after "beta"; this
    # server's C.UTF-8 does not, so here it is the order itself that is checked).
    for title in ("beta", "Alpha", "_gamma", "Ärger", "alpha"):
        store.deals.create(
            workspace.id,
            {
                "title": title,
                "stage": "negotiation",
                "value": 60_000,
                "close_date": date(2026, 3, 1) - timedelta(days=20),
            },
            now=NOW - timedelta(days=60),
        )
    views = regenerate_and_mark(store, workspace, at_least=10, read=4, dismissed=2)
    alike = [
        v.title
        for v in views
        if v.title.startswith("Stuck in negotiation: ") and v.data.get("value") == 60_000
    ]
    assert [t.split(": ", 1)[1] for t in alike] == ["Alpha", "_gamma", "alpha", "beta", "Ärger"]
    for options in LISTINGS:
        listed = store.insights.list(workspace.id, **options)
        for top in (1, 3, len(listed) - 1, len(listed) + 5):
            first, total = store.insights.most_pressing(workspace.id, top, **options)
            assert (first, total) == (listed[:top], len(listed)), (options, top)
    some = {str(deals[0].id), str(deals[4].id), str(deals[6].id)}
    about = [v for v in store.insights.list(workspace.id) if str(v.deal_id) in some]
    assert about and len(about) < len(views)
    assert store.insights.most_pressing(workspace.id, 2, deal_ids=some) == (about[:2], len(about))
