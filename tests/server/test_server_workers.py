"""`vectoros serve --workers N`: several processes on one port, each building the app from
the settings, and keep-alive connections answered without Nagle's 40 ms delay."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from vectoros_tui.server.tokens import TokenService
from vectoros_tui.server.workers import APP_FACTORY, SWITCH_INTERVAL_S, _NoDelayConfig
from vectoros_tui.store.store import open_store


def test_the_shared_listener_gives_connections_tcp_nodelay() -> None:
    """uvicorn binds the workers' listener with proto 0, and asyncio then leaves Nagle on
    for every accepted connection (uvicorn issue #3149); ours is re-wrapped as TCP."""
    config = _NoDelayConfig(APP_FACTORY, factory=True, host="127.0.0.1", port=0, workers=2)
    listener = config.bind_socket()
    accepted: list[int] = []

    async def main() -> None:
        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            for _ in range(100):
                if accepted:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    try:
        assert listener.proto == socket.IPPROTO_TCP
        asyncio.run(main())
    finally:
        listener.close()
    assert accepted and accepted[0] != 0


def test_serve_with_two_workers_answers_from_the_settings_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.sqlite3'}"
    store = open_store(url)
    workspace = store.workspaces.create("Team", owner_email="ann@example.com")
    secret = TokenService(store.db).create("ann@example.com", "laptop")[1]
    store.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "VECTOROS_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "vectoros_tui", "--db", url, "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "vectoros serve --workers 2 did not start"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=base, headers=auth) as http:
            for _ in range(6):  # new connections: the kernel spreads them over the workers
                listed = httpx.get(f"{base}/api/v1/workspaces", headers=auth).json()
                assert [w["id"] for w in listed["workspaces"]] == [str(workspace.id)]
            assert http.get("/api/v1/users/me").json()["email"] == "ann@example.com"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert b"2 workers" in err
    assert b"similar-deal search answers 503" in err  # no Qdrant server configured


def test_a_worker_process_switches_threads_at_the_servers_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker tunes its interpreter before building the app (see SWITCH_INTERVAL_S)."""
    from vectoros_tui.server.app import app_from_settings

    before = sys.getswitchinterval()
    monkeypatch.setenv("VECTOROS_DATABASE_URL", f"sqlite:///{tmp_path / 'team.sqlite3'}")
    try:
        sys.setswitchinterval(0.0005)  # as the app sets it for its own threads
        app_from_settings()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    finally:
        sys.setswitchinterval(before)
