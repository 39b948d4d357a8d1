"""A Qdrant Edge shard with a damaged file: a clear IndexUnavailableError (which turns
search off and which `vectoros reindex` answers by rebuilding), never an engine exception
or a Rust panic; after an interrupted run the damage is found when the index opens."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vectoros_tui.similar.errors import IndexUnavailableError
from vectoros_tui.similar.index import EdgeIndex, IndexPoint, RunNote, unfinished_runs

DIMENSION = 384
WORKSPACE = uuid.UUID("11111111-2222-3333-4444-555555555555")


def points(count: int) -> list[IndexPoint]:
    rng = np.random.default_rng(5)
    return [
        IndexPoint(
            uuid.uuid4(),
            rng.normal(size=DIMENSION).astype(np.float32),
            {"workspace_id": str(WORKSPACE), "text_hash": f"h{n}", "stage": "prospect"},
        )
        for n in range(count)
    ]


def segment(folder: Path) -> Path:
    (only,) = (folder / "shard" / "segments").iterdir()
    return only


def emptied(relative: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (segment(folder) / relative).write_bytes(b"")

    return damage


def filled_index(folder: Path, *, interrupted: bool) -> None:
    index = EdgeIndex(folder, DIMENSION)
    index.upsert(points(20))
    if interrupted:
        index.note_run(WORKSPACE, RunNote(deals=50, indexed=20))
    index.close()


def test_a_note_is_kept_per_workspace_and_cleared_when_the_run_ends(tmp_path: Path) -> None:
    folder = tmp_path / "vector-index"
    other = uuid.uuid4()
    index = EdgeIndex(folder, DIMENSION)
    try:
        assert index.unfinished_run(WORKSPACE) is None
        index.note_run(WORKSPACE, RunNote(50, 20))
        index.note_run(other, RunNote(3, 0))
        index.note_run(WORKSPACE, RunNote(50, 40))
        assert index.unfinished_run(WORKSPACE) == RunNote(50, 40)
        # Readable while another process holds the index.
        assert unfinished_runs(folder) == {WORKSPACE: RunNote(50, 40), other: RunNote(3, 0)}
        index.note_run(WORKSPACE, None)
        assert unfinished_runs(folder) == {other: RunNote(3, 0)}
        index.note_run(other, None)
        assert not (folder / "progress.json").exists()
    finally:
        index.close()
    (folder / "progress.json").write_text("{not json")
    assert unfinished_runs(folder) == {}
    rebuilt = EdgeIndex(folder, DIMENSION, rebuild=True)
    rebuilt.close()


@pytest.mark.parametrize("interrupted", [True, False])
def test_a_damaged_payload_file_is_reported_not_raised_raw(
    tmp_path: Path, interrupted: bool
) -> None:
    folder = tmp_path / "vector-index"
    filled_index(folder, interrupted=interrupted)
    emptied("payload_storage/page_0.dat")(folder)

    if interrupted:
        # Read through on opening: the damage is found before any search meets it.
        with pytest.raises(IndexUnavailableError) as refused:
            EdgeIndex(folder, DIMENSION)
        message = str(refused.value)
        assert message.startswith("an indexing run was interrupted and the similar-deal index")
    else:
        # Opening reads no payload; the first read that does says what is wrong.
        index = EdgeIndex(folder, DIMENSION)
        try:
            with pytest.raises(IndexUnavailableError) as refused:
                index.hashes(WORKSPACE)
        finally:
            index.close()
        message = str(refused.value)
    assert "is damaged" in message and "`vectoros reindex` rebuilds it" in message

    # The refused opener let go of the folder, and a rebuild starts clean.
    rebuilt = EdgeIndex(folder, DIMENSION, rebuild=True)
    try:
        assert rebuilt.count() == 0
        assert rebuilt.unfinished_run(WORKSPACE) is None
        rebuilt.upsert(points(3))
        assert len(rebuilt.hashes(WORKSPACE)) == 3
    finally:
        rebuilt.close()


def test_a_file_that_makes_the_engine_panic_is_an_unavailable_index(tmp_path: Path) -> None:
    folder = tmp_path / "vector-index"
    filled_index(folder, interrupted=False)
    # An empty flags file makes Qdrant Edge panic while loading: pyo3's PanicException,
    # which is not an Exception and would otherwise end the process with a traceback.
    emptied("vector_storage/deleted/status.dat")(folder)

    with pytest.raises(IndexUnavailableError, match="cannot open the similar-deal index"):
        EdgeIndex(folder, DIMENSION)

    rebuilt = EdgeIndex(folder, DIMENSION, rebuild=True)
    rebuilt.close()


def test_what_a_cut_short_creation_or_rebuild_left_is_never_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "vector-index"
    filled_index(folder, interrupted=False)
    for leftover in ("shard.new", "shard.old"):
        (folder / leftover / "segments").mkdir(parents=True)
        (folder / leftover / "segments" / "half").write_text("written half")

    index = EdgeIndex(folder, DIMENSION)
    try:
        assert index.count() == 20
    finally:
        index.close()
    assert not (folder / "shard.new").exists() and not (folder / "shard.old").exists()
