"""Long loops of a background read, cut into slices with a pause between them, so the
thread the rep is waiting on gets the interpreter (see the app's foreground module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def paused_slices(
    items: Sequence[T], size: int, pause: Callable[[], None] | None
) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``, calling ``pause`` between two; without a pause,
    all of them as one."""
    if pause is None:
        yield items
        return
    for start in range(0, len(items), size):
        if start:
            pause()
        yield items[start : start + size]
