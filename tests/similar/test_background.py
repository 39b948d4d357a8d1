"""Auto-embedding: the background indexer keeps each changed deal's point current."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import Locations
from vectoros_tui.similar.background import BackgroundIndexer
from vectoros_tui.similar.embedder import Embedder, ModelChoice
from vectoros_tui.similar.errors import ModelUnavailableError
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

from .similar_data import QUERIES, current_hash, memory_index, seed_themes


@pytest.fixture
def done() -> list[uuid.UUID]:
    """Workspaces the indexer reported as caught up, in order."""
    return []


@pytest.fixture
def indexer(service: SimilarDeals, done: list[uuid.UUID]) -> Iterator[BackgroundIndexer]:
    background = BackgroundIndexer(service, on_done=done.append)
    yield background
    background.close()


def settle(indexer: BackgroundIndexer) -> None:
    assert indexer.wait_idle(timeout=60), "the background indexer never went idle"


def test_saved_changes_reach_the_index(
    store: Store,
    workspace: WorkspaceView,
    service: SimilarDeals,
    indexer: BackgroundIndexer,
    done: list[uuid.UUID],
) -> None:
    seeded = seed_themes(store, workspace.id)
    indexer.refresh_workspace(workspace.id)
    settle(indexer)
    assert service.index.count(workspace.id) == 12

    # Created: embedded with the hash of its current text.
    deal = store.deals.create(
        workspace.id,
        {"title": "Forklift rental for a warehouse", "company": "Quayside", "stage": "prospect"},
    )
    indexer.changed(workspace.id, [deal.id])
    settle(indexer)
    first = current_hash(store, service.embedder, deal.id)
    assert service.index.hashes_of([deal.id]) == {deal.id: (str(workspace.id), first)}
    assert done and set(done) == {workspace.id}

    # Retitled: a new hash, and the new wording finds it first.
    store.deals.update(
        deal.id,
        {"title": "Payroll software for employees", "company": "Quayside Payroll HR"},
    )
    indexer.changed(workspace.id, [deal.id])
    settle(indexer)
    second = current_hash(store, service.embedder, deal.id)
    assert second != first
    assert service.index.hashes_of([deal.id])[deal.id][1] == second
    found = service.search_text(workspace.id, "payroll software for employees", limit=4)
    assert deal.id in {d.deal_id for d in found.deals}
    assert {d.deal_id for d in found.deals} <= {deal.id, *seeded.by_theme["payroll"]}
    warehouse = service.search_text(workspace.id, QUERIES["warehouse"], limit=3)
    assert deal.id not in {d.deal_id for d in warehouse.deals}, "the old wording is gone"

    # A note makes the point stale until the indexer catches up.
    store.activities.add(deal.id, {"type": "call", "description": "asked for a payroll demo"})
    drift = service.drift(workspace.id)
    assert (drift.stale, drift.missing, drift.orphans) == ([deal.id], [], [])
    indexer.changed(workspace.id, [deal.id])
    settle(indexer)
    third = current_hash(store, service.embedder, deal.id)
    assert third not in (first, second)
    assert service.index.hashes_of([deal.id])[deal.id][1] == third
    assert service.drift(workspace.id).in_step

    # Deleted: the point goes, the others stay.
    store.deals.delete(deal.id)
    indexer.changed(workspace.id, [deal.id])
    settle(indexer)
    assert service.index.hashes_of([deal.id]) == {}
    assert service.index.count(workspace.id) == 12
    assert service.drift(workspace.id).in_step


def test_many_changes_are_caught_up_together(
    store: Store, workspace: WorkspaceView, service: SimilarDeals, indexer: BackgroundIndexer
) -> None:
    made = []
    for n in range(6):
        deal = store.deals.create(workspace.id, {"title": f"Deal {n}", "stage": "prospect"})
        made.append(deal.id)
        indexer.changed(workspace.id, [deal.id])
    for deal_id in made[:3]:
        store.deals.update(deal_id, {"title": "Retitled warehouse deal"})
        indexer.changed(workspace.id, [deal_id])
    store.deals.delete(made[5])
    indexer.changed(workspace.id, [made[5]])
    settle(indexer)

    assert set(service.index.hashes(workspace.id)) == set(made[:5])
    assert service.drift(workspace.id).in_step


def test_a_search_never_shows_a_deleted_deal_whose_point_remains(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    seeded = seed_themes(store, workspace.id)
    service.refresh(workspace.id)
    gone_open = seeded.by_theme["warehouse"][0]
    gone_closed = seeded.by_theme["warehouse"][2]  # lost, on price
    before = service.search_text(workspace.id, QUERIES["warehouse"], limit=5)
    assert before.evidence.closed == 4

    store.deals.delete(gone_open)
    store.deals.delete(gone_closed)
    assert set(service.index.hashes_of([gone_open, gone_closed])) == {gone_open, gone_closed}

    after = service.search_text(workspace.id, QUERIES["warehouse"], limit=12)
    shown = {d.deal_id for d in after.deals}
    assert gone_open not in shown and gone_closed not in shown
    assert shown == seeded.all_ids - {gone_open, gone_closed}
    assert after.evidence.closed == 3, "the deleted lost deal is not evidence either"
    assert after.evidence.lost == 1
    assert after.deals[0].deal_id == seeded.by_theme["warehouse"][1]

    by_deal = service.search_deal(workspace.id, seeded.by_theme["warehouse"][1], limit=12)
    assert not {gone_open, gone_closed} & {d.deal_id for d in by_deal.deals}


def test_failures_are_reported_once_and_the_store_keeps_working(
    store: Store, workspace: WorkspaceView, tmp_path: Path, similar_locations: Locations
) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    broken = Embedder(ModelChoice("builtin", empty, 1, tmp_path / "cache"))
    service = SimilarDeals(
        store, SimilarSettings(), similar_locations, embedder=broken, index_factory=memory_index
    )
    errors: list[Exception] = []
    indexer = BackgroundIndexer(service, on_error=errors.append)
    try:
        for n in range(3):
            deal = store.deals.create(workspace.id, {"title": f"Deal {n}", "stage": "prospect"})
            indexer.changed(workspace.id, [deal.id])
            settle(indexer)
    finally:
        indexer.close()
        service.close()

    assert len(errors) == 1, "the same failure is reported once"
    assert isinstance(errors[0], ModelUnavailableError)
    assert store.deals.list(workspace.id).total == 3
