"""Work a rep is waiting for, and background work that steps aside while it runs.

Python threads share one interpreter lock. A forecast the rep had just asked for (F3),
computed while another thread read the rest of a 100,000-deal workspace, got part of the
CPU and took 1.4 s instead of about 0.5. Background loops call
:meth:`Foreground.step_aside` between chunks of their work: it returns at once when
nobody is waiting, else when the awaited work is done, or after ``limit`` seconds. A
:meth:`Foreground.pauser` bounds the waiting of a whole piece of background work, so a
rep who keeps asking for forecasts slows a load down but never holds it up for long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Foreground:
    def __init__(self) -> None:
        self._running = 0
        self._idle = threading.Condition()

    @property
    def busy(self) -> bool:
        return self._running > 0

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around work a rep is waiting for."""
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                if not self._running:
                    self._idle.notify_all()

    def step_aside(self, limit: float = 2.0) -> None:
        """Wait while awaited work runs (at most ``limit`` seconds)."""
        if not self._running:  # the usual case, without taking the lock
            return
        with self._idle:
            self._idle.wait_for(lambda: not self._running, timeout=limit)

    def pauser(self, budget: float = 3.0) -> Callable[[], None]:
        """A ``step_aside`` for one piece of background work, which waits at most
        ``budget`` seconds in all, however many times it is called."""
        left = budget

        def pause() -> None:
            nonlocal left
            if not self._running or left <= 0:
                return
            started = time.monotonic()
            self.step_aside(left)
            left -= time.monotonic() - started

        return pause


# The app's one: its screens run awaited work, its session's loads step aside.
FOREGROUND = Foreground()
