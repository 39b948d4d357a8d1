"""Fixtures for similar-deal search: one real model per session, real indexes.

The model (all-MiniLM-L6-v2 int8 from the installed packages) is loaded once and shared;
every test gets its own index, parametrised over Qdrant Edge in a tmp folder and
qdrant-client's in-memory mode, and its own store (SQLite and Postgres, from
``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import Locations
from vectoros_tui.similar.embedder import Embedder
from vectoros_tui.similar.index import EdgeIndex, VectorIndex
from vectoros_tui.similar.service import SimilarDeals, model_choice
from vectoros_tui.store.store import Store

from .similar_data import IndexFactory, memory_index


@pytest.fixture(scope="session")
def similar_locations(tmp_path_factory: pytest.TempPathFactory) -> Locations:
    root = tmp_path_factory.mktemp("similar-home")
    return Locations(root / "config", root / "data", root / "cache", root / "logs")


@pytest.fixture(autouse=True)
def _model_in_home(model_in_home: Path) -> None:
    """Every test here may run the built-in model from the app's folders."""


@pytest.fixture(scope="session")
def embedder(similar_locations: Locations, link_model: Callable[[Path], None]) -> Embedder:
    """The built-in model, loaded once for the whole session."""
    link_model(similar_locations.cache_dir)
    model = Embedder(model_choice(SimilarSettings(), similar_locations))
    model.load()
    return model


@pytest.fixture(params=["edge", "memory"])
def index_factory(request: pytest.FixtureRequest, tmp_path: Path) -> IndexFactory:
    """``(dimension, rebuild) -> VectorIndex``: Qdrant Edge in a tmp folder, or in memory."""
    if request.param == "edge":
        folder = tmp_path / "vector-index"

        def edge(dimension: int, rebuild: bool) -> VectorIndex:
            return EdgeIndex(folder, dimension, rebuild=rebuild)

        return edge
    return memory_index


@pytest.fixture
def make_service(
    store: Store, similar_locations: Locations, embedder: Embedder, index_factory: IndexFactory
) -> Iterator[Callable[[], SimilarDeals]]:
    made: list[SimilarDeals] = []

    def make() -> SimilarDeals:
        service = SimilarDeals(
            store,
            SimilarSettings(),
            similar_locations,
            embedder=embedder,
            index_factory=index_factory,
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture
def service(make_service: Callable[[], SimilarDeals]) -> SimilarDeals:
    return make_service()
