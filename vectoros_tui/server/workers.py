"""Several server processes on one port (`vectoros serve --workers N`).

uvicorn's own multi-worker mode binds the listening socket with ``proto`` 0; accepted
connections inherit it and asyncio then skips TCP_NODELAY, so every keep-alive request
after the first waits ~40 ms for a delayed ACK (uvicorn issue #3149, still in 0.54). The
listener here is re-wrapped as IPPROTO_TCP before the workers inherit it.
"""

from __future__ import annotations

import contextlib
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

APP_FACTORY = "vectoros_tui.server.app:app_from_settings"
# The endpoints run in a thread pool while the event loop answers list pages. A write's
# thread gets the GIL in slices of the switch interval: at 0.5 ms each write was chopped
# into many slices, each followed by a wait for the loop's turn to end. Measured in one
# run on 2 cores (20 readers listing a 5,000-deal workspace, 2 writers): write p50
# 32.9 ms (Postgres) and 28.1 ms (SQLite) at 0.5 ms, 23.5 and 21.4 ms at 5 ms; a push of
# 100 changes 0.99 vs 0.83 s; list p50 with 2 workers 10.7 vs 4.9 ms. 5 ms is CPython's
# default; a server worker sets it whatever the process it starts in had set.
SWITCH_INTERVAL_S = 0.005


def tune_interpreter() -> None:
    """Settings for a server process (each worker calls it; never the TUI's process)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


class _NoDelayConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            tcp.set_inheritable(True)
            return tcp
        return sock


def serve_in_workers(host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Run ``workers`` processes of the app (each builds it from the settings)."""
    config = _NoDelayConfig(
        APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level=log_level
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the workers stop with us
        Multiprocess(config, sockets=[config.bind_socket()]).run()
