"""A reindex of 3,000 deals committed once at the end (as it was) against committed every
``[similar] flush_every`` deals, and what a kill at 80% of the run leaves behind.

Run with ``python benchmarks/bench_reindex.py`` (about three minutes on two busy cores).
All in one run, in a temporary folder, on a 3,000-deal demo workspace (SQLite) and the
Qdrant Edge index:

1. End to end with the built-in model: ``SimilarDeals.refresh`` (what `vectoros reindex`
   runs) from an empty index with flush_every 1,000,000 (one flush at the end: the code
   before) and 512 (the default); rounds interleaved, so that the load of a shared machine
   falls on both alike. The time spent in the index's writes (flushes included) is timed
   apart: on a busy machine the model's own time varies far more than the flushes cost.
2. The index writes alone: the same refresh with every vector embedded beforehand, median
   of 3 runs, also with a flush every 64 deals: what the commits cost without the model.
3. A child process running the refresh is killed (SIGKILL) once it has embedded 80% of
   the deals; the points the index kept are counted, and a rerun shows what it resumed.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import Locations
from vectoros_tui.similar.embedder import Embedder, prepare_builtin
from vectoros_tui.similar.index import EdgeIndex, IndexPoint, VectorIndex
from vectoros_tui.similar.service import SimilarDeals, model_choice
from vectoros_tui.similar.texts import deal_text
from vectoros_tui.store.deal_sources import load_deal_sources
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEALS = 3_000
ONCE = 1_000_000  # more than the deals: one flush, at the end
SETTINGS = (ONCE, 512, 64)
END_TO_END = (ONCE, 512)  # 64 is only timed without the model: it is slow either way
ROUNDS = 2
WRITE_RUNS = 3
KILL_AT = 0.8


def label(flush_every: int) -> str:
    return "once at the end" if flush_every == ONCE else f"every {flush_every:,}"


class TimedWrites:
    """The index, timing its upserts (and their flushes) and counting the flushes."""

    def __init__(self, inner: VectorIndex) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.flushes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def upsert(self, points: Sequence[IndexPoint], *, flush: bool = True) -> None:
        start = time.perf_counter()
        self.inner.upsert(points, flush=flush)
        self.seconds += time.perf_counter() - start
        self.flushes += flush


class Precomputed:
    """The model's answers, looked up: indexing without the model."""

    def __init__(self, real: Embedder, vectors: dict[str, np.ndarray]) -> None:
        self.dimension = real.dimension
        self.model_id = real.model_id
        self.vectors = vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


def refresh_once(
    store: Store,
    workspace_id: uuid.UUID,
    locations: Locations,
    embedder: Any,
    flush_every: int,
) -> tuple[float, TimedWrites]:
    """Seconds for a refresh of the whole workspace from an empty index."""
    folder = locations.vector_index_dir
    made: list[TimedWrites] = []

    def factory(dimension: int, rebuild: bool) -> VectorIndex:
        made.append(TimedWrites(EdgeIndex(folder, dimension, rebuild=True)))
        return made[-1]

    settings = SimilarSettings(flush_every=flush_every)
    service = SimilarDeals(store, settings, locations, embedder=embedder, index_factory=factory)
    service.index  # noqa: B018 - opened (and emptied) before the clock starts
    start = time.perf_counter()
    result = service.refresh(workspace_id)
    seconds = time.perf_counter() - start
    assert result.embedded == DEALS, result
    assert service.index.count(workspace_id) == DEALS
    service.close()
    return seconds, made[-1]


# The refresh in a child process, printing its progress; killed from outside.
CHILD = """
import sys, uuid
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import Locations
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.store import open_store

root = Path(sys.argv[2])
locations = Locations(root / "config", root / sys.argv[5], root / "cache", root / "logs")
store = open_store(sys.argv[3])
service = SimilarDeals(store, SimilarSettings(flush_every=int(sys.argv[6])), locations)
service.embedder.load()

def progress(done, total):
    print(f"{done} {total}", flush=True)

service.refresh(uuid.UUID(sys.argv[4]), progress=progress)
print("FINISHED", flush=True)
"""


