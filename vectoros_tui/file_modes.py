"""Files this process creates are its user's alone."""

from __future__ import annotations

import os

# Deal data is confidential on a shared server: whatever this process creates (the SQLite
# file and its -wal/-shm, the vector index, exports, logs, caches) is the user's alone,
# wherever it is (a --db path in a shared folder too). Group and others get no bits.
PRIVATE_UMASK = 0o077


def make_files_private() -> None:
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)
