"""The log file: where errors go (the terminal is for the user's output)."""

from __future__ import annotations

import logging
import os

from vectoros_tui.locations import Locations, ensure_dir


def setup_logging(locations: Locations, level: str) -> None:
    """Log to a file in the user's log folder; the terminal is for the user's output."""
    ensure_dir(locations.log_dir)
    handler = logging.FileHandler(locations.log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    os.chmod(locations.log_file, 0o600)
