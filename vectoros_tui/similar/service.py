"""Similar-deal search over one store: keeps the index in step with the database and
answers "what happened to deals like this one?".

The index is derived data. Every point records the hash of the text it was embedded from
(see :mod:`vectoros_tui.similar.texts`), so comparing the database with the index finds
deals that are missing, stale (text or model changed) or orphaned (deal deleted), without
loading the built-in model (another model is asked once for its vector size).
:meth:`SimilarDeals.refresh` repairs exactly that, and the same comparison is what lets a
killed run resume: it commits every ``[similar] flush_every`` deals, and the next run finds
those deals current and embeds only the rest.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from vectoros_tui.config import SimilarSettings
from vectoros_tui.engine.stages import STAGES
from vectoros_tui.locations import Locations, ensure_dir
from vectoros_tui.similar.embedder import Embedder, ModelChoice
from vectoros_tui.similar.evidence import EVIDENCE_DEALS, Evidence, evidence_from
from vectoros_tui.similar.index import (
    DISTANCE,
    ClientIndex,
    EdgeIndex,
    IndexPoint,
    RunNote,
    SearchFilter,
    VectorIndex,
)
from vectoros_tui.similar.texts import deal_text, outcome_label, text_hash
from vectoros_tui.store.deal_sources import DealSource, load_deal_sources
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.store import Store
from vectoros_tui.store.validation import FieldError, ValidationError

log = logging.getLogger(__name__)

EMBED_BATCH = 64
# Points handed to the index without a flush when flush_every is larger: bounds the memory
# a run holds, not what it keeps.
WRITE_BATCH = 1_024
OUTCOME_FILTERS = ("open", "won", "lost")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SimilarDeal:
    deal_id: uuid.UUID
    title: str
    company: str | None
    value: float
    stage: str
    probability: int
    outcome: str | None
    similarity: float
    close_date: date | None
    lost_reason: str | None

    def to_api(self) -> dict[str, Any]:
        """The seed platform's find-similar item."""
        return {
            "deal_id": str(self.deal_id),
            "title": self.title,
            "company": self.company,
            "value": self.value,
            "stage": self.stage,
            "probability": self.probability,
            "outcome": self.outcome,
            "similarity_score": round(self.similarity, 6),
            "close_date": self.close_date.isoformat() if self.close_date else None,
        }


@dataclass(frozen=True)
class SearchResult:
    deals: list[SimilarDeal]
    evidence: Evidence

    def to_api(self) -> dict[str, Any]:
        return {
            "success": True,
            "count": len(self.deals),
            "similar_deals": [d.to_api() for d in self.deals],
            "evidence": self.evidence.to_api(),
        }


@dataclass(frozen=True)
class Drift:
    deals: int
    indexed: int
    missing: list[uuid.UUID] = field(default_factory=list)
    stale: list[uuid.UUID] = field(default_factory=list)
    orphans: list[uuid.UUID] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        return not (self.missing or self.stale or self.orphans)

    def to_api(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "indexed": self.indexed,
            "missing": len(self.missing),
            "stale": len(self.stale),
            "orphans": len(self.orphans),
            "in_step": self.in_step,
        }


@dataclass(frozen=True)
class RefreshPlan:
    """What a refresh found before embedding: of ``deals``, ``current`` are indexed with
    their current text and ``todo`` are to embed; ``resumed`` when an earlier run of the
    whole workspace was interrupted (those ``current`` deals are what it committed)."""

    deals: int
    current: int
    todo: int
    resumed: bool


@dataclass(frozen=True)
class RefreshResult:
    embedded: int
    deleted: int
    already: int = 0  # deals found indexed and current, not embedded again
    resumed: bool = False


def payload_for(deal: DealSource, hashed: str) -> dict[str, Any]:
    return {
        "workspace_id": str(deal.workspace_id),
        "stage": deal.stage,
        "outcome": outcome_label(deal.outcome),
        "value": deal.value,
        "probability": deal.probability,
        "close_date": deal.close_date.isoformat() if deal.close_date else None,
        "title": deal.title,
        "company": deal.company,
        "text_hash": hashed,
    }


def model_choice(settings: SimilarSettings, locations: Locations) -> ModelChoice:
    return ModelChoice(
        name=settings.model,
        path=settings.model_path,
        threads=settings.threads,
        cache_dir=locations.cache_dir,
    )


def open_index(
    settings: SimilarSettings, locations: Locations, dimension: int, *, rebuild: bool = False
) -> VectorIndex:
    """The configured index: a Qdrant server when ``qdrant_url`` is set, else embedded."""
    if settings.qdrant_url:
        return ClientIndex(
            settings.qdrant_url,
            dimension,
            api_key=os.environ.get("VECTOROS_QDRANT_API_KEY") or None,
            rebuild=rebuild,
        )
    ensure_dir(locations.data_dir)
    return EdgeIndex(locations.vector_index_dir, dimension, rebuild=rebuild)


