"""A forecast window written like ``30d``, read without numpy (the answer read back from a
kept forecast needs it before anything heavy is imported)."""

from __future__ import annotations

import re
from typing import Final


class ForecastInputError(ValueError):
    """A forecast argument the engine cannot use; the message says which.

    Bad deal fields are :class:`~vectoros_tui.engine.deal_record.DealInputError`, raised
    where the record is built.
    """


MAX_TIMEFRAME_DAYS: Final = 9999
_TIMEFRAME_PATTERN: Final = re.compile(r"(\d{1,9})d", re.IGNORECASE)


def parse_timeframe(timeframe: object) -> int:
    """Days in a window written like ``30d`` (any positive whole number of days)."""
    text = timeframe.strip() if isinstance(timeframe, str) else None
    match = _TIMEFRAME_PATTERN.fullmatch(text) if text is not None else None
    days = int(match.group(1)) if match else 0
    if days <= 0:
        raise ForecastInputError(f"timeframe must look like 30d, 60d or 90d (got {timeframe!r})")
    if days > MAX_TIMEFRAME_DAYS:
        # The config's bound too: the same window is refused everywhere (CLI, app, server).
        raise ForecastInputError(
            f"timeframe is at most {MAX_TIMEFRAME_DAYS}d, about 27 years (got {timeframe!r})"
        )
    return days
