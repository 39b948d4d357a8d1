"""The fuzz suite's helpers: ``vectoros`` run in-process on a workspace, a snapshot of
every table to prove that a refused input wrote nothing, and the properties every run of
the CLI must have."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from vectoros_tui.cli import run
from vectoros_tui.store.store import Store

ME = "me@example.com"
NOT_USER_DATA = ("alembic_version", "model_fits")
WORKSPACE = "Fuzz"

# One workspace serves all the examples of a test function; no deadline, as the first
# example pays for imports and Postgres is slower than SQLite.
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Result:
    argv: list[str]
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err

    def explain(self) -> str:
        return f"argv={self.argv!r}\nexit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


Snapshot = dict[str, Any]


@dataclass
class Workspace:
    """One migrated database with one workspace (``WORKSPACE``) that ``ME`` owns."""

    url: str
    store: Store
    _tables: list[str] = field(default_factory=list)

    def run(self, *args: object) -> Result:
        argv = ["--db", self.url, *(str(a) for a in args)]
        code, out, err = run_captured(argv)
        return Result(argv[2:], code, out, err)

    def ok(self, *args: object, as_json: bool = True) -> Any:
        result = self.run(*args, *(["--json"] if as_json else []))
        assert result.code == 0, result.explain()
        return json.loads(result.out) if as_json else result

    def snapshot(self) -> Snapshot:
        """Every table's row count and every deal's version: equal snapshots mean nothing
        was written. Not counted: alembic's bookkeeping and ``model_fits``, a cache of the
        history model's fit (a forecast refused for too little history still keeps the fit
        it computed to find that out: derived data, reused while the data is the same)."""
        with self.store.db.read() as session:
            if not self._tables:
                names = sa.inspect(session.get_bind()).get_table_names()
                self._tables.extend(sorted(n for n in names if n not in NOT_USER_DATA))
            counts = {
                name: session.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in self._tables
            }
            deals = session.execute(sa.text("SELECT id, version FROM deals")).all()
        return {"counts": counts, "deals": sorted((str(i), v) for i, v in deals)}

    def count(self, table: str) -> int:
        counts: dict[str, int] = self.snapshot()["counts"]
        return counts[table]


def run_captured(argv: list[str]) -> tuple[int, str, str]:
    """``vectoros argv`` in-process, its output captured by streams that encode as a
    terminal's do: stdout strictly as UTF-8 (a UTF-8 locale), stderr with backslash escapes
    for what UTF-8 cannot encode (Python's own setting for stderr). pytest's capsys would
    turn any lone surrogate (an undecodable argv byte) on stderr into a crash the real
    program does not have."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = run(argv)
    finally:
        sys.stdout, sys.stderr = saved
    texts = []
    for stream in (out, err):
        stream.flush()
        buffer = stream.buffer
        assert isinstance(buffer, io.BytesIO)
        texts.append(buffer.getvalue().decode("utf-8"))
    return code, texts[0], texts[1]


def well_behaved(result: Result, *, conflict: bool = False) -> Result:
    """Exit 0 or 2, never a traceback nor the last-resort "unexpected error"; a refusal
    says what is wrong. With ``conflict``, exit 1 is allowed for a write refused because the
    record is no longer at the version the command expected (not bad input: the record
    moved on, by design exit 1)."""
    stale = conflict and result.code == 1 and "changed by someone else" in result.err
    assert result.code in (0, 2) or stale, result.explain()
    assert "Traceback" not in result.both, result.explain()
    assert "unexpected error" not in result.both, result.explain()
    if result.code != 0:
        assert result.err.strip(), result.explain()
    return result


def refused_wrote_nothing(result: Result, before: Snapshot, after: Snapshot) -> None:
    if result.code != 0:
        assert after == before, f"a refused command wrote:\n{result.explain()}"
