"""Quitting the app without waiting for work nobody will see.

Textual runs thread workers in asyncio's default thread pool, which asyncio and Python
join before the process ends: a rep who quits while the history model fits a 100,000-deal
workspace would wait for the fit, minutes, at a frozen terminal. A worker's result is for
the screen, and every write is one transaction, so a worker cut off at exit loses nothing
saved: what it had not committed the database rolls back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final, TypeVar

T = TypeVar("T")
# Long enough for a save that is landing (milliseconds) to land.
GRACE_SECONDS: Final = 2.0


class WorkerThreads(ThreadPoolExecutor):
    """The app's thread pool for workers (asyncio's default executor): it knows whether
    any work is running, and shutting it down does not wait for that work."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="vectoros-worker")
        self._running = 0
        self._count = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        def counted() -> T:
            with self._count:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._count:
                    self._running -= 1

        return super().submit(counted)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


def leave_promptly(threads: WorkerThreads, code: int) -> None:
    """Return once no worker is running (after a short grace for one that is finishing);
    if one still is, end the process now with ``code``, logs and output flushed, instead
    of waiting for it at interpreter exit."""
    deadline = time.monotonic() + GRACE_SECONDS
    while threads.busy and time.monotonic() < deadline:
        time.sleep(0.02)
    if not threads.busy:
        return
    logging.getLogger(__name__).info("quit while a worker was still computing; not waiting")
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
