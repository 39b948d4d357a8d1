"""Qdrant Edge is one process per folder: a second opener is refused, nothing breaks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

from vectoros_tui.similar.errors import IndexLockedError, IndexUnavailableError
from vectoros_tui.similar.index import EdgeIndex, IndexPoint, SearchFilter

DIMENSION = 384
WORKSPACE = uuid.UUID("11111111-2222-3333-4444-555555555555")

TRY_OPEN = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from vectoros_tui.similar.errors import IndexLockedError
    from vectoros_tui.similar.index import EdgeIndex
    try:
        index = EdgeIndex(Path(sys.argv[1]), 384, rebuild=sys.argv[2] == "rebuild")
    except IndexLockedError as exc:
        print(f"LOCKED {exc}")
        sys.exit(3)
    print(f"OPENED {index.count()}")
    index.close()
    """
)

HOLD_OPEN = textwrap.dedent(
    """
    import sys, uuid
    from pathlib import Path
    import numpy as np
    from vectoros_tui.similar.index import EdgeIndex, IndexPoint
    index = EdgeIndex(Path(sys.argv[1]), 384)
    vector = np.ones(384, dtype=np.float32)
    index.upsert([IndexPoint(uuid.UUID(sys.argv[2]), vector, {"workspace_id": sys.argv[3]})])
    print("READY", flush=True)
    sys.stdin.readline()
    index.close()
    print("CLOSED", flush=True)
    """
)


def points(count: int, seed: int = 0) -> list[IndexPoint]:
    rng = np.random.default_rng(seed)
    return [
        IndexPoint(
            uuid.uuid4(),
            rng.normal(size=DIMENSION).astype(np.float32),
            {"workspace_id": str(WORKSPACE), "stage": "prospect", "outcome": "open"},
        )
        for _ in range(count)
    ]


def try_open_elsewhere(folder: Path, rebuild: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", TRY_OPEN, str(folder), "rebuild" if rebuild else "keep"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_opener_is_refused_and_the_first_keeps_working(tmp_path: Path) -> None:
    folder = tmp_path / "vector-index"
    first = EdgeIndex(folder, DIMENSION)
    stored = points(5)
    first.upsert(stored)
    try:
        for rebuild in (False, True):
            other = try_open_elsewhere(folder, rebuild)
            assert other.returncode == 3, other.stdout + other.stderr
            assert "in use" in other.stdout
            assert f"VectorOS process {os.getpid()}" in other.stdout, "names the holder"

            with pytest.raises(IndexLockedError, match="in use") as refused:
                EdgeIndex(folder, DIMENSION, rebuild=rebuild)
            assert str(folder) in str(refused.value)
            assert isinstance(refused.value, IndexUnavailableError)

        # The first is untouched, even by the refused rebuilds, and still reads and writes.
        assert first.count(WORKSPACE) == 5
        more = points(3, seed=1)
        first.upsert(more)
        hits = first.search(more[0].vector, SearchFilter(WORKSPACE), 1, None)
        assert [h.id for h in hits] == [more[0].id]
        first.delete([stored[0].id])
    finally:
        first.close()

    reopened = EdgeIndex(folder, DIMENSION)
    try:
        assert reopened.count(WORKSPACE) == 7
        assert set(reopened.hashes(WORKSPACE)) == {p.id for p in stored[1:] + more}
        hits = reopened.search(stored[2].vector, SearchFilter(WORKSPACE), 1, None)
        assert [h.id for h in hits] == [stored[2].id]
    finally:
        reopened.close()

    # Closed here, another process may open it.
    assert try_open_elsewhere(folder).stdout.startswith("OPENED 7")


def test_an_index_held_by_another_process_opens_once_that_process_closes_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "vector-index"
    point_id = uuid.uuid4()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(folder), str(point_id), str(WORKSPACE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "READY", holder.stderr.read()  # type: ignore[union-attr]

        with pytest.raises(IndexLockedError) as refused:
            EdgeIndex(folder, DIMENSION)
        assert f"in use by VectorOS process {holder.pid}" in str(refused.value)

        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "CLOSED"
        assert holder.wait(timeout=60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()

    index = EdgeIndex(folder, DIMENSION)
    try:
        assert set(index.hashes(WORKSPACE)) == {point_id}
    finally:
        index.close()


def test_a_refused_open_for_a_wrong_dimension_leaves_the_folder_usable(tmp_path: Path) -> None:
    folder = tmp_path / "vector-index"
    first = EdgeIndex(folder, DIMENSION)
    first.upsert(points(2))
    first.close()

    with pytest.raises(IndexUnavailableError, match="vectoros reindex") as refused:
        EdgeIndex(folder, 128)
    assert not isinstance(refused.value, IndexLockedError)
    assert "384" in str(refused.value) and "128" in str(refused.value)

    again = EdgeIndex(folder, DIMENSION)  # the refused opener released the lock
    try:
        assert again.count() == 2
    finally:
        again.close()

    rebuilt = EdgeIndex(folder, 128, rebuild=True)
    try:
        assert rebuilt.count() == 0
    finally:
        rebuilt.close()
