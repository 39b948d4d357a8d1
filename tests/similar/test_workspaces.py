"""Workspace isolation: a search in one workspace never shows another workspace's deals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from vectoros_tui.similar.index import SearchFilter
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

TWINS = [
    ("Forklift fleet for the warehouse", "Dockside Logistics", "prospect", None),
    ("Payroll software for HR", "Brightside Payroll", "proposal", None),
    ("Cybersecurity SOC 2 audit", "Cyberguard Security", "closed", "lost"),
    ("Restaurant POS terminals", "Luigi's Restaurant", "closed", "won"),
]


def make_twins(store: Store, workspace_id: uuid.UUID, how_many: int) -> list[uuid.UUID]:
    ids = []
    for title, company, stage, outcome in TWINS[:how_many]:
        data = {"title": title, "company": company, "stage": stage, "value": 30_000}
        if outcome:
            data["outcome"] = outcome
        ids.append(store.deals.create(workspace_id, data).id)
    return ids


@dataclass
class Pair:
    a: uuid.UUID
    in_a: list[uuid.UUID]
    b: uuid.UUID
    in_b: list[uuid.UUID]


@pytest.fixture
def pair(store: Store, workspace: WorkspaceView, service: SimilarDeals) -> Pair:
    """Workspace A with four deals, B with twins of the first three; both indexed."""
    other = store.workspaces.create("Other team")
    made = Pair(workspace.id, make_twins(store, workspace.id, 4), other.id, [])
    made.in_b = make_twins(store, other.id, 3)
    service.refresh(made.a)
    service.refresh(made.b)
    return made


def test_searches_stay_inside_their_workspace(
    service: SimilarDeals,
    pair: Pair,
) -> None:
    a, in_a, b, in_b = pair.a, pair.in_a, pair.b, pair.in_b

    # Limits as small as the workspace: another workspace's points must not take slots.
    for query in ("forklifts for a warehouse", "payroll software", "SOC 2 audit"):
        found_a = [d.deal_id for d in service.search_text(a, query, limit=len(in_a)).deals]
        found_b = [d.deal_id for d in service.search_text(b, query, limit=len(in_b)).deals]
        assert sorted(found_a) == sorted(in_a)
        assert sorted(found_b) == sorted(in_b)

    for position, deal_id in enumerate(in_a):
        found = service.search_deal(a, deal_id, limit=len(in_a) - 1)
        assert {d.deal_id for d in found.deals} == set(in_a) - {deal_id}
        if position < len(in_b):
            # Its twin in B is identical, so it would be the best match if B leaked in.
            assert in_b[position] not in {d.deal_id for d in found.deals}

    for deal_id in in_b:
        found = service.search_deal(b, deal_id, limit=100)
        assert {d.deal_id for d in found.deals} == set(in_b) - {deal_id}

    # The index itself filters by workspace (not only the database afterwards).
    vector = service.embedder.embed_one("forklifts for a warehouse")
    hits = service.index.search(vector, SearchFilter(a), 100, None)
    assert sorted(h.id for h in hits) == sorted(in_a)
    assert {h.payload["workspace_id"] for h in hits} == {str(a)}

    # Evidence is per workspace too: A holds one lost and one won closed deal, B one lost.
    evidence_a = service.search_text(a, "audit", limit=1).evidence
    evidence_b = service.search_text(b, "audit", limit=1).evidence
    assert (evidence_a.closed, evidence_a.won, evidence_a.lost) == (2, 1, 1)
    assert (evidence_b.closed, evidence_b.won, evidence_b.lost) == (1, 0, 1)


def test_stats_and_drift_count_per_workspace(
    store: Store,
    service: SimilarDeals,
    pair: Pair,
) -> None:
    a, in_a, b, in_b = pair.a, pair.in_a, pair.b, pair.in_b

    stats_a = service.stats(a)["stats"]
    assert stats_a["total_deals"] == 4
    assert service.stats(b)["stats"]["total_deals"] == 3
    assert service.stats(uuid.uuid4())["stats"]["total_deals"] == 0
    assert stats_a["vector_size"] == 384
    assert stats_a["distance_metric"] == "COSINE"
    assert stats_a["model"] == service.embedder.model_id
    assert service.index.count() == 7

    drift_b = service.drift(b)
    assert (drift_b.deals, drift_b.indexed, drift_b.in_step) == (3, 3, True)

    # Refreshing A after its deals are gone deletes A's points only.
    for deal_id in in_a:
        store.deals.delete(deal_id)
    assert service.refresh(a).deleted == 4
    assert service.stats(a)["stats"]["total_deals"] == 0
    assert set(service.index.hashes(b)) == set(in_b)


def test_points_of_deleted_workspaces_are_foreign(
    store: Store,
    service: SimilarDeals,
    pair: Pair,
) -> None:
    a, b, in_b = pair.a, pair.b, pair.in_b
    assert service.foreign_points() == []

    store.workspaces.delete(b)

    assert set(service.foreign_points()) == set(in_b)
    assert service.search_text(a, "forklifts", limit=100).deals


def test_refreshing_one_workspace_never_deletes_another_workspaces_points(
    service: SimilarDeals,
    pair: Pair,
) -> None:
    a, b, in_b = pair.a, pair.b, pair.in_b

    result = service.refresh(a, [in_b[0]])

    assert result.deleted == 0
    assert set(service.index.hashes(b)) == set(in_b)
