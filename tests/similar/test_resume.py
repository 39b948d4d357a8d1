"""A refresh of a whole workspace commits every ``[similar] flush_every`` deals and notes
how far it got; one that dies part-way keeps its committed batches, and the next refresh
embeds only the rest and says it resumes (Qdrant Edge; a Qdrant server has no note, and
still skips what is indexed). A real process killed mid-run: test_reindex_kill.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import Locations
from vectoros_tui.similar import service as service_module
from vectoros_tui.similar.embedder import Embedder
from vectoros_tui.similar.index import EdgeIndex, IndexPoint, RunNote, VectorIndex
from vectoros_tui.similar.service import RefreshPlan, SimilarDeals
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

from .similar_data import IndexFactory

DEALS = 10


class Dies:
    """The real model, failing on its ``fatal``-th call: a run that dies part-way."""

    def __init__(self, real: Embedder, fatal: int | None) -> None:
        self.real = real
        self.fatal = fatal
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fatal:
            raise RuntimeError("killed")
        return self.real.embed(texts)


class Writes:
    """The index, noting each upsert as (points, flushed)."""

    def __init__(self, inner: VectorIndex) -> None:
        self.inner = inner
        self.upserts: list[tuple[int, bool]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def upsert(self, points: Sequence[IndexPoint], *, flush: bool = True) -> None:
        self.upserts.append((len(points), flush))
        self.inner.upsert(points, flush=flush)


def test_a_refresh_that_dies_keeps_its_batches_and_the_next_one_resumes(
    store: Store,
    workspace: WorkspaceView,
    embedder: Embedder,
    similar_locations: Locations,
    index_factory: IndexFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "EMBED_BATCH", 2)
    ids = {
        store.deals.create(workspace.id, {"title": f"Forklift deal {n}", "stage": "prospect"}).id
        for n in range(DEALS)
    }
    settings = SimilarSettings(flush_every=4)
    writes: list[Writes] = []

    def service(fatal: int | None) -> SimilarDeals:
        def factory(dimension: int, rebuild: bool) -> VectorIndex:
            writes.append(Writes(index_factory(dimension, rebuild)))
            return writes[-1]

        made = SimilarDeals(
            store,
            settings,
            similar_locations,
            embedder=Dies(embedder, fatal),  # type: ignore[arg-type]
            index_factory=factory,
        )
        return made

    # Dies embedding its fourth batch of two: the first four deals were committed, the
    # next two embedded but not yet.
    dying = service(fatal=4)
    with pytest.raises(RuntimeError, match="killed"):
        dying.refresh(workspace.id)
    assert writes[-1].upserts == [(4, True)]
    edge = isinstance(writes[-1].inner, EdgeIndex)
    assert dying.index.count(workspace.id) == 4
    assert dying.index.unfinished_run(workspace.id) == (RunNote(DEALS, 4) if edge else None)
    if edge:
        dying.close()  # as if the process had ended; a new one opens the folder

    rerun = dying if not edge else service(fatal=None)
    plans: list[RefreshPlan] = []
    calls: list[tuple[int, int]] = []
    result = rerun.refresh(
        workspace.id, progress=lambda d, t: calls.append((d, t)), on_start=plans.append
    )

    assert plans == [RefreshPlan(deals=DEALS, current=4, todo=6, resumed=edge)]
    assert (result.embedded, result.already, result.resumed) == (6, 4, edge)
    assert calls == [(0, 6), (2, 6), (4, 6), (6, 6)]
    # Committed after four deals, then at the end; never a flush per batch of two.
    assert writes[-1].upserts[-2:] == [(4, True), (2, True)]
    assert set(rerun.index.hashes(workspace.id)) == ids
    assert rerun.drift(workspace.id).in_step
    assert rerun.index.unfinished_run(workspace.id) is None

    # An ordinary refresh afterwards resumes nothing.
    again = rerun.refresh(workspace.id, on_start=plans.append)
    assert (again.embedded, again.already, again.resumed) == (0, DEALS, False)
    rerun.close()
    dying.close()


def test_a_refresh_of_saved_deals_leaves_no_note(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    deal = store.deals.create(workspace.id, {"title": "Payroll deal", "stage": "prospect"})
    result = service.refresh(workspace.id, [deal.id])
    assert (result.embedded, result.resumed) == (1, False)
    assert service.index.unfinished_run(workspace.id) is None
