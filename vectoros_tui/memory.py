"""Keeping Python's full garbage collections away from the moments a rep is waiting.

A full collection walks every container object the process holds. Once the app is up
that is ~230,000 objects (Textual, SQLAlchemy, numpy, the widgets, a 3,000-deal
workspace) and a walk took 100-170 ms: a pause that Python starts whenever enough objects
have piled up, so it landed at random on saves, key presses and forecasts. Two changes:

- What is alive once start-up is done lives as long as the process, so it is moved out
  of the collector's sight (``gc.freeze``); later collections walk only what was made
  since (~20 ms). Garbage cycles alive at that moment are never freed: a one-off cost.
- Python no longer starts full collections itself; :class:`IdleCollector` runs them when
  they are due and the rep has not touched a key for a moment, or anyway once they are
  long overdue. Young-generation collections (a few ms) are left to Python.
- That starts before the first workspace is read, not once it has painted: reading a
  team's 100,000 deals makes hundreds of thousands of objects, and Python's own full
  collections, each walking all of them, held the interpreter lock for up to 0.8 s at a
  time. A rep who pressed F3 a second after the board appeared waited 1.3-1.7 s for the
  forecast on Postgres (0.25-0.4 s of it the forecast itself), 0.66-0.97 s now.

Nothing here changes what is freed by reference counting, which is nearly everything.

A one-shot command that reads a whole workspace (`vectoros insights`, `score`,
`forecast`) runs with no collections at all (:func:`collections_paused`): it makes
hundreds of thousands of objects that live until it ends, and the collections they set
off walked them all to free next to nothing. On a team's 100,000-deal Postgres
workspace, `vectoros insights` after a change took 1.60-1.80 s without them against
1.73-2.16 s with them (five alternating runs each), with 1.5 MB more memory at its peak.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# gc.get_count()[2] counts young collections since the last full one; Python's own rule
# starts a full collection at 10 (threshold2). Due at the same point; forced at ten times it.
FULL_COLLECTION_DUE = 10
FULL_COLLECTION_OVERDUE = 100
# Python's threshold2 is a count of young collections: this many never comes.
NEVER = 1_000_000_000
IDLE_SECONDS = 1.0
# Held without a workspace painted this long (a first load that failed, a worker that
# never ends), overdue collections run again as they do once started.
HOLD_LIMIT_SECONDS = 60.0


class IdleCollector:
    """Owns the process's full collections once :meth:`start` is called (the app's entry
    points do; tests do not, as it is process-wide, except the ones about it)."""

    def __init__(
        self,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.last_input = clock()
        self.collections = 0
        self._saved_threshold: tuple[int, int, int] | None = None
        self.frozen = False
        self._held_since = 0.0

    @property
    def started(self) -> bool:
        """Whether it runs the full collections (since :meth:`hold` or :meth:`start`)."""
        return self._saved_threshold is not None

    def hold(self) -> None:
        """Take full collections over from Python, freezing nothing yet: from before the
        store opens and the first load runs, which make many objects not all alive for
        good (the app calls it as its first frame is drawn)."""
        if self._saved_threshold is None:
            self._saved_threshold = young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, NEVER)
            self._held_since = self.clock()

    def start(self) -> None:
        """Freeze what is alive (once) and take full collections over from Python."""
        if not self.frozen:
            gc.freeze()
            self.frozen = True
        self.hold()

    def stop(self) -> None:
        """Give full collections back to Python (the frozen objects stay frozen)."""
        if self._saved_threshold is not None:
            gc.set_threshold(*self._saved_threshold)
            self._saved_threshold = None

    def input_seen(self) -> None:
        self.last_input = self.clock()

    def tick(self, busy: bool = False) -> bool:
        """Run a full collection if one is due and the rep is not waiting (no input for
        ``idle_seconds`` and nothing ``busy``), or if one is long overdue; returns whether
        it ran. Call it every half second or so.

        Held but not started (the first load running), an overdue one waits too: the
        load's objects are not frozen yet, and walking them all (0.26 s at 100,000 deals)
        landed on the F3 the rep pressed meanwhile; for :data:`HOLD_LIMIT_SECONDS` at
        most (a load that failed)."""
        if not self.started:
            return False
        pending = gc.get_count()[2]
        now = self.clock()
        quiet = not busy and now - self.last_input >= self.idle_seconds
        settled = self.frozen or now - self._held_since >= HOLD_LIMIT_SECONDS
        overdue = pending >= FULL_COLLECTION_OVERDUE and settled
        if overdue or (pending >= FULL_COLLECTION_DUE and quiet):
            gc.collect()
            self.collections += 1
            return True
        return False


@contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collections inside (see the module's docstring): for one-shot commands
    only, whose process ends soon after; as it was before, after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
