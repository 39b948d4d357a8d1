"""The vector index behind one small interface, two ways:

* :class:`EdgeIndex` (the default): Qdrant Edge, the real Qdrant engine in-process, in the
  user's data folder. Chosen over qdrant-client's local mode, which keeps every point in
  RAM, ignores payload indexes and takes seconds to reopen (with 50,000 points: 48 s to
  upsert and 4.7 s to reopen, against Edge's 1.5 s and 0.08 s).
* :class:`ClientIndex`: a Qdrant server (``[similar] qdrant_url``) through qdrant-client;
  tests run it in qdrant-client's in-memory mode.

Every search is filtered by workspace, on a tenant payload index. Points carry the deal's
workspace, stage, outcome (``open``/``won``/``lost``), value, probability, close date,
title, company, and the hash of the text they were embedded from.

A run that indexes a whole workspace commits in batches and notes how far it got
(:meth:`VectorIndex.note_run`), so a killed run keeps its committed batches, the next run
says it resumes, and an Edge shard a kill may have left half-written is read through once
before it is trusted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vectoros_tui.similar.errors import IndexLockedError, IndexUnavailableError

DISTANCE = "COSINE"
COLLECTION = "vectoros_deals"
_KEYWORD_FIELDS = ("stage", "outcome")
_SCROLL_PAGE = 2_000
_SHARD = "shard"
_PROGRESS_FILE = "progress.json"


@dataclass(frozen=True)
class IndexPoint:
    id: uuid.UUID
    vector: np.ndarray
    payload: dict[str, Any]


@dataclass(frozen=True)
class Hit:
    id: uuid.UUID
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class RunNote:
    """How far a run indexing one whole workspace got: of ``deals``, ``indexed`` were
    committed with their current text."""

    deals: int
    indexed: int


@dataclass(frozen=True)
class SearchFilter:
    workspace_id: uuid.UUID
    stages: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()  # open | won | lost
    exclude: tuple[uuid.UUID, ...] = ()


class VectorIndex(Protocol):
    dimension: int
    location: str

    def upsert(self, points: Sequence[IndexPoint], *, flush: bool = True) -> None:
        """``flush=False`` when more batches follow; the last one flushes."""
        ...

    def delete(self, ids: Sequence[uuid.UUID]) -> None: ...
    def search(
        self, vector: np.ndarray, where: SearchFilter, limit: int, threshold: float | None
    ) -> list[Hit]: ...
    def vector(self, point_id: uuid.UUID) -> np.ndarray | None: ...
    def hashes(self, workspace_id: uuid.UUID | None = None) -> dict[uuid.UUID, tuple[str, str]]:
        """point id -> (workspace id, text hash), for one workspace or all."""
        ...

    def hashes_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]: ...
    def count(self, workspace_id: uuid.UUID | None = None) -> int: ...
    def unfinished_run(self, workspace_id: uuid.UUID) -> RunNote | None:
        """The note of a run of this workspace that never finished (killed, crashed)."""
        ...

    def note_run(self, workspace_id: uuid.UUID, note: RunNote | None) -> None:
        """How far a run has committed; ``None`` once it has finished."""
        ...

    def close(self) -> None: ...


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _hash_entry(payload: dict[str, Any] | None) -> tuple[str, str]:
    payload = payload or {}
    return str(payload.get("workspace_id", "")), str(payload.get("text_hash", ""))


def _engine_failure(exc: BaseException) -> bool:
    """Qdrant Edge reports a failure as a bare ``Exception`` and a Rust panic as pyo3's
    ``PanicException``, which is not an ``Exception`` at all; Python's own errors (a bad
    argument) are left alone."""
    return type(exc) is Exception or type(exc).__name__ == "PanicException"


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(path.name + ".new")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def _read_notes(path: Path) -> dict[str, Any]:
    try:
        notes = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return notes if isinstance(notes, dict) else {}


def _run_note(entry: Any) -> RunNote | None:
    if not isinstance(entry, dict):
        return None
    try:
        return RunNote(int(entry["deals"]), int(entry["indexed"]))
    except (TypeError, KeyError, ValueError):
        return None


def unfinished_runs(folder: Path) -> dict[uuid.UUID, RunNote]:
    """The runs noted as unfinished in an Edge index folder, by workspace: how far a
    running or killed reindex has committed. Read without opening the index, which one
    process at a time may hold."""
    out = {}
    for key, entry in _read_notes(folder / _PROGRESS_FILE).items():
        note = _run_note(entry)
        with contextlib.suppress(ValueError):
            if note is not None:
                out[uuid.UUID(key)] = note
    return out


# --- Qdrant Edge -----------------------------------------------------------------------


class _FolderLock:
    """One process per index folder: Qdrant Edge must not be opened twice."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "lock"
        self._file: Any = None

    def acquire(self) -> None:
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise IndexLockedError(
                f"the similar-deal index {self.path.parent} is in use by {holder} (another "
                "VectorOS window or command of yours); similar-deal search is off here until "
                "it closes"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"VectorOS process {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class EdgeIndex:
    """Qdrant Edge in ``folder``. ``rebuild=True`` starts from an empty index."""

    def __init__(self, folder: Path, dimension: int, *, rebuild: bool = False) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.dimension = dimension
        self.location = str(folder)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = _FolderLock(folder)
        self._lock.acquire()
        # The Rust object is not meant to be borrowed by two threads at once.
        self._guard = threading.RLock()
        self._progress_file = folder / _PROGRESS_FILE
        shard_dir = folder / _SHARD
        meta_file = folder / "meta.json"
        try:
            # What a rebuild or a creation cut short left behind; never loaded.
            for leftover in (folder / f"{_SHARD}.old", folder / f"{_SHARD}.new"):
                shutil.rmtree(leftover, ignore_errors=True)
            if rebuild:
                self._discard(shard_dir)
                meta_file.unlink(missing_ok=True)
                self._progress_file.unlink(missing_ok=True)
            meta = self._read_meta(meta_file)
            if meta and meta.get("dimension") != dimension:
                raise IndexUnavailableError(
                    f"the similar-deal index holds {meta.get('dimension')}-dimensional vectors "
                    f"but the model makes {dimension}; run `vectoros reindex` to rebuild it"
                )
            if shard_dir.exists() and any(shard_dir.iterdir()):
                try:
                    self._shard = qe.EdgeShard.load(str(shard_dir))
                except BaseException as exc:
                    if not (isinstance(exc, Exception) or _engine_failure(exc)):
                        raise
                    raise IndexUnavailableError(
                        f"cannot open the similar-deal index {shard_dir}: {exc}; it is "
                        "rebuilt from the database by `vectoros reindex`"
                    ) from None
                if self._read_notes():
                    self._read_through()
            else:
                _write_atomically(
                    meta_file, json.dumps({"dimension": dimension, "distance": DISTANCE})
                )
                self._shard = self._create(shard_dir)
        except BaseException:
            shard = self.__dict__.pop("_shard", None)
            if shard is not None:
                with contextlib.suppress(Exception):
                    shard.close()
            self._lock.release()
            raise

    @staticmethod
    def _read_meta(path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _discard(shard_dir: Path) -> None:
        # Renamed away before it is deleted: a deletion cut short would otherwise leave a
        # shard with some of its files, which may load with part of its points or not load.
        if shard_dir.exists():
            doomed = shard_dir.with_name(f"{_SHARD}.old")
            os.rename(shard_dir, doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    def _create(self, shard_dir: Path) -> Any:
        qe = self._qe
        # No WAL: the index is derived data, written in batches that each end with a
        # flush(), and a shard without a WAL reopens faster. A crash loses the batch not
        # yet flushed, which the next refresh re-embeds. A SIGKILL at any moment of a
        # flush leaves the shard as it was before or after that flush (40 kills timed to
        # land inside a flush: every shard loaded with exactly the flushed points).
        config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self.dimension, distance=qe.Distance.Cosine),
            wal_enabled=False,
        )
        # Made aside and renamed into place, so that a creation cut short is never loaded.
        staging = shard_dir.with_name(f"{_SHARD}.new")
        shard = qe.EdgeShard.create(str(staging), config)
        try:
            shard.update(
                qe.UpdateOperation.create_field_index(
                    "workspace_id", qe.KeywordIndexParams(is_tenant=True)
                )
            )
            for name in _KEYWORD_FIELDS:
                shard.update(
                    qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword)
                )
            shard.flush()
        finally:
            shard.close()
        if shard_dir.exists():
            shutil.rmtree(shard_dir)  # empty, or the test above would have loaded it
        os.rename(staging, shard_dir)
        return qe.EdgeShard.load(str(shard_dir))

    @contextlib.contextmanager
    def _use(self) -> Iterator[Any]:
        """The shard, one thread at a time; an engine failure (a damaged file) becomes
        IndexUnavailableError, which turns search off with a message instead of failing
        the caller, and which `vectoros reindex` answers by rebuilding."""
        with self._guard:
            try:
                yield self._shard
            except BaseException as exc:
                if not _engine_failure(exc):
                    raise
                raise IndexUnavailableError(
                    f"the similar-deal index {self.location} is damaged ({exc}); "
                    "`vectoros reindex` rebuilds it from the database"
                ) from None

    def _read_through(self) -> None:
        """After a run that did not finish: count and read every point's hash once, so a
        shard a kill left half-written fails here, with a message, and not in the middle
        of a search. Only then: it costs a scroll of the whole index."""
        try:
            self.count()
            self.hashes()
        except IndexUnavailableError as exc:
            raise IndexUnavailableError(f"an indexing run was interrupted and {exc}") from None

    def _read_notes(self) -> dict[str, Any]:
        return _read_notes(self._progress_file)

    def unfinished_run(self, workspace_id: uuid.UUID) -> RunNote | None:
        return _run_note(self._read_notes().get(str(workspace_id)))

    def note_run(self, workspace_id: uuid.UUID, note: RunNote | None) -> None:
        # In the index's own folder: it describes this shard, and goes with it on --rebuild.
        with self._guard:
            notes = self._read_notes()
            if note is None:
                if notes.pop(str(workspace_id), None) is None:
                    return
            else:
                notes[str(workspace_id)] = {"deals": note.deals, "indexed": note.indexed}
            if notes:
                _write_atomically(self._progress_file, json.dumps(notes))
            else:
                self._progress_file.unlink(missing_ok=True)

    def upsert(self, points: Sequence[IndexPoint], *, flush: bool = True) -> None:
        if not points:
            if flush:
                with self._use() as shard:
                    shard.flush()
            return
        qe = self._qe
        # memoryview rows (an array's .data): twice as fast into the Rust side as lists of
        # Python floats.
        batch = [
            qe.Point(p.id, np.ascontiguousarray(p.vector, dtype=np.float32).data, p.payload)
            for p in points
        ]
        with self._use() as shard:
            shard.update(qe.UpdateOperation.upsert_points(batch))
            if flush:
                shard.flush()

    def delete(self, ids: Sequence[uuid.UUID]) -> None:
        if not ids:
            return
        with self._use() as shard:
            shard.update(self._qe.UpdateOperation.delete_points(list(ids)))
            shard.flush()

    def _filter(self, where: SearchFilter) -> Any:
        qe = self._qe
        must: list[Any] = [
            qe.FieldCondition("workspace_id", match=qe.MatchValue(str(where.workspace_id)))
        ]
        if where.stages:
            must.append(qe.FieldCondition("stage", match=qe.MatchAny(list(where.stages))))
        if where.outcomes:
            must.append(qe.FieldCondition("outcome", match=qe.MatchAny(list(where.outcomes))))
        must_not = [qe.HasIdCondition(set(where.exclude))] if where.exclude else None
        return qe.Filter(must=must, must_not=must_not)

    def search(
        self, vector: np.ndarray, where: SearchFilter, limit: int, threshold: float | None
    ) -> list[Hit]:
        qe = self._qe
        request = qe.SearchRequest(
            query=qe.Query.Nearest(np.ascontiguousarray(vector, dtype=np.float32).data),
            limit=limit,
            filter=self._filter(where),
            with_payload=True,
            score_threshold=threshold,
        )
        with self._use() as shard:
            found = shard.search(request)
        return [Hit(_uuid(p.id), float(p.score), dict(p.payload or {})) for p in found]

    def vector(self, point_id: uuid.UUID) -> np.ndarray | None:
        with self._use() as shard:
            records = shard.retrieve([point_id], False, True)
        if not records or records[0].vector is None:
            return None
        return np.asarray(records[0].vector, dtype=np.float32)

    def _scroll(self, where: Any) -> Iterator[Any]:
        qe = self._qe
        offset = None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=_SCROLL_PAGE,
                filter=where,
                with_payload=["workspace_id", "text_hash"],
                with_vector=False,
            )
            with self._use() as shard:
                records, offset = shard.scroll(request)
            yield from records
            if offset is None:
                return

    def hashes(self, workspace_id: uuid.UUID | None = None) -> dict[uuid.UUID, tuple[str, str]]:
        qe = self._qe
        where = None
        if workspace_id is not None:
            where = qe.Filter(
                must=[qe.FieldCondition("workspace_id", match=qe.MatchValue(str(workspace_id)))]
            )
        out = {}
        for record in self._scroll(where):
            out[_uuid(record.id)] = _hash_entry(record.payload)
        return out

    def hashes_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        if not ids:
            return {}
        with self._use() as shard:
            records = shard.retrieve(list(ids), ["workspace_id", "text_hash"], False)
        return {_uuid(r.id): _hash_entry(r.payload) for r in records}

    def count(self, workspace_id: uuid.UUID | None = None) -> int:
        qe = self._qe
        where = None
        if workspace_id is not None:
            where = qe.Filter(
                must=[qe.FieldCondition("workspace_id", match=qe.MatchValue(str(workspace_id)))]
            )
        with self._use() as shard:
            return int(shard.count(qe.CountRequest(exact=True, filter=where)))

    def optimize(self) -> None:
        """Merge segments and build HNSW: slow on big shards, so never on the UI's path."""
        with self._use() as shard:
            shard.optimize()

    def close(self) -> None:
        with self._guard:
            # Dropped rather than set to None, so that it keeps its type while open; a
            # second close finds nothing to close.
            shard = getattr(self, "_shard", None)
            if shard is not None:
                del self._shard
                with contextlib.suppress(Exception):
                    shard.flush()
                shard.close()
        self._lock.release()


