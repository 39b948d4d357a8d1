"""The forecast's defaults, without pydantic: the settings take them as their defaults, and
the answer read from a kept forecast (before any settings model is imported) uses them
when there is no config."""

from __future__ import annotations

from typing import Final

FORECAST_WINDOW_DAYS: Final = 30
FORECAST_TIMEFRAME: Final = f"{FORECAST_WINDOW_DAYS}d"
FORECAST_SCENARIO: Final = "likely"
FORECAST_SIMULATIONS: Final = 10_000
# The seed the forecast screen uses, so that without --seed the CLI shows the very numbers
# the app shows for the same deals (and the same numbers on every run).
FORECAST_SEED: Final = 0
