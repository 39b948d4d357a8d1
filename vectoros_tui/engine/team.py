"""A team's forecast: every rep's band and the team's, from the same simulated runs.

Reps' totals are not independent (one market, one quarter end), and a team's P5 is not
the sum of its reps' P5s: the team's band comes from adding the reps' totals run by run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

_CHUNK_CELLS: Final = 250_000
BAND: Final = (5, 50, 95)


def by_group(values: Sequence[float], groups: Sequence[int], count: int) -> NDArray[np.float64]:
    """Deals x groups: each deal's value in its group's column."""
    matrix = np.zeros((len(values), count))
    matrix[np.arange(len(values)), np.asarray(groups, dtype=np.int64)] = values
    return matrix


def bernoulli_group_totals(
    chances: NDArray[np.float64],
    values: NDArray[np.float64],
    runs: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Runs x groups totals of independent wins (deal i wins with ``chances[i]``, to
    within 1/65536) weighted by ``values`` (deals x groups)."""
    deals = len(chances)
    totals = np.zeros((runs, values.shape[1]))
    if deals == 0 or runs <= 0:
        return totals
    thresholds = (np.clip(chances, 0.0, 1.0) * 65536.0).astype(np.float32)
    weights = values.astype(np.float32)
    rows = max(1, _CHUNK_CELLS // deals)
    for start in range(0, runs, rows):
        count = min(rows, runs - start)
        draws = rng.bit_generator.random_raw(-(-count * deals // 4)).view(np.uint16)
        wins = draws[: count * deals].reshape(count, deals) < thresholds
        totals[start : start + count] = wins.astype(np.float32) @ weights
    return totals


def band(totals: NDArray[np.float64]) -> dict[str, float]:
    p5, p50, p95 = (float(x) for x in np.percentile(totals, BAND)) if len(totals) else (0, 0, 0)
    return {
        "worst_case": round(p5, 2),
        "likely_case": round(p50, 2),
        "best_case": round(p95, 2),
        "mean_forecast": round(float(totals.mean()) if len(totals) else 0.0, 2),
    }


def team_summary(totals: NDArray[np.float64], goal: float | None = None) -> dict[str, Any]:
    """The team's band from the reps' runs added up, and its chance of reaching ``goal``."""
    team = totals.sum(axis=1)
    found: dict[str, Any] = band(team)
    if goal is not None:
        found["goal"] = goal
        found["probability_of_hitting_goal"] = round(float(np.mean(team >= goal)), 4)
    return found


def band_bar(low: float, mid: float, high: float, scale: float, width: int = 16) -> str:
    """P5 to P95 as a bar on a scale shared by the rows (``scale`` is the widest P95),
    the P50 marked."""
    scale = scale or 1.0
    start = min(round(low / scale * width), width - 1)
    end = max(round(high / scale * width), start + 1)
    middle = min(max(round(mid / scale * width), start), end - 1)
    cells = [" "] * width
    for i in range(start, min(end, width)):
        cells[i] = "━"
    if 0 <= middle < width:
        cells[middle] = "┿"
    return "".join(cells).rstrip() or "┿"