# --- Qdrant server (qdrant-client) ----------------------------------------------------


class ClientIndex:
    """A collection on a Qdrant server, or in qdrant-client's memory (``url=":memory:"``)."""

    def __init__(
        self,
        url: str,
        dimension: int,
        *,
        api_key: str | None = None,
        rebuild: bool = False,
        timeout: float = 10.0,
    ) -> None:
        from qdrant_client import QdrantClient, models

        self._m = models
        self.dimension = dimension
        self.location = url
        if url == ":memory:":
            self._client = QdrantClient(location=":memory:")
        else:
            self._client = QdrantClient(url=url, api_key=api_key, timeout=int(timeout))
        try:
            self._prepare(rebuild)
        except IndexUnavailableError:
            self._client.close()
            raise
        except Exception as exc:
            self._client.close()
            raise IndexUnavailableError(f"cannot use the Qdrant server at {url}: {exc}") from None

    def _prepare(self, rebuild: bool) -> None:
        m, client = self._m, self._client
        if rebuild and client.collection_exists(COLLECTION):
            client.delete_collection(COLLECTION)
        if client.collection_exists(COLLECTION):
            vectors = client.get_collection(COLLECTION).config.params.vectors
            size = getattr(vectors, "size", None)
            if size != self.dimension:
                raise IndexUnavailableError(
                    f"the Qdrant collection '{COLLECTION}' holds {size}-dimensional vectors "
                    f"but the model makes {self.dimension}; run `vectoros reindex`"
                )
            return
        client.create_collection(
            COLLECTION,
            vectors_config=m.VectorParams(size=self.dimension, distance=m.Distance.COSINE),
        )
        client.create_payload_index(
            COLLECTION,
            "workspace_id",
            field_schema=m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
        )
        for name in _KEYWORD_FIELDS:
            client.create_payload_index(COLLECTION, name, field_schema=m.PayloadSchemaType.KEYWORD)

    def upsert(self, points: Sequence[IndexPoint], *, flush: bool = True) -> None:
        if points:  # the server makes each call durable (wait=True); nothing to flush
            self._client.upsert(
                COLLECTION,
                points=[
                    self._m.PointStruct(id=str(p.id), vector=p.vector.tolist(), payload=p.payload)
                    for p in points
                ],
                wait=True,
            )

    def delete(self, ids: Sequence[uuid.UUID]) -> None:
        if ids:
            self._client.delete(
                COLLECTION,
                points_selector=self._m.PointIdsList(points=[str(i) for i in ids]),
                wait=True,
            )

    def _workspace(self, workspace_id: uuid.UUID) -> Any:
        m = self._m
        return m.FieldCondition(key="workspace_id", match=m.MatchValue(value=str(workspace_id)))

    def search(
        self, vector: np.ndarray, where: SearchFilter, limit: int, threshold: float | None
    ) -> list[Hit]:
        m = self._m
        must: list[Any] = [self._workspace(where.workspace_id)]
        if where.stages:
            must.append(m.FieldCondition(key="stage", match=m.MatchAny(any=list(where.stages))))
        if where.outcomes:
            must.append(m.FieldCondition(key="outcome", match=m.MatchAny(any=list(where.outcomes))))
        must_not = (
            [m.HasIdCondition(has_id=[str(i) for i in where.exclude])] if where.exclude else None
        )
        found = self._client.query_points(
            COLLECTION,
            query=vector.tolist(),
            query_filter=m.Filter(must=must, must_not=must_not),
            limit=limit,
            score_threshold=threshold,
            with_payload=True,
        ).points
        return [Hit(_uuid(p.id), float(p.score), dict(p.payload or {})) for p in found]

    def vector(self, point_id: uuid.UUID) -> np.ndarray | None:
        records = self._client.retrieve(COLLECTION, [str(point_id)], with_vectors=True)
        if not records or records[0].vector is None:
            return None
        return np.asarray(records[0].vector, dtype=np.float32)

    def hashes(self, workspace_id: uuid.UUID | None = None) -> dict[uuid.UUID, tuple[str, str]]:
        m = self._m
        where = None if workspace_id is None else m.Filter(must=[self._workspace(workspace_id)])
        out: dict[uuid.UUID, tuple[str, str]] = {}
        offset = None
        while True:
            records, offset = self._client.scroll(
                COLLECTION,
                scroll_filter=where,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=["workspace_id", "text_hash"],
                with_vectors=False,
            )
            for record in records:
                out[_uuid(record.id)] = _hash_entry(record.payload)
            if offset is None:
                return out

    def hashes_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        if not ids:
            return {}
        records = self._client.retrieve(
            COLLECTION, [str(i) for i in ids], with_payload=["workspace_id", "text_hash"]
        )
        return {_uuid(r.id): _hash_entry(r.payload) for r in records}

    def count(self, workspace_id: uuid.UUID | None = None) -> int:
        m = self._m
        where = None if workspace_id is None else m.Filter(must=[self._workspace(workspace_id)])
        return int(self._client.count(COLLECTION, count_filter=where, exact=True).count)

    # A server makes every upsert durable and is shared by a team: a note kept there would
    # be one client's. A rerun still skips what is indexed (the hashes say so); it only
    # does not say that it resumes.
    def unfinished_run(self, workspace_id: uuid.UUID) -> RunNote | None:
        return None

    def note_run(self, workspace_id: uuid.UUID, note: RunNote | None) -> None:
        return None

    def close(self) -> None:
        self._client.close()
