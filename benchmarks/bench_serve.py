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
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vectoros_tui.server.tokens import TokenService
from vectoros_tui.store.store import open_store
from vectoros_tui.store.validation import clean_deal
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.http import RemoteBackend

PG_BASE_URL = os.environ.get(
    "VECTOROS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEALS = 10_000
CHANGES = 100
CLIENTS = 20
REQUESTS_PER_CLIENT = 50
GOALS = {"pull": 10.0, "push": 1.0, "page_p50_ms": 20.0}
STAGES = ("prospect", "qualified", "proposal", "negotiation", "won", "lost")


def _dsn() -> str:
    return PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_BASE_URL else "?"
    return f"{PG_BASE_URL}{separator}options=-csearch_path%3D{schema}"


def _serve(url: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`vectoros --db URL serve --workers N` on a free port, once /health answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "vectoros_tui", "--db", url, "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = _schema_url(schema)
    results: list[bool] = []
    try:
        store = open_store(url)
        remote_ws = store.workspaces.create("Bench", owner_email="rep@example.com")
        rng = random.Random(7)
        rows = [
            (
                f"seed-{n}",
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
            for n in range(DEALS)
        ]
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
                    engine._push(workspace.id, remote_id, pending, remote, report)
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
    return 1 if args.strict and not all(results) else 0


if __name__ == "__main__":
    sys.exit(main())
