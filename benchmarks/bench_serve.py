"""Time the team backend (`vectoros serve`) on Postgres with 10,000 deals.

Run with ``python benchmarks/bench_serve.py`` (about a minute; ``--strict`` exits 1 when a
goal is missed). Needs Postgres (``VECTOROS_TEST_PG_URL``, default the test server on
127.0.0.1:5432); works in a schema of its own, dropped at the end. The server is the real
`vectoros serve` command in a process of its own, on loopback; the clients are the real
sync client (and, for the page latency, plain httpx clients in threads).

1. initial pull: a fresh SyncEngine (local SQLite) links and syncs all 10,000 deals;
2. push of 100 local changes: the push phase of a sync (the pull that follows re-reads
   every deal and is reported separately, as the full sync);
3. GET a page of 100 deals, 20 concurrent clients: p50 and p95 latency, back to back
   (each client sends its next request as soon as the last is answered), with 1 and 2
   server workers. The goal is measured with a lean load generator (asyncio, one
   keep-alive connection per client, like wrk): 20 httpx clients in threads of one
   Python process queue on its GIL for ~13 ms a request even against a server that
   answers at once, so they measure mostly themselves. Their figure is printed beside it.
4. reads while someone writes, on Postgres and on SQLite: 20 lean clients list pages of a
   5,000-deal workspace back to back, alone and then while 2 clients write ~2 deals/s
   each (value and stage changes, creates, deletes) to the same workspace, one server
   worker: list req/s, p50 and p99, write p50 and p99, the server's CPU; then the same
   writes with nobody reading (the floor the machine allows at the time: it is shared).
   A writer reads the list after each create, and its new deal must be there.
   ``--mix-only`` runs only this (about a minute); ``--server-root DIR`` serves from
   another checkout, for a before/after on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

# The code under test: this checkout, or the one a --server-root run seeds its database with.
sys.path.insert(
    0, os.environ.get("VECTOROS_BENCH_CODE") or str(Path(__file__).resolve().parents[1])
)

from vectoros_tui.server.tokens import TokenService
from vectoros_tui.store.store import open_store
from vectoros_tui.store.validation import clean_deal
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.http import RemoteBackend
from vectoros_tui.sync.push import push as push_pending

PG_BASE_URL = os.environ.get(
    "VECTOROS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEALS = 10_000
CHANGES = 100
CLIENTS = 20
REQUESTS_PER_CLIENT = 50
GOALS = {"pull": 10.0, "push": 1.0, "page_p50_ms": 20.0}
STAGES = ("prospect", "qualified", "proposal", "negotiation", "won", "lost")


def _seed_rows(prefix: str, count: int, *, seed: int) -> list[tuple[str, dict[str, object]]]:
    """``count`` clean deals with source ids ``prefix-N``, the same for the same seed."""
    rng = random.Random(seed)
    return [
        (
            f"{prefix}-{n}",
            clean_deal(
                {
                    "title": f"Deal {n}",
                    "company": f"Company {n % 700}",
                    "value": rng.randint(1, 500) * 100,
                    "stage": rng.choice(STAGES),
                    "lost_reason": None,
                }
            ),
        )
        for n in range(count)
    ]


def _dsn() -> str:
    return PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_BASE_URL else "?"
    return f"{PG_BASE_URL}{separator}options=-csearch_path%3D{schema}"


def _serve(
    url: str, workers: int = 1, root: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`vectoros --db URL serve --workers N` on a free port, once /health answers; with
    ``root``, the server of that checkout (e.g. an older commit's, for a before/after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "vectoros_tui", "--db", url, "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    env = None
    if root is not None:
        env = {**os.environ, "PYTHONPATH": str(root)}
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root, env=env
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("vectoros serve did not start")
        time.sleep(0.1)


def _summary(latencies: list[float], wall: float) -> tuple[float, float, float]:
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000
    return p50, p95, len(latencies) / wall


async def _lean_client(port: int, token: str, path: str, seed: int, latencies: list[float]) -> None:
    """One keep-alive HTTP/1.1 connection, requests back to back; every response's status
    and length are checked, and one in ten is parsed to count its deals."""
    pick = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for n in range(REQUESTS_PER_CLIENT + 1):
            offset = pick.randrange(0, DEALS - 100)
            request = (
                f"GET {path}?limit=100&offset={offset} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            )
            started = time.perf_counter()
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            assert head.startswith(b"HTTP/1.1 200"), head
            if n % 10 == 0:
                assert len(json.loads(body)["deals"]) == 100
            if n:  # the first request only opens the connection
                latencies.append(elapsed)
    finally:
        writer.close()


def _page_latency_lean(base: str, token: str, path: str) -> tuple[float, float, float]:
    """p50 and p95 (ms) of GET a page of 100 at random offsets, CLIENTS clients back to back,
    and the requests per second they got through together."""
    port = int(base.rsplit(":", 1)[1])
    latencies: list[float] = []

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(
            *(_lean_client(port, token, path, n, latencies) for n in range(CLIENTS))
        )
        return time.perf_counter() - started

    return _summary(latencies, asyncio.run(run()))


def _page_latency_httpx(base: str, token: str, path: str) -> tuple[float, float, float]:
    """The same with httpx clients in threads (for comparison)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        pick = random.Random(seed)
        mine = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            http.get(path, params={"limit": 1})  # connect
            for _ in range(REQUESTS_PER_CLIENT):
                offset = pick.randrange(0, DEALS - 100)
                started = time.perf_counter()
                reply = http.get(path, params={"limit": 100, "offset": offset})
                mine.append(time.perf_counter() - started)
                assert reply.status_code == 200 and len(reply.json()["deals"]) == 100
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(latencies, time.perf_counter() - started)