def kill_at(
    root: Path, url: str, workspace_id: uuid.UUID, data: str, flush_every: int
) -> tuple[int, float]:
    """Points kept after the child is killed at KILL_AT of the deals embedded, and the
    seconds it had been embedding."""
    arguments = [str(ROOT), str(root), url, str(workspace_id), data, str(flush_every)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *arguments],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    started = None
    try:
        for line in child.stdout:
            if line.startswith("FINISHED"):
                raise RuntimeError("the child finished before it was killed")
            done, total = map(int, line.split())
            started = started or time.perf_counter()
            if done >= KILL_AT * total:
                child.send_signal(signal.SIGKILL)
                break
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL, child.returncode
    index = EdgeIndex(root / data / "vector-index", 384)
    kept = index.count(workspace_id)
    index.close()
    return kept, time.perf_counter() - (started or time.perf_counter())


def main() -> int:
    started = time.perf_counter()
    print(f"VectorOS reindex benchmark: {DEALS:,} deals, commit once vs in batches")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    with tempfile.TemporaryDirectory(prefix="bench-reindex-") as tmp_name:
        root = Path(tmp_name)
        url = f"sqlite:///{root / 'bench.sqlite3'}"
        store = open_store(url)
        workspace_id = create_demo_workspace(store.db, deals=DEALS, seed=3, now=NOW).workspace_id

        def where(data: str) -> Locations:
            return Locations(root / "config", root / data, root / "cache", root / "logs")

        settings = SimilarSettings()
        prepare_builtin(root / "cache")
        embedder = Embedder(model_choice(settings, where("data")))
        embedder.load()
        embedder.embed(["warm-up"] * 32)

        print(
            f"1. end to end, built-in model, threads={settings.threads}, from an empty index "
            f"({ROUNDS} rounds, interleaved):"
        )
        wall: dict[int, list[float]] = {n: [] for n in END_TO_END}
        writes: dict[int, list[float]] = {n: [] for n in END_TO_END}
        for round_no in range(ROUNDS):
            for flush_every in END_TO_END:
                seconds, timed = refresh_once(
                    store, workspace_id, where(f"e2e-{flush_every}"), embedder, flush_every
                )
                wall[flush_every].append(seconds)
                writes[flush_every].append(timed.seconds)
                print(
                    f"   round {round_no + 1}, flush {label(flush_every):<16} {seconds:6.2f} s "
                    f"({timed.seconds:.2f} s of it in index writes, {timed.flushes} flushes)"
                )
        base = statistics.median(wall[ONCE])
        base_writes = statistics.median(writes[ONCE])
        for flush_every in END_TO_END:
            median = statistics.median(wall[flush_every])
            extra = statistics.median(writes[flush_every]) - base_writes
            print(
                f"   median, flush {label(flush_every):<16} {median:6.2f} s, "
                f"{DEALS / median:,.0f} deals/s ({median / base - 1:+.1%} against once); "
                f"index writes {extra:+.2f} s against once ({extra / base:+.1%} of its run)"
            )

        sources = load_deal_sources(store.db, workspace_id)
        texts = [deal_text(d) for d in sources]
        cached = Precomputed(embedder, dict(zip(texts, embedder.embed(texts), strict=True)))
        print(f"\n2. the index writes alone (vectors embedded beforehand), median of {WRITE_RUNS}:")
        alone: dict[int, float] = {}
        for flush_every in SETTINGS:
            runs = [
                refresh_once(store, workspace_id, where(f"w-{flush_every}"), cached, flush_every)
                for _ in range(WRITE_RUNS)
            ]
            alone[flush_every] = statistics.median(s for s, _ in runs)
            print(
                f"   flush {label(flush_every):<16} {alone[flush_every]:6.3f} s "
                f"({runs[0][1].flushes} flushes, "
                f"{(alone[flush_every] - alone[ONCE]) * 1000:+.0f} ms against once)"
            )

        print(f"\n3. a child process running the refresh, SIGKILLed at {KILL_AT:.0%} embedded:")
        for flush_every in (ONCE, 512):
            data = f"kill-{flush_every}"
            kept, seconds = kill_at(root, url, workspace_id, data, flush_every)
            service = SimilarDeals(
                store, SimilarSettings(flush_every=flush_every), where(data), embedder=embedder
            )
            start = time.perf_counter()
            rerun = service.refresh(workspace_id)
            rerun_s = time.perf_counter() - start
            service.close()
            print(
                f"   flush {label(flush_every):<16} killed after {seconds:.1f} s of embedding: "
                f"{kept:,} of {DEALS:,} points kept; the rerun found {rerun.already:,} "
                f"indexed and embedded {rerun.embedded:,} in {rerun_s:.1f} s"
            )
        store.close()
    print(
        f"\nbenchmark took {time.perf_counter() - started:.0f} s; load average now "
        f"{os.getloadavg()[0]:.2f} (other processes on these {os.cpu_count()} CPUs slow "
        "every figure)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
