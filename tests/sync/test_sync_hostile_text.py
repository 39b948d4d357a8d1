"""Sync is a way in too: a remote deal whose text could drive a terminal is not taken, the
report says which deal and field (without the raw characters), and the rest is pulled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_backends import FakeBackend

from vectoros_tui.store.store import Store
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.http import RemoteBackend

RAW = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture(params=["documented", "deployed"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeBackend]:
    with FakeBackend(request.param) as fake:
        yield fake


@pytest.mark.parametrize(
    "hostile", ["EVIL\x1b]0;pwned\x07", "EVIL\x1b[2J", "EVIL\x9b2J", "EVIL\u202etxt"]
)
def test_a_hostile_remote_deal_is_not_taken(
    store: Store, workspace: Any, server: FakeBackend, hostile: str
) -> None:
    remote_ws = server.add_workspace("Team")["id"]
    server.add_deal(remote_ws, title="Plain renewal", stage="proposal", value=1000)
    server.add_deal(remote_ws, title=hostile, stage="proposal", value=2000)
    server.add_deal(remote_ws, title="Fine", company=hostile, stage="proposal", value=3000)
    engine = SyncEngine(store.db)
    engine.link(workspace.id, server.url, remote_ws, server.dialect)
    with RemoteBackend(
        server.url, server.token, server.dialect, sleep=lambda _s: None, timeout=2.0
    ) as backend:
        report = engine.sync(workspace.id, backend)
    titles = [d.title for d in store.deals.list(workspace.id, limit=100).deals]
    assert titles == ["Plain renewal"]
    problems = "\n".join(report.problems)
    assert "title: contains the" in problems and "company: contains the" in problems
    assert not [c for c in RAW if c in problems]
