"""Quitting the app without waiting for work nobody will see.

Textual runs thread workers in asyncio's default thread pool, which asyncio and Python
join before the process ends: a rep who quits while the history model fits a 100,000-deal
workspace would wait for the fit, minutes, at a frozen terminal. A worker's result is for
the screen, and every write is one transaction, so a worker cut off at exit loses nothing
saved: what it had not committed the database rolls back.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import termios
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final, NoReturn, TypeVar

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
    if _workers_done(threads):
        return
    logging.getLogger(__name__).info("quit while a worker was still computing; not waiting")
    _end(code)


def leave_now(threads: WorkerThreads, code: int) -> NoReturn:
    """End the process once no worker is running (after the same grace), skipping the
    app's and the interpreter's own shutdown: for a terminal that has gone away, which
    that shutdown would wait on forever, writing the terminal's settings back to it."""
    _workers_done(threads)
    _end(code)


def _workers_done(threads: WorkerThreads) -> bool:
    deadline = time.monotonic() + GRACE_SECONDS
    while threads.busy and time.monotonic() < deadline:
        time.sleep(0.02)
    return not threads.busy


def _end(code: int) -> NoReturn:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def terminal_is_gone(fd: int) -> bool:
    """Whether ``fd``'s terminal has gone away (an SSH connection dropped, a tmux server
    killed): it then fails every request with EIO. A file or pipe that never was a
    terminal is not a terminal gone."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return exc.args[0] in (errno.EIO, errno.ENXIO, errno.EBADF)
    return False
