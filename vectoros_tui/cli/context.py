"""What every command needs: settings, locations and (lazily) the store."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectoros_tui.config import ConfigError, Settings, load_settings
from vectoros_tui.identity import Identity, who_am_i
from vectoros_tui.last_workspace import LastWorkspace
from vectoros_tui.locations import Locations, current_locations, ensure_dir
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.owners import Member
from vectoros_tui.store.roles import Actor
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.urls import DatabaseURLError, normalise_database_url
from vectoros_tui.store.views import WorkspaceView

if TYPE_CHECKING:
    from vectoros_tui.similar.service import SimilarDeals


@dataclass
class CliContext:
    database_override: str | None = None
    _settings: tuple[Settings, Path] | None = field(default=None, init=False)
    _store: Store | None = field(default=None, init=False)
    _similar: Any = field(default=None, init=False)

    @property
    def locations(self) -> Locations:
        return current_locations()

    def _load(self) -> tuple[Settings, Path]:
        if self._settings is None:
            settings, path = load_settings()
            if self.database_override:
                try:
                    url = normalise_database_url(self.database_override)
                except DatabaseURLError as exc:
                    raise ConfigError(f"--db: {exc}") from None
                settings = settings.model_copy(update={"database_url": url})
            self._settings = (settings, path)
        return self._settings

    @property
    def settings(self) -> Settings:
        return self._load()[0]

    @property
    def config_file(self) -> Path:
        return self._load()[1]

    @property
    def database_url(self) -> str:
        return self.settings.resolved_database_url(self.locations)

    def prepare_default_database(self) -> None:
        """The default SQLite file lives in the data folder, which may not exist yet."""
        if self.settings.database_url is None:
            ensure_dir(self.locations.data_dir)

    def store(self, *, upgrade: bool = True) -> Store:
        if self._store is None:
            self.prepare_default_database()
            me = self.me()
            # Every change this command makes is checked against my role in its workspace.
            self._store = open_store(self.database_url, upgrade=upgrade).acting_as(
                Actor(email=me.email, name=me.name)
            )
        return self._store

    def similar(self) -> SimilarDeals:
        """The similar-deal service; its model and index open when first used."""
        if self._similar is None:
            from vectoros_tui.similar.service import SimilarDeals

            self._similar = SimilarDeals(self.store(), self.settings.similar, self.locations)
        return self._similar

    @property
    def last_workspace(self) -> LastWorkspace:
        return LastWorkspace(self.locations.data_dir, self.database_url)

    def workspace(self, ref: str | None) -> WorkspaceView:
        """The workspace a command works on: ``ref`` (-w, then remembered for the next
        commands), else the config's ``workspace``, else the one last chosen, else the
        only one. A remembered workspace that was deleted since is passed over."""
        workspaces = self.store().workspaces
        if ref and ref.strip():
            chosen = workspaces.resolve(ref)
            self.remember(chosen)
            return chosen
        if self.settings.workspace:
            return workspaces.resolve(self.settings.workspace)
        remembered = self.last_workspace.get()
        if remembered:
            with contextlib.suppress(NotFoundError):
                return workspaces.resolve(remembered)
        return workspaces.resolve(None)

    def me(self) -> Identity:
        """Who runs this command (see :mod:`vectoros_tui.identity`)."""
        user = self.settings.user
        origin = None
        if user.email:
            variable = "VECTOROS_USER__EMAIL"
            origin = variable if os.environ.get(variable) else f"{self.config_file}"
        return who_am_i(user.email, user.name, origin)

    def owner(self, workspace_id: uuid.UUID, ref: str | None) -> Member | None:
        """The member ``--owner`` names (NAME, EMAIL or me); None for all or no option."""
        if ref is None:
            return None
        return self.store().owners.resolve(workspace_id, ref, self.me().email)

    def my_member_id(self, workspace_id: uuid.UUID) -> uuid.UUID:
        """My user id in the workspace, joining it if I am not a member yet (the first
        member owns it): what a deal I create is owned by."""
        identity = self.me()
        return self.store().owners.join(workspace_id, identity.email, identity.name)

    def remember(self, workspace: WorkspaceView) -> None:
        if self.last_workspace.get() != str(workspace.id):
            self.last_workspace.set(workspace.id)

    def close(self) -> None:
        if self._similar is not None:
            self._similar.close()
            self._similar = None
        if self._store is not None:
            self._store.close()
            self._store = None


def environment_summary(ctx: CliContext) -> dict[str, Any]:
    return {**ctx.locations.as_dict(), "config_file": str(ctx.config_file)}
