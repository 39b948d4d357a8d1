"""The workspace a rep last chose, per database, remembered between runs.

Only the standard library: the app reads it before its first frame, before SQLAlchemy
is loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"

log = logging.getLogger(__name__)


class LastWorkspace:
    """The workspace a rep last chose, per database, kept in ``state.json`` in the data
    folder (mode 0600), so that with several workspaces a command without ``--workspace``
    means the one used last, in the CLI and in the app alike.

    The file maps a SHA-256 of the database URL to a workspace id, so one data folder
    serves several databases (``--db``) and a Postgres password never lands in it. It is
    a convenience: an unreadable or corrupt file reads as "none", and a failed write is
    logged, never raised. Only the standard library: the app reads it before its first
    frame.
    """

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.path = data_dir / STATE_FILE
        self.key = hashlib.sha256(database_url.encode("utf-8")).hexdigest()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self) -> str | None:
        """The remembered workspace id, or None."""
        chosen = self._read().get("last_workspace", {})
        value = chosen.get(self.key) if isinstance(chosen, dict) else None
        return value if isinstance(value, str) and value else None

    def set(self, workspace_id: uuid.UUID | str | None) -> None:
        """Remember ``workspace_id`` (None forgets)."""
        data = self._read()
        chosen = data.get("last_workspace")
        chosen = dict(chosen) if isinstance(chosen, dict) else {}
        if workspace_id is None:
            chosen.pop(self.key, None)
        else:
            chosen[self.key] = str(workspace_id)
        data.update(version=1, last_workspace=chosen)
        try:
            self._write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            log.warning("cannot remember the workspace in %s: %s", self.path, exc)

    def _write(self, text: str) -> None:
        # Written beside the file and renamed over it: two commands finishing at once
        # leave one whole file, never a mix; created 0600 whatever the umask.
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(partial, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
