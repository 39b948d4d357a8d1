"""The log file: where errors go (the terminal is for the user's output)."""

from __future__ import annotations

import logging
import os

from vectoros_tui.locations import Locations, ensure_dir
from vectoros_tui.text_safety import visible


class TerminalSafeFormatter(logging.Formatter):
    """Log lines with control characters shown as escapes: a deal title in a message must
    not drive the terminal of whoever reads the log with cat or tail."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), multiline=True)


def setup_logging(locations: Locations, level: str) -> None:
    """Log to a file in the user's log folder; the terminal is for the user's output."""
    ensure_dir(locations.log_dir)
    handler = logging.FileHandler(locations.log_file, encoding="utf-8")
    handler.setFormatter(TerminalSafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    os.chmod(locations.log_file, 0o600)