def _line(label: str, value: float, goal: float, unit: str) -> bool:
    meets = value <= goal
    verdict = "meets" if meets else "MISSES"
    print(f"{label:<46} {value:>9.3f} {unit:<3} goal <= {goal:g} {unit:<3} {verdict}")
    return meets


# --- reads while someone writes -----------------------------------------------------------

MIX_DEALS = 5_000
MIX_READERS = 20
MIX_WRITERS = 2
WRITES_PER_WRITER_S = 2.0
MIX_GOALS = {"list_p50_ms": 20.0, "write_p50_ms": 30.0}


def _percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of them lie (nearest rank), in ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


class _Connection:
    """One keep-alive HTTP/1.1 connection of the lean load generator."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> _Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.writer is not None
        self.writer.close()

    async def send(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
        )
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        reply = await self.reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in reply.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        payload = await self.reader.readexactly(length)
        return int(reply.split(b" ", 2)[1]), payload


async def _mix_reader(
    port: int, token: str, path: str, seed: int, until: float, latencies: list[float]
) -> None:
    """Pages of 100 at random offsets, back to back, until ``until``."""
    pick = random.Random(seed)
    async with _Connection(port, token) as http:
        await http.send("GET", f"{path}?limit=1")  # opens the connection
        n = 0
        while time.perf_counter() < until:
            offset = pick.randrange(0, MIX_DEALS - 100)
            started = time.perf_counter()
            status, body = await http.send("GET", f"{path}?limit=100&offset={offset}")
            latencies.append(time.perf_counter() - started)
            assert status == 200, body[:200]
            if n % 10 == 0:
                assert len(json.loads(body)["deals"]) == 100
            n += 1


async def _mix_writer(
    port: int,
    token: str,
    workspace_id: str,
    mine: list[str],
    seed: int,
    until: float,
    latencies: list[float],
    misses: list[str],
) -> None:
    """~WRITES_PER_WRITER_S writes a second, in turn: a value change, a stage change, a new
    deal, the delete of the deal it created last (the workspace keeps its size). After a
    create it reads the last page of the list, which must hold the new deal: a writer sees
    its own acknowledged write (misses are reported)."""
    pick = random.Random(seed)
    path = f"/api/v1/workspaces/{workspace_id}/deals"
    created: list[str] = []
    async with _Connection(port, token) as http:
        status, body = await http.send("GET", f"{path}?limit=1")
        total = json.loads(body)["total"]
        step = 1 / WRITES_PER_WRITER_S
        next_at = time.perf_counter() + pick.random() * step
        n = 0
        while True:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if time.perf_counter() >= until:
                return
            next_at = max(next_at + step, time.perf_counter())
            kind = n % 4
            n += 1
            deal = pick.choice(mine)
            request: tuple[str, str, dict[str, Any] | None]
            if kind == 0:
                request = ("PUT", f"/api/v1/deals/{deal}", {"value": pick.randint(1, 500) * 100})
            elif kind == 1:
                request = ("PUT", f"/api/v1/deals/{deal}", {"stage": pick.choice(STAGES[:4])})
            elif kind == 2:
                body_in = {"workspaceId": workspace_id, "title": f"New {seed}-{n}"}
                request = ("POST", "/api/v1/deals", {**body_in, "stage": "prospect"})
            else:
                request = ("DELETE", f"/api/v1/deals/{created.pop()}", None)
            started = time.perf_counter()
            status, body = await http.send(*request)
            latencies.append(time.perf_counter() - started)
            assert status in (200, 201, 204), (request, status, body[:200])
            if kind == 2:
                new_id = json.loads(body)["id"]
                created.append(new_id)
                status, body = await http.send(
                    "GET", f"{path}?limit=100&offset={max(0, total - 90)}"
                )
                page = json.loads(body)
                total = page["total"]
                if new_id not in {d["id"] for d in page["deals"]}:
                    misses.append(new_id)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class MixFigures:
    reads: int
    list_rate: float
    list_p50: float
    list_p99: float
    writes: int = 0
    write_p50: float = float("nan")
    write_p99: float = float("nan")
    misses: int = 0
    server_cpu: float = 0.0  # of one core
    client_cpu: float = 0.0  # the load generator's


def _run_mix(
    server: subprocess.Popen[bytes],
    base: str,
    token: str,
    workspace_id: str,
    mine: list[list[str]],
    seconds: float,
    writers: int,
    readers: int = MIX_READERS,
) -> MixFigures:
    port = int(base.rsplit(":", 1)[1])
    path = f"/api/v1/workspaces/{workspace_id}/deals"
    reads: list[float] = []
    writes: list[float] = []
    misses: list[str] = []

    async def run() -> float:
        until = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_mix_reader(port, token, path, n, until, reads) for n in range(readers)),
            *(
                _mix_writer(port, token, workspace_id, mine[n], 100 + n, until, writes, misses)
                for n in range(writers)
            ),
        )
        return time.perf_counter() - started

    cpu = _cpu_seconds(server.pid)
    mine_cpu = time.process_time()
    wall = asyncio.run(run())
    cpu = _cpu_seconds(server.pid) - cpu
    mine_cpu = time.process_time() - mine_cpu
    return MixFigures(
        len(reads),
        len(reads) / wall,
        _percentile(reads, 0.50),
        _percentile(reads, 0.99),
        len(writes),
        _percentile(writes, 0.50),
        _percentile(writes, 0.99),
        len(misses),
        cpu / wall,
        mine_cpu / wall,
    )


def _seed_mix(url: str, root: Path | None = None) -> tuple[str, str, list[list[str]]]:
    """A workspace of MIX_DEALS deals; its owner's token; the deals each writer changes.
    With ``root``, by that checkout's code (which migrates the database to its own schema,
    the one its server expects)."""
    if root is not None:
        env = {**os.environ, "VECTOROS_BENCH_CODE": str(root), "PYTHONPATH": str(root)}
        command = [sys.executable, str(Path(__file__).resolve()), "--seed-mix", url]
        seeded = subprocess.run(command, env=env, cwd=root, check=True, capture_output=True)
        workspace_id, token, mine = json.loads(seeded.stdout.decode().splitlines()[-1])
        return workspace_id, token, mine
    store = open_store(url)
    try:
        workspace = store.workspaces.create("Mix", owner_email="mix@example.com")
        rows = _seed_rows("mix", MIX_DEALS, seed=11)
        store.deals.upsert_many(workspace.id, rows)
        token = TokenService(store.db).create("mix@example.com", "bench-mix")[1]
        ids = [str(d.id) for d in store.deals.list(workspace.id, limit=MIX_DEALS).deals]
        return str(workspace.id), token, [ids[n:400:MIX_WRITERS] for n in range(MIX_WRITERS)]
    finally:
        store.close()


def mix(label: str, url: str, seconds: float, server_root: Path | None) -> list[bool]:
    """20 readers alone, then 20 readers and 2 writers, then the 2 writers alone, against one
    server process."""
    workspace_id, token, mine = _seed_mix(url, server_root)
    server, base = _serve(url, root=server_root)
    try:
        # Warm-up: the worker builds its list.
        _run_mix(server, base, token, workspace_id, mine, 2.0, writers=0)
        alone = _run_mix(server, base, token, workspace_id, mine, seconds, writers=0)
        both = _run_mix(server, base, token, workspace_id, mine, seconds, writers=MIX_WRITERS)
        # The floor on this machine now: the same writes with nobody reading.
        bare = _run_mix(
            server, base, token, workspace_id, mine, seconds, writers=MIX_WRITERS, readers=0
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"{label}: {MIX_READERS} readers of a {MIX_DEALS:,}-deal workspace, {seconds:g} s each "
        f"(load average {load} on {os.cpu_count()} cores)"
    )
    print(
        f"  readers only:       {alone.list_rate:7.0f} req/s, list p50 {alone.list_p50:6.1f} ms, "
        f"p99 {alone.list_p99:6.1f} ms; CPU: server {alone.server_cpu:.0%}, clients "
        f"{alone.client_cpu:.0%} of a core"
    )
    print(
        f"  + {MIX_WRITERS} writers:        {both.list_rate:7.0f} req/s, list p50 "
        f"{both.list_p50:6.1f} ms, p99 {both.list_p99:6.1f} ms; CPU: server "
        f"{both.server_cpu:.0%}, clients {both.client_cpu:.0%} of a core"
    )
    print(
        f"  writes:             {both.writes / seconds:7.1f} /s,    write p50 "
        f"{both.write_p50:6.1f} ms, p99 {both.write_p99:6.1f} ms; "
        f"own creates missing from the next page: {both.misses}"
    )
    print(
        f"  writes, no readers: {bare.writes / seconds:7.1f} /s,    write p50 "
        f"{bare.write_p50:6.1f} ms, p99 {bare.write_p99:6.1f} ms"
    )
    results = [
        _line(
            f"  list p50 with {MIX_WRITERS} writers", both.list_p50, MIX_GOALS["list_p50_ms"], "ms"
        ),
        _line(
            f"  write p50 with {MIX_WRITERS} writers",
            both.write_p50,
            MIX_GOALS["write_p50_ms"],
            "ms",
        ),
    ]
    results.append(both.misses == 0)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--mix-only", action="store_true", help="only reads while someone writes (section 4)"
    )
    parser.add_argument(
        "--mix-db",
        choices=("postgres", "sqlite", "both"),
        default="both",
        help="the databases of the mix (default both)",
    )
    parser.add_argument(
        "--mix-seconds", type=float, default=10.0, help="length of each mix run (default 10)"
    )
    parser.add_argument(
        "--server-root",
        type=Path,
        default=None,
        help="serve from this checkout (e.g. a git worktree of an older commit) instead",
    )
    parser.add_argument("--seed-mix", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_mix:  # the seeding step of a --server-root run, in that checkout's code
        print(json.dumps(_seed_mix(args.seed_mix)))
        return 0
    results: list[bool] = []
    if not args.mix_only:
        results += sync_and_pages()
    if args.mix_db in ("postgres", "both"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            results += mix("Postgres", _schema_url(schema), args.mix_seconds, args.server_root)
        finally:
            with psycopg.connect(_dsn(), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    if args.mix_db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'mix.sqlite3'}"
            results += mix("SQLite", url, args.mix_seconds, args.server_root)
    return 1 if args.strict and not all(results) else 0


def sync_and_pages() -> list[bool]:
    """Sections 1-3 (Postgres, 10,000 deals)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = _schema_url(schema)
    results: list[bool] = []
    try:
        store = open_store(url)
        remote_ws = store.workspaces.create("Bench", owner_email="rep@example.com")
        rows = _seed_rows("seed", DEALS, seed=7)
        started = time.perf_counter()
        store.deals.upsert_many(remote_ws.id, rows)
        print(f"seeded {DEALS} deals in {time.perf_counter() - started:.1f} s (Postgres {schema})")
        token = TokenService(store.db).create("rep@example.com", "bench")[1]
        server, base = _serve(url)
        try:
            with tempfile.TemporaryDirectory() as folder:
                local = open_store(f"sqlite:///{Path(folder) / 'rep.sqlite3'}")
                workspace = local.workspaces.create("Mine")
                engine = SyncEngine(local.db)
                engine.link(workspace.id, base, str(remote_ws.id), "documented")
                with RemoteBackend(base, token, "documented", sleep=lambda s: None) as remote:
                    started = time.perf_counter()
                    report = engine.sync(workspace.id, remote)
                    pull = time.perf_counter() - started
                    assert report.pulled_created == DEALS, report.to_api()
                    results.append(
                        _line(f"initial pull of {DEALS:,} deals", pull, GOALS["pull"], "s")
                    )

                    deals = local.deals.list(workspace.id, limit=CHANGES).deals
                    for deal in deals:
                        local.deals.update(deal.id, {"value": deal.value + 1})
                    with local.db.read() as session:
                        pending = engine._pending_ids(session, workspace.id)
                    assert len(pending) == CHANGES
                    remote_id = str(remote_ws.id)
                    started = time.perf_counter()
                    # The push phase of SyncEngine.sync.
                    push_pending(
                        local.db, engine.clock, workspace.id, remote_id, pending, remote, report
                    )
                    push = time.perf_counter() - started
                    results.append(
                        _line(f"push of {CHANGES} local changes", push, GOALS["push"], "s")
                    )
                    for deal in local.deals.list(workspace.id, limit=CHANGES).deals:
                        local.deals.update(deal.id, {"value": deal.value + 1})
                    started = time.perf_counter()
                    engine.sync(workspace.id, remote)
                    full = time.perf_counter() - started
                    print(f"{'(info) full sync with 100 changes (push + pull)':<46} {full:>9.3f} s")
                local.close()

            path = f"/api/v1/workspaces/{remote_ws.id}/deals"
            label = f"list page of 100, {CLIENTS} concurrent clients, p50"
            for workers in (1, 2):
                if workers > 1:
                    server.terminate()
                    server.wait(timeout=30)
                    server, base = _serve(url, workers)
                _page_latency_lean(base, token, path)  # warm-up: the worker builds its list
                p50, p95, rate = _page_latency_lean(base, token, path)
                results.append(
                    _line(
                        f"{label} ({workers} worker{'s'[: workers - 1]})",
                        p50,
                        GOALS["page_p50_ms"],
                        "ms",
                    )
                )
                print(f"{'(info)   p95':<46} {p95:>9.3f} ms")
                print(f"{'(info)   throughput':<46} {rate:>9.1f} req/s")
                p50, p95, rate = _page_latency_httpx(base, token, path)
                print(
                    f"{'(info)   httpx clients in threads instead':<46} p50 {p50:.1f} ms, "
                    f"p95 {p95:.1f} ms, {rate:.0f} req/s"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
            store.close()
    finally:
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return results


if __name__ == "__main__":
    sys.exit(main())
