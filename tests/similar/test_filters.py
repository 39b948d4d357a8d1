"""Search filters: stage, outcome, limit and score threshold; bad values are refused."""

from __future__ import annotations

from typing import Any

import pytest

from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.store import Store
from vectoros_tui.store.validation import ValidationError
from vectoros_tui.store.views import WorkspaceView

from .similar_data import CLOSED_AS, QUERIES, Seeded, seed_themes

ALL = 12


@pytest.fixture
def seeded(store: Store, workspace: WorkspaceView, service: SimilarDeals) -> Seeded:
    made = seed_themes(store, workspace.id)
    service.refresh(workspace.id)
    return made


def test_stage_and_outcome_filters_keep_only_matching_deals(
    workspace: WorkspaceView, service: SimilarDeals, seeded: Seeded
) -> None:
    found = service.search_text(workspace.id, QUERIES["payroll"], limit=ALL, stages=["prospect"])
    prospects = {i for i in seeded.all_ids if seeded.stage_of(i) == "prospect"}
    assert {d.deal_id for d in found.deals} == prospects
    assert found.deals[0].deal_id == seeded.by_theme["payroll"][0], "still ranked"

    both = service.search_text(
        workspace.id, QUERIES["payroll"], limit=ALL, stages=["prospect", "negotiation"]
    )
    assert {d.stage for d in both.deals} == {"prospect", "negotiation"}
    assert len(both.deals) == 8

    # Outcomes: won and lost are closed deals, open is every other one.
    query = QUERIES["restaurant"]
    for outcome in ("won", "lost"):
        found = service.search_text(workspace.id, query, limit=ALL, outcomes=[outcome])
        expected = {seeded.by_theme[t][2] for t, (o, _) in CLOSED_AS.items() if o == outcome}
        assert {d.deal_id for d in found.deals} == expected, outcome
        assert {d.outcome for d in found.deals} == {outcome}

    found = service.search_text(workspace.id, query, limit=ALL, outcomes=["open"])
    ids = [d.deal_id for d in found.deals]
    assert set(ids) == {i for i in seeded.all_ids if seeded.stage_of(i) != "closed"}
    assert all(d.outcome is None for d in found.deals)
    assert set(ids[:2]) == set(seeded.by_theme["restaurant"][:2]), "still ranked"

    mixed = service.search_text(workspace.id, query, limit=ALL, outcomes=["open", "won"])
    assert {d.outcome for d in mixed.deals} == {None, "won"}
    assert len(mixed.deals) == 10

    none = service.search_text(workspace.id, query, limit=ALL, stages=["closed"], outcomes=["open"])
    assert none.deals == [], "stage and outcome filters combine"


def test_limit_and_threshold_keep_the_best_ones(
    workspace: WorkspaceView, service: SimilarDeals, seeded: Seeded
) -> None:
    everything = service.search_text(workspace.id, QUERIES["warehouse"], limit=ALL)
    for limit in (1, 2, 5):
        top = service.search_text(workspace.id, QUERIES["warehouse"], limit=limit)
        assert [d.deal_id for d in top.deals] == [d.deal_id for d in everything.deals][:limit]
    one = service.search_deal(workspace.id, seeded.by_theme["warehouse"][0], limit=1)
    assert len(one.deals) == 1
    assert one.deals[0].deal_id in seeded.by_theme["warehouse"][1:]

    # A score threshold drops the weaker matches.
    scores = [d.similarity for d in everything.deals]
    # Halfway between the last warehouse deal and the best of the rest.
    cut = (scores[2] + scores[3]) / 2

    kept = service.search_text(workspace.id, QUERIES["warehouse"], limit=ALL, threshold=cut)

    assert {d.deal_id for d in kept.deals} == set(seeded.by_theme["warehouse"])
    assert all(d.similarity >= cut for d in kept.deals)

    by_deal = service.search_deal(
        workspace.id, seeded.by_theme["payroll"][0], limit=ALL, threshold=cut
    )
    assert all(d.similarity >= cut for d in by_deal.deals)
    assert len(by_deal.deals) < ALL - 1

    unrelated = "volcanic eruptions on a distant moon of Jupiter"
    assert service.search_text(workspace.id, unrelated, limit=ALL).deals, "no threshold"
    assert service.search_text(workspace.id, unrelated, limit=ALL, threshold=0.99).deals == []


BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"limit": -5}, "limit"),
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": -1.01}, "threshold"),
    ({"outcomes": ["closed"]}, "outcome"),
    ({"outcomes": ["open", "Won"]}, "outcome"),
]


def test_bad_search_options_are_refused_naming_the_field(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    deal = store.deals.create(workspace.id, {"title": "Forklift fleet", "stage": "prospect"})
    service.refresh(workspace.id)
    for kwargs, field in BAD_OPTIONS:
        with pytest.raises(ValidationError) as by_text:
            service.search_text(workspace.id, "forklifts", **kwargs)
        assert by_text.value.for_field(field), (kwargs, str(by_text.value))
        with pytest.raises(ValidationError) as by_deal:
            service.search_deal(workspace.id, deal.id, **kwargs)
        assert by_deal.value.for_field(field), (kwargs, str(by_deal.value))

    with pytest.raises(ValidationError) as refused:
        service.search_text(
            workspace.id, "forklift", limit=0, threshold=2.0, outcomes=["maybe", "open"]
        )
    assert {e.field for e in refused.value.errors} == {"limit", "threshold", "outcome"}
    assert "maybe" in (refused.value.for_field("outcome") or "")
    # The edges are allowed.
    assert service.search_text(workspace.id, "forklifts", limit=100, threshold=-1.0).deals
    assert service.search_text(workspace.id, "forklifts", limit=1, threshold=1.0).deals == []
