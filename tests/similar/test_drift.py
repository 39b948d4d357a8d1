"""Drift between the database and the index (missing, stale, orphaned points) and repair."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from vectoros_tui.similar import service as service_module
from vectoros_tui.similar.index import EdgeIndex, IndexPoint
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

from .similar_data import QUERIES, current_hash, seed_themes


def test_drift_finds_exactly_what_is_out_of_step_and_refresh_repairs_it(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    seeded = seed_themes(store, workspace.id)
    other = store.workspaces.create("Neighbours")
    neighbour = store.deals.create(other.id, {"title": "Forklift fleet", "stage": "prospect"})
    assert service.refresh(workspace.id).embedded == 12
    service.refresh(other.id)
    fresh = service.drift(workspace.id)
    assert (fresh.deals, fresh.indexed, fresh.in_step) == (12, 12, True)
    baseline = service.search_text(workspace.id, QUERIES["payroll"], limit=12)

    # (a) missing: points deleted behind the service's back.
    missing = [seeded.by_theme["security"][0], seeded.by_theme["restaurant"][1]]
    service.index.delete(missing)
    # (b) orphan: a point for a deal that does not exist, in this workspace.
    orphan = uuid.uuid4()
    vector = service.embedder.embed_one("a deal nobody remembers")
    service.index.upsert(
        [
            IndexPoint(
                orphan,
                vector,
                {"workspace_id": str(workspace.id), "stage": "prospect", "outcome": "open"},
            )
        ]
    )
    # (c) stale: the deal changed in the database, the index was not told.
    stale = seeded.by_theme["payroll"][1]
    before = service.index.hashes_of([stale])[stale][1]
    store.deals.update(stale, {"title": "HR and payroll platform for 500 employees"})
    assert current_hash(store, service.embedder, stale) != before

    drift = service.drift(workspace.id)
    assert sorted(drift.missing) == sorted(missing)
    assert drift.stale == [stale]
    assert drift.orphans == [orphan]
    assert (drift.deals, drift.indexed, drift.in_step) == (12, 11, False)
    assert drift.to_api() == {
        "deals": 12,
        "indexed": 11,
        "missing": 2,
        "stale": 1,
        "orphans": 1,
        "in_step": False,
    }
    assert service.drift(other.id).in_step, "the other workspace is untouched"

    repaired = service.refresh(workspace.id)

    assert (repaired.embedded, repaired.deleted) == (3, 1)
    after = service.drift(workspace.id)
    assert after.in_step and (after.deals, after.indexed) == (12, 12)
    assert service.index.hashes_of([stale])[stale][1] == current_hash(
        store, service.embedder, stale
    )
    assert service.index.hashes_of([orphan]) == {}
    assert service.refresh(workspace.id).embedded == 0, "nothing left to do"
    assert set(service.index.hashes(other.id)) == {neighbour.id}

    repaired_search = service.search_text(workspace.id, QUERIES["payroll"], limit=12)
    assert {d.deal_id for d in repaired_search.deals} == {d.deal_id for d in baseline.deals}
    assert set(d.deal_id for d in repaired_search.deals[:3]) == set(seeded.by_theme["payroll"])


def test_rebuild_starts_empty_and_a_refresh_restores_the_same_results(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    seeded = seed_themes(store, workspace.id)
    service.refresh(workspace.id)
    before = service.search_text(workspace.id, QUERIES["security"], limit=12)
    vector_before = service.index.vector(seeded.by_theme["security"][0])

    service.rebuild_index()

    assert service.index.count() == 0
    empty = service.drift(workspace.id)
    assert (len(empty.missing), empty.indexed) == (12, 0)
    assert service.search_text(workspace.id, QUERIES["security"], limit=12).deals == []

    assert service.refresh(workspace.id).embedded == 12
    after = service.search_text(workspace.id, QUERIES["security"], limit=12)
    assert len(after.deals) == len(before.deals) == 12
    assert [d.deal_id for d in after.deals] == [d.deal_id for d in before.deals]
    vector_after = service.index.vector(seeded.by_theme["security"][0])
    assert vector_before is not None and vector_after is not None
    assert float(np.dot(vector_before, vector_after)) > 0.999


@pytest.mark.parametrize("count", [7, 6])
def test_refresh_writes_in_batches_reports_progress_and_skips_up_to_date_deals(
    store: Store,
    workspace: WorkspaceView,
    service: SimilarDeals,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    # Small batches, so a handful of deals crosses every batch boundary (6 ends exactly on
    # one write batch, 7 leaves one point over).
    monkeypatch.setattr(service_module, "EMBED_BATCH", 2)
    monkeypatch.setattr(service_module, "WRITE_BATCH", 3)
    ids = [
        store.deals.create(workspace.id, {"title": f"Warehouse deal {n}", "stage": "prospect"}).id
        for n in range(count)
    ]
    calls: list[tuple[int, int]] = []

    result = service.refresh(workspace.id, progress=lambda d, t: calls.append((d, t)))

    assert result.embedded == count
    assert calls == [(0, count), *((n, count) for n in range(2, count, 2)), (count, count)]
    assert set(service.index.hashes(workspace.id)) == set(ids)
    assert service.drift(workspace.id).in_step

    store.deals.update(ids[0], {"title": "Payroll deal"})
    calls.clear()
    result = service.refresh(workspace.id, ids[:3], progress=lambda d, t: calls.append((d, t)))
    assert (result.embedded, result.deleted) == (1, 0)
    assert calls == [(0, 1), (1, 1)]
    assert service.drift(workspace.id).in_step

    calls.clear()
    assert service.refresh(workspace.id, progress=lambda d, t: calls.append((d, t))).embedded == 0
    assert calls == [(0, 0)]

    # Written for good: a service opened afresh on the same index sees every point.
    if isinstance(service.index, EdgeIndex):
        service.close()
        assert service.index.count(workspace.id) == count