class SimilarDeals:
    """Search and index upkeep. Thread-safe; the model and the index open on first use."""

    def __init__(
        self,
        store: Store,
        settings: SimilarSettings,
        locations: Locations,
        *,
        embedder: Embedder | None = None,
        index_factory: Callable[[int, bool], VectorIndex] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder or Embedder(model_choice(settings, locations))
        self._index_factory = index_factory or (
            lambda dimension, rebuild: open_index(settings, locations, dimension, rebuild=rebuild)
        )
        self._index: VectorIndex | None = None
        self._lock = threading.RLock()

    # --- the index ---------------------------------------------------------------------

    @property
    def index(self) -> VectorIndex:
        with self._lock:
            if self._index is None:
                self._index = self._index_factory(self.embedder.dimension, False)
            return self._index

    def rebuild_index(self) -> None:
        """Drop every point and start from an empty index (also mends a broken one)."""
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
            self._index = self._index_factory(self.embedder.dimension, True)

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    # --- keeping it in step ------------------------------------------------------------

    def _hashed(self, sources: Sequence[DealSource]) -> list[tuple[DealSource, str, str]]:
        model = self.embedder.model_id
        out = []
        for deal in sources:
            text = deal_text(deal)
            out.append((deal, text, text_hash(text, model)))
        return out

    def drift(self, workspace_id: uuid.UUID) -> Drift:
        sources = load_deal_sources(self.store.db, workspace_id)
        indexed = self.index.hashes(workspace_id)
        missing, stale = [], []
        for deal, _text, hashed in self._hashed(sources):
            entry = indexed.get(deal.id)
            if entry is None:
                missing.append(deal.id)
            elif entry[1] != hashed:
                stale.append(deal.id)
        known = {d.id for d in sources}
        orphans = [point for point in indexed if point not in known]
        return Drift(len(sources), len(indexed), missing, stale, orphans)

    def foreign_points(self) -> list[uuid.UUID]:
        """Points of workspaces that no longer exist in this database."""
        workspaces = {str(w.id) for w in self.store.workspaces.list()}
        return [pid for pid, (ws, _) in self.index.hashes().items() if ws not in workspaces]

    def refresh(
        self,
        workspace_id: uuid.UUID,
        deal_ids: Iterable[uuid.UUID] | None = None,
        progress: Progress | None = None,
        on_start: Callable[[RefreshPlan], None] | None = None,
    ) -> RefreshResult:
        """Embed what is missing or stale, delete points of deleted deals.

        With ``deal_ids``, only those deals (the background path after a save); otherwise
        the whole workspace. ``progress(embedded, to_embed)`` follows the embedding;
        ``on_start`` hears what was found before it begins.
        """
        wanted = None if deal_ids is None else list(dict.fromkeys(deal_ids))
        sources = load_deal_sources(self.store.db, workspace_id, wanted)
        index = self.index
        if wanted is None:
            indexed = index.hashes(workspace_id)
        else:  # ids of another workspace are not this refresh's to judge
            own = str(workspace_id)
            indexed = {k: v for k, v in index.hashes_of(wanted).items() if v[0] == own}
        todo = [
            (deal, text, hashed)
            for deal, text, hashed in self._hashed(sources)
            if indexed.get(deal.id, ("", ""))[1] != hashed
        ]
        known = {d.id for d in sources}
        gone = [pid for pid in (indexed if wanted is None else wanted) if pid not in known]
        if wanted is not None:
            gone = [pid for pid in gone if pid in indexed]
        index.delete(gone)
        current = len(sources) - len(todo)
        # Only runs over a whole workspace are noted: a refresh of a few saved deals is
        # over in a moment, and a file write per save would cost more than it could tell.
        noted = wanted is None and index.unfinished_run(workspace_id) is not None
        plan = RefreshPlan(len(sources), current, len(todo), noted)
        if on_start:
            on_start(plan)
        if wanted is None and todo:
            index.note_run(workspace_id, RunNote(len(sources), current))
            noted = True
        flush_every = self.settings.flush_every
        done = committed = 0
        if progress:
            progress(0, len(todo))
        pending: list[IndexPoint] = []
        for start in range(0, len(todo), EMBED_BATCH):
            batch = todo[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([text for _, text, _ in batch])
            pending += [
                IndexPoint(deal.id, vector, payload_for(deal, hashed))
                for (deal, _, hashed), vector in zip(batch, vectors, strict=True)
            ]
            done += len(batch)
            commit = done - committed >= flush_every or done == len(todo)
            if commit or len(pending) >= WRITE_BATCH:
                # Flushed every flush_every deals, so a killed run keeps all it did but the
                # last batch and the next run embeds only the rest. A flush costs 15 ms on a
                # quiet disk, up to ~150 ms on a busy one, whatever the index size: one per
                # 512 deals added 0.7% to a 3,000-deal reindex (benchmarks/bench_reindex.py),
                # where one per 64 costs seconds.
                index.upsert(pending, flush=commit)
                pending = []
                if commit:
                    committed = done
                    if wanted is None:
                        index.note_run(workspace_id, RunNote(len(sources), current + done))
            if progress:
                progress(done, len(todo))
        if noted:
            index.note_run(workspace_id, None)
        return RefreshResult(
            embedded=len(todo), deleted=len(gone), already=current, resumed=plan.resumed
        )

    def remove(self, deal_ids: Sequence[uuid.UUID]) -> None:
        self.index.delete(list(deal_ids))

    # --- searching ---------------------------------------------------------------------

    def _vector_of(self, deal: DealSource) -> np.ndarray:
        """The stored vector when it is current, else the deal embedded now."""
        _, text, hashed = self._hashed([deal])[0]
        stored = self.index.hashes_of([deal.id]).get(deal.id)
        if stored is not None and stored[1] == hashed:
            vector = self.index.vector(deal.id)
            if vector is not None:
                return vector
        return self.embedder.embed_one(text)

    def search_deal(
        self,
        workspace_id: uuid.UUID,
        deal_id: uuid.UUID,
        *,
        limit: int = 10,
        threshold: float | None = None,
        stages: Sequence[str] = (),
        outcomes: Sequence[str] = (),
    ) -> SearchResult:
        found = load_deal_sources(self.store.db, workspace_id, [deal_id])
        if not found:
            raise NotFoundError(f"no deal {deal_id} in this workspace")
        vector = self._vector_of(found[0])
        return self._search(vector, workspace_id, limit, threshold, stages, outcomes, (deal_id,))

    def search_text(
        self,
        workspace_id: uuid.UUID,
        text: str,
        *,
        limit: int = 10,
        threshold: float | None = None,
        stages: Sequence[str] = (),
        outcomes: Sequence[str] = (),
    ) -> SearchResult:
        if not text.strip():
            raise ValidationError([FieldError("text", "type what the deal is about")])
        vector = self.embedder.embed_one(text.strip())
        return self._search(vector, workspace_id, limit, threshold, stages, outcomes, ())

    def _search(
        self,
        vector: np.ndarray,
        workspace_id: uuid.UUID,
        limit: int,
        threshold: float | None,
        stages: Sequence[str],
        outcomes: Sequence[str],
        exclude: tuple[uuid.UUID, ...],
    ) -> SearchResult:
        stages = _check_search(limit, threshold, stages, outcomes)
        index = self.index
        # A few spare hits: a point whose deal was just deleted is dropped below, and the
        # list should still be ``limit`` long.
        spare = 10
        where = SearchFilter(workspace_id, tuple(stages), tuple(outcomes), exclude)
        hits = index.search(vector, where, limit + spare, threshold)
        closed_where = SearchFilter(workspace_id, (), ("won", "lost"), exclude)
        closed_hits = index.search(vector, closed_where, EVIDENCE_DEALS + spare, None)
        # Shown from the database, not the payload: current values, and a point whose deal
        # was just deleted (or moved workspace) is never shown.
        rows = {
            d.id: d
            for d in load_deal_sources(
                self.store.db, workspace_id, [h.id for h in hits] + [h.id for h in closed_hits]
            )
        }
        deals = [
            SimilarDeal(
                deal.id,
                deal.title,
                deal.company,
                deal.value,
                deal.stage,
                deal.probability,
                deal.outcome,
                hit.score,
                deal.close_date,
                deal.lost_reason,
            )
            for hit in hits
            if (deal := rows.get(hit.id)) is not None
        ][:limit]
        evidence = evidence_from([rows[h.id] for h in closed_hits if h.id in rows])
        return SearchResult(deals, evidence)

    def stats(self, workspace_id: uuid.UUID) -> dict[str, Any]:
        return {
            "success": True,
            "stats": {
                "total_deals": self.index.count(workspace_id),
                "vector_size": self.embedder.dimension,
                "distance_metric": DISTANCE,
                "model": self.embedder.model_id,
                "index": self.index.location,
            },
        }


def _check_search(
    limit: int, threshold: float | None, stages: Sequence[str], outcomes: Sequence[str]
) -> list[str]:
    """Raises ValidationError naming every bad parameter; returns the stages normalised."""
    problems = []
    normalised = []
    for stage in stages:
        name = stage.strip().lower()
        if name in STAGES:
            normalised.append(name)
        else:
            problems.append(
                FieldError("stage", f"unknown stage {stage!r}; use one of {', '.join(STAGES)}")
            )
    if not 1 <= limit <= 100:
        problems.append(FieldError("limit", "must be between 1 and 100"))
    if threshold is not None and not -1.0 <= threshold <= 1.0:
        problems.append(FieldError("threshold", "a cosine similarity, between -1 and 1"))
    unknown = [o for o in outcomes if o not in OUTCOME_FILTERS]
    if unknown:
        problems.append(
            FieldError("outcome", f"unknown {', '.join(unknown)}; use open, won or lost")
        )
    if problems:
        raise ValidationError(problems)
    return normalised
