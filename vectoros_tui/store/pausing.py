"""Long loops of a background read, cut into slices with a pause between them, so the
thread the rep is waiting on gets the interpreter (see the app's foreground module)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Result

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


def paused_rows(result: Result[Any], size: int, pause: Callable[[], None] | None) -> Iterable[Any]:
    """A query's rows, fetched ``size`` at a time with ``pause`` called after each
    fetch; without a pause, fetched at once. Read in one fetch each, the last
    activities, close-date slips and funnel exits of a team's 86,000 closed deals kept a
    background load from pausing for half a second: a forecast the rep asked for
    meanwhile took 0.36-0.48 s to compute instead of 0.20-0.28."""
    if pause is None:
        return result.all()
    return _fetched_in_parts(result, size, pause)


def _fetched_in_parts(result: Result[Any], size: int, pause: Callable[[], None]) -> Iterator[Any]:
    for part in result.partitions(size):
        yield from part
        pause()
