"""The backend behind every route of `vectoros serve`: the store, the token service and the
similar-deal service of one app, each opened on first use.

Its own module so that the app, the route dependencies and the in-memory deal pages all
share it without importing one another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from vectoros_tui.server.tokens import TokenService
from vectoros_tui.store.store import Store, open_store

if TYPE_CHECKING:
    from vectoros_tui.config import Settings
    from vectoros_tui.similar.service import SimilarDeals

SimilarFactory = Callable[[Store], "SimilarDeals"]


class Backend:
    """The app's store, token service and similar-deal service, each opened on first use
    (so the server starts, and ``/health`` answers, while the database is down)."""

    def __init__(
        self,
        database_url: str,
        settings: Settings | None,
        similar_factory: SimilarFactory | None,
        upgrade: bool,
    ) -> None:
        self.database_url = database_url
        self.settings = settings
        self.similar_factory = similar_factory
        self.upgrade = upgrade
        self._store: Store | None = None
        self._tokens: TokenService | None = None
        self._similar: SimilarDeals | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.database_url, upgrade=self.upgrade)
                self._tokens = TokenService(self._store.db)
            return self._store

    def tokens(self) -> TokenService:
        self.store()
        assert self._tokens is not None
        return self._tokens

    def similar(self) -> SimilarDeals:
        store = self.store()
        with self._lock:
            if self._similar is None:
                if self.similar_factory is not None:
                    self._similar = self.similar_factory(store)
                else:
                    from vectoros_tui.config import Settings
                    from vectoros_tui.locations import current_locations
                    from vectoros_tui.similar.service import SimilarDeals

                    settings = self.settings or Settings()
                    self._similar = SimilarDeals(store, settings.similar, current_locations())
            return self._similar

    def close(self) -> None:
        with self._lock:
            if self._similar is not None:
                self._similar.close()
                self._similar = None
            if self._store is not None:
                self._store.close()
                self._store = None
