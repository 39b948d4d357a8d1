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
        # Awaited work asked for but not started yet counts as running until this
        # (monotonic) moment: see expect().
        self._expected_until = 0.0
        self._idle = threading.Condition()

    @property
    def busy(self) -> bool:
        return self._running > 0 or time.monotonic() < self._expected_until

    def expect(self, within: float = 1.0) -> None:
        """Awaited work has been asked for and starts soon (a worker thread not running
        yet): background work steps aside from now, as if it ran, until it starts or
        ``within`` seconds pass. A save's forecast starts after the save's own thread has
        gone on to read the editor's timeline; without this, the two shared the CPU."""
        with self._idle:
            self._expected_until = max(self._expected_until, time.monotonic() + within)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around work a rep is waiting for."""
        with self._idle:
            self._running += 1
            self._expected_until = 0.0  # what was expected has arrived
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                if not self._running:
                    self._idle.notify_all()

    def step_aside(self, limit: float = 2.0) -> None:
        """Wait while awaited work runs or is expected (at most ``limit`` seconds)."""
        if not self.busy:  # the usual case, without taking the lock
            return
        deadline = time.monotonic() + limit
        with self._idle:
            while self.busy:
                now = time.monotonic()
                if now >= deadline:
                    return
                # An expectation lapses without a notice: wake up when it does.
                wake = deadline if self._running else min(deadline, self._expected_until)
                self._idle.wait(max(wake - now, 0.0))

    def pauser(self, budget: float = 3.0) -> Callable[[], None]:
        """A ``step_aside`` for one piece of background work, which waits at most
        ``budget`` seconds in all, however many times it is called."""
        left = budget

        def pause() -> None:
            nonlocal left
            if not self.busy or left <= 0:
                return
            started = time.monotonic()
            self.step_aside(left)
            left -= time.monotonic() - started

        return pause


# The app's one: its screens run awaited work, its session's loads step aside.
FOREGROUND = Foreground()
