"""The team backend (`vectoros serve`) started for real: uvicorn on 127.0.0.1, port 0, in a
thread, over SQLite and Postgres (the ``database_url`` fixture of tests/conftest.py)."""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from vectoros_tui.server.app import create_app
from vectoros_tui.server.tokens import TokenService
from vectoros_tui.store.store import Store, open_store

# The servers are plain HTTP on loopback, but every httpx.Client builds a TLS context all
# the same (loading the CA bundle): ~20 ms each, 20 s of the suite's CPU. One is shared.
_TLS = ssl.create_default_context()


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Api:
    """A running server plus helpers to set up users, tokens and workspaces directly."""

    url: str
    store: Store
    clients: list[httpx.Client] = field(default_factory=list)

    def token(self, email: str, name: str = "test") -> str:
        return TokenService(self.store.db).create(email, name)[1]

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        made = httpx.Client(base_url=self.url, headers=headers, timeout=30, verify=_TLS)
        self.clients.append(made)
        return made

    def user(self, email: str) -> httpx.Client:
        return self.client(self.token(email))

    def workspace(self, owner: str, name: str = "Team") -> str:
        return str(self.store.workspaces.create(name, owner_email=owner).id)

    def close(self) -> None:
        for made in self.clients:
            made.close()


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory, link_model: Callable[[Path], None]) -> Any:
    """The built-in embedding model, loaded once."""
    from vectoros_tui.config import SimilarSettings
    from vectoros_tui.locations import Locations
    from vectoros_tui.similar.embedder import Embedder
    from vectoros_tui.similar.service import model_choice

    root = tmp_path_factory.mktemp("server-similar")
    locations = Locations(root / "config", root / "data", root / "cache", root / "logs")
    link_model(locations.cache_dir)
    model = Embedder(model_choice(SimilarSettings(), locations))
    model.load()
    return model


@pytest.fixture
def similar_factory(tmp_path: Path, embedder: Any) -> Callable[[Store], Any]:
    """SimilarDeals with the shared model and a Qdrant Edge index in a tmp folder."""
    from vectoros_tui.config import SimilarSettings
    from vectoros_tui.locations import Locations
    from vectoros_tui.similar.index import EdgeIndex
    from vectoros_tui.similar.service import SimilarDeals

    root = tmp_path / "similar"
    locations = Locations(root / "config", root / "data", root / "cache", root / "logs")

    def make(store: Store) -> SimilarDeals:
        return SimilarDeals(
            store,
            SimilarSettings(),
            locations,
            embedder=embedder,
            index_factory=lambda dim, rebuild: EdgeIndex(root / "index", dim, rebuild=rebuild),
        )

    return make


@pytest.fixture
def api(database_url: str, similar_factory: Callable[[Store], Any]) -> Iterator[Api]:
    store = open_store(database_url, upgrade=True)
    with running(create_app(database_url, similar_factory=similar_factory)) as url:
        made = Api(url, store)
        yield made
        made.close()
    store.close()


@pytest.fixture
def pg_url(pg_session_url: str, empty_pg: Callable[[], None]) -> str:
    """An empty, migrated Postgres schema (server side of the sync round trips)."""
    empty_pg()
    return pg_session_url


def new_id() -> str:
    return str(uuid.uuid4())
