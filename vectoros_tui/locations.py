"""Every file path VectorOS uses, in one place.

Paths follow the XDG conventions through platformdirs. ``VECTOROS_HOME`` puts everything
under one folder instead (tests, demos, a second identity on a shared server). Nothing here
creates directories at import time: callers ask for a path, then ``ensure`` it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "vectoros"
# Shipped inside the package (a symlink to the repository's top-level vectoros.tcss, which
# the wheel build copies), so an installed app finds it without the source tree.
STYLESHEET_FILE = Path(__file__).with_name("vectoros.tcss")


@dataclass(frozen=True)
class Locations:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "vectoros.sqlite3"

    @property
    def vector_index_dir(self) -> Path:
        return self.data_dir / "vector-index"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "vectoros.log"

    def as_dict(self) -> dict[str, str]:
        return {
            "config_file": str(self.config_file),
            "data_dir": str(self.data_dir),
            "database_file": str(self.database_file),
            "vector_index_dir": str(self.vector_index_dir),
            "cache_dir": str(self.cache_dir),
            "log_file": str(self.log_file),
        }


def current_locations(environ: Mapping[str, str] | None = None) -> Locations:
    """Resolve locations from the environment each time (tests change it between calls)."""
    env = os.environ if environ is None else environ
    home = env.get("VECTOROS_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Locations(root / "config", root / "data", root / "cache", root / "logs")
    dirs = PlatformDirs(APP_NAME, appauthor=False)
    return Locations(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


def ensure_dir(path: Path) -> Path:
    """Create a private directory (0700: deal data is confidential on a shared server)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
