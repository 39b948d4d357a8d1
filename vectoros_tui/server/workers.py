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
# The endpoints run in a thread pool; a thread back from a database round trip waits for
# the GIL while another parses JSON, up to the switch interval (5 ms by default) each
# time. At 0.5 ms a push of 100 changes took 0.76 s instead of 0.92 s against 1,000 deals
# (mean of 6 runs; against 10,000 deals 0.95 vs 0.97 s, within the noise).
SWITCH_INTERVAL_S = 0.0005


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
