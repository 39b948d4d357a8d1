"""A real `vectoros reindex` killed (SIGKILL) part-way, then run again: the batches it
committed are kept, the rerun says it resumes and embeds only the rest, and the index ends
with every deal exactly once and answers searches.

The child is the real entry point with the real built-in model; `[similar] flush_every` is
set small through its environment variable so that a few hundred deals make several
batches. SQLite only: what is tested is the index, which does not depend on the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import current_locations
from vectoros_tui.similar.embedder import Embedder
from vectoros_tui.similar.index import EdgeIndex, unfinished_runs
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.deal_sources import load_deal_sources
from vectoros_tui.store.demo import create_demo_workspace
from vectoros_tui.store.store import open_store

DEALS = 300
FLUSH_EVERY = 64
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_reindex_killed_keeps_its_batches_and_the_rerun_resumes(
    tmp_path: Path, embedder: Embedder
) -> None:
    url = f"sqlite:///{tmp_path / 'kill.sqlite3'}"
    store = open_store(url)
    workspace_id = create_demo_workspace(store.db, deals=DEALS, seed=11, now=NOW).workspace_id
    locations = current_locations()  # VECTOROS_HOME of this test, the model linked in
    folder = locations.vector_index_dir
    env = {**os.environ, "VECTOROS_SIMILAR__FLUSH_EVERY": str(FLUSH_EVERY)}
    command = [sys.executable, "-m", "vectoros_tui", "--db", url, "reindex"]

    child = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        committed = 0
        while committed < FLUSH_EVERY:
            assert child.poll() is None, (
                "the reindex ended before it committed a batch: "
                f"{child.stderr.read() if child.stderr else ''}"
            )
            assert time.monotonic() < deadline, "no batch was committed within 60 s"
            note = unfinished_runs(folder).get(workspace_id)
            committed = note.indexed if note else 0
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert unfinished_runs(folder)[workspace_id].deals == DEALS

    deal_ids = {d.id for d in load_deal_sources(store.db, workspace_id)}
    index = EdgeIndex(folder, embedder.dimension)
    try:
        kept = index.count(workspace_id)
        assert set(index.hashes(workspace_id)) <= deal_ids
    finally:
        index.close()
    # Every batch committed before the kill is there; the kill came before the end.
    assert committed <= kept < DEALS
    assert kept % FLUSH_EVERY == 0

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    lines = rerun.stdout.splitlines()
    assert lines[0] == (
        f"Demo: resuming an interrupted reindex, {kept:,} of {DEALS:,} deals already indexed"
    )
    assert lines[-1] == f"Demo: {DEALS} deals indexed ({DEALS - kept} embedded, 0 deleted)"
    assert workspace_id not in unfinished_runs(folder)

    service = SimilarDeals(store, SimilarSettings(), locations, embedder=embedder)
    try:
        live = service.index
        assert live.count(workspace_id) == DEALS
        assert set(live.hashes(workspace_id)) == deal_ids  # each deal once, keyed by its id
        assert service.drift(workspace_id).in_step  # kept points carry current hashes
        some_deal = sorted(deal_ids)[0]
        found = service.search_deal(workspace_id, some_deal, limit=5)
        assert len(found.deals) == 5
        assert some_deal not in {d.deal_id for d in found.deals}
        assert service.refresh(workspace_id).embedded == 0
    finally:
        service.close()
        store.close()
