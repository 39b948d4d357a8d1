"""A real `vectoros sync` process killed (SIGKILL) half-way through a push, then run again:
nothing lost, nothing duplicated. The fake backend (fake_backends.py) stands in for the
team's Node service; the client is the real entry point in a child process."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_backends import FakeBackend, Fault

from vectoros_tui.store.store import open_store
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.http import RemoteBackend

DEALS = 6


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sync_killed_mid_push_then_rerun(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rep.sqlite3'}"
    store = open_store(url)
    with FakeBackend("deployed") as server:
        remote_ws = server.add_workspace("Team")["id"]
        ws = store.workspaces.create("Team")
        engine = SyncEngine(store.db)
        engine.link(ws.id, server.url, remote_ws, "deployed")
        for i in range(DEALS):
            store.deals.create(ws.id, {"title": f"Deal {i}", "stage": "proposal"})
        # The fourth create hangs on the server: the child is killed while it waits.
        server.faults.append(dataclasses.replace(Fault.delay(30, match="POST"), skip=3))
        env = {
            **os.environ,
            "VECTOROS_HOME": str(tmp_path / "home"),
            "VECTOROS_API_TOKEN": server.token,
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "vectoros_tui", "--db", url, "sync"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while server.count("POST") < 4:
                assert child.poll() is None, child.stderr.read() if child.stderr else ""
                assert time.monotonic() < deadline, "the child never reached the 4th create"
                time.sleep(0.05)
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
            if child.stderr:
                child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        # Pushes run side by side: the others went on while the fourth hung, and the kill
        # may come before the client noted some of them as done (those stay queued, and
        # the next run recognises them as already there).
        stored = len(server.deals_in(remote_ws))
        assert 3 <= stored < DEALS  # the hung create never made it
        pending = engine.status(ws.id).pending
        assert DEALS - stored <= pending <= DEALS
        server.faults.clear()
        with RemoteBackend(server.url, server.token, "deployed", sleep=lambda _s: None) as backend:
            report = engine.sync(ws.id, backend)
        titles = sorted(d["title"] for d in server.deals_in(remote_ws))
        assert titles == [f"Deal {i}" for i in range(DEALS)]  # each exactly once
        assert report.pushed_created == pending
        status = engine.status(ws.id)
        assert status.pending == 0 and status.conflicts == 0
    store.close()
