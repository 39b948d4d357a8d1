"""Ranking on a labelled set: deals of the query's theme come before every other deal."""

from __future__ import annotations

import pytest

from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.store import Store
from vectoros_tui.store.validation import ValidationError
from vectoros_tui.store.views import WorkspaceView

from .similar_data import QUERIES, THEMES, seed_themes

PER_THEME = 3
ALL = PER_THEME * len(THEMES)


def test_a_query_ranks_its_theme_above_every_other_deal(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    seeded = seed_themes(store, workspace.id)
    result = service.refresh(workspace.id)
    assert result.embedded == ALL and result.deleted == 0

    for theme, query in QUERIES.items():
        found = service.search_text(workspace.id, query, limit=ALL)
        ids = [d.deal_id for d in found.deals]
        assert set(ids) == seeded.all_ids, "every deal of the workspace is a candidate"
        assert set(ids[:PER_THEME]) == set(seeded.by_theme[theme]), (
            f"{query!r} ranked {[seeded.theme_of[i] for i in ids]}"
        )
        scores = [d.similarity for d in found.deals]
        assert scores == sorted(scores, reverse=True)

    # Results show each deal as stored.
    lost = seeded.by_theme["warehouse"][2]

    found = service.search_text(workspace.id, QUERIES["warehouse"], limit=PER_THEME)

    shown = {d.deal_id: d for d in found.deals}[lost]
    assert (shown.title, shown.company) == THEMES["warehouse"][2][:2]
    assert (shown.stage, shown.outcome, shown.lost_reason) == ("closed", "lost", "Price")
    assert shown.value == 60_000
    assert 0 < shown.similarity <= 1.0 + 1e-6
    api = found.to_api()
    assert api["count"] == PER_THEME
    assert {item["deal_id"] for item in api["similar_deals"]} == {
        str(i) for i in seeded.by_theme["warehouse"]
    }


def test_a_deal_ranks_its_own_theme_first_and_never_itself(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    seeded = seed_themes(store, workspace.id)
    service.refresh(workspace.id)

    for theme, members in seeded.by_theme.items():
        for deal_id in members:
            found = service.search_deal(workspace.id, deal_id, limit=ALL)
            ids = [d.deal_id for d in found.deals]
            assert deal_id not in ids
            assert len(ids) == ALL - 1
            siblings = set(members) - {deal_id}
            assert set(ids[: PER_THEME - 1]) == siblings, (
                f"{theme} deal ranked {[seeded.theme_of[i] for i in ids]}"
            )
            # Four deals are closed; a closed deal is not evidence about itself.
            closed_self = seeded.stage_of(deal_id) == "closed"
            assert found.evidence.closed == (3 if closed_self else 4)


def test_a_deal_new_or_changed_since_indexing_is_searched_by_its_current_text(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    seeded = seed_themes(store, workspace.id)
    service.refresh(workspace.id)
    newcomer = store.deals.create(
        workspace.id,
        {
            "title": "Payroll and HR software for new employees",
            "company": "Fresh Payroll HR",
            "stage": "prospect",
        },
    )

    found = service.search_deal(workspace.id, newcomer.id, limit=PER_THEME)

    assert {d.deal_id for d in found.deals} == set(seeded.by_theme["payroll"])
    assert service.index.hashes_of([newcomer.id]) == {}, "a search does not write the index"

    # A deal changed since it was indexed is searched by its current text.
    moved = seeded.by_theme["warehouse"][0]
    store.deals.update(
        moved, {"title": "Restaurant POS terminals for waiters", "company": "Diner Restaurant"}
    )
    store.activities.add(
        moved, {"type": "note", "description": "restaurant point of sale and kitchen display"}
    )

    found = service.search_deal(workspace.id, moved, limit=PER_THEME)

    assert {d.deal_id for d in found.deals} == set(seeded.by_theme["restaurant"])
    assert service.drift(workspace.id).stale == [moved], "searching does not refresh"


def test_search_by_deal_of_another_workspace_or_blank_text_is_refused(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    other = store.workspaces.create("Other")
    elsewhere = store.deals.create(other.id, {"title": "Forklift fleet", "stage": "prospect"})

    with pytest.raises(NotFoundError):
        service.search_deal(workspace.id, elsewhere.id)
    with pytest.raises(ValidationError) as refused:
        service.search_text(workspace.id, "   ")
    assert refused.value.for_field("text")
