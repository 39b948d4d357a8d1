"""Several server processes on one port (`vectoros serve --workers N`).

uvicorn's own multi-worker mode binds the listening socket with ``proto`` 0; accepted
connections inherit it and asyncio then skips TCP_NODELAY, so every keep-alive request
after the first waits ~40 ms for a delayed ACK (uvicorn issue #3149, still in 0.54). The
listener here is re-wrapped as IPPROTO_TCP before the workers inherit it.
"""

from __future__ import annotations

import contextlib
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP_FACTORY = "vectoros_tui.server.app:app_from_settings"


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
