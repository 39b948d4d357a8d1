"""The history model's simulation for a pipeline of thousands of deals, in a fraction of
the cells.

Each simulated period draws the model's parameters and a period shift shared by all deals;
given those, deals win independently. Drawing every deal in every run costs runs x deals
cells (136 million for a team's 13,600 open deals). Here only the biggest deals are drawn
one by one; the many small ones are summed as what their sum is given the parameters and
the shift, a normal with the conditional mean and variance (the central limit theorem,
with hundreds of expected wins among them). Those two moments are computed per parameter
draw on a grid of shifts and interpolated to each run's shift, so the small deals cost
draws x grid points instead of runs.

The error is measured by ``benchmarks/bench_many_deals.py`` against the full simulation
(a few tenths of a percent on P5/P50/P95, well under the runs' own Monte Carlo noise).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

# Deals drawn one by one: the biggest, whose wins make the total lumpy.
EXACT_DEALS: Final = 256
# Below this many deals, or this many expected wins among the small ones, every deal is
# drawn: the normal needs many small wins to stand for their sum. The biggest deals and
# the period shift make most of the band's shape: from 1,000 deals and 20 expected small
# wins up, the band is as close to a reference of 240,000 runs as drawing every deal gets
# (rms error of P5/P50/P95 0.3-1.6% either way, period sd 0.11 and 0.4), in a third to a
# half of the time. Below 1,000 deals drawing every one costs hundredths of a second.
MIN_DEALS: Final = 1_000
MIN_SMALL_WINS: Final = 30.0
# The shift grid spans +-GRID_SDS period standard deviations and one step more (shifts
# beyond it, under 0.3% of runs, are extrapolated linearly), and the moments are
# interpolated between its points as a cubic through the four nearest. A sum of sigmoids
# is smooth: with points 0.45 apart on the logit scale the cubic stays within 0.06% of
# the small deals' mean and variance for any shift within +-3 sd (the engine's tests
# measure it), where straight lines between points 0.15 apart were off by up to 0.24%,
# with three times the points: 23 instead of 61 at a period sd of 1.5 (workspaces whose
# periods swing the most, where the moments were most of a forecast).
GRID_SDS: Final = 3
# ... and never more than this apart on the logit scale, however much periods swing.
MAX_GRID_STEP: Final = 0.45


def worth_it(win_logit: NDArray[Any], small: NDArray[np.intp]) -> bool:
    """Whether the approximation applies: many deals, and many expected wins among the
    ``small`` ones (see :func:`split`; ``win_logit`` is draws x deals)."""
    if win_logit.shape[1] < MIN_DEALS:
        return False
    expected = (1.0 / (1.0 + np.exp(-win_logit[0, small].astype(np.float64)))).sum()
    return bool(expected >= MIN_SMALL_WINS)


def split(values: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices of the deals drawn one by one (the biggest) and of the rest."""
    size = values if values.ndim == 1 else values.sum(axis=1)
    order = np.argsort(-size, kind="stable")
    return np.sort(order[:EXACT_DEALS]), np.sort(order[EXACT_DEALS:])


# Deals per block of the moments' partial sums (see MomentReuse): a block of 200 draws x
# 256 deals is a few hundred kilobytes, which a core's cache holds through the grid.
BLOCK_DEALS: Final = 256


@dataclass(frozen=True)
class _Moments:
    grid: NDArray[np.float64]
    win_logit: NDArray[Any]
    amounts: NDArray[np.float32]
    partial: NDArray[np.float32]  # blocks x grid x 2 (mean, variance) x draws x groups


class MomentReuse:
    """The small deals' moments computed last, by blocks of :data:`BLOCK_DEALS` deals: a
    caller that simulates the same deals again and again (the forecast screen, after every
    save) computes again only the blocks holding a deal whose chance or value changed.
    Blocks are summed in the same order either way, so the totals are those computing
    every block again gives, to the bit. Kept as :class:`win_model.LogitReuse` keeps."""

    def __init__(self) -> None:
        self._last: _Moments | None = None

    def partial(
        self, grid: NDArray[np.float64], win_logit: NDArray[Any], amounts: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        last = self._last
        found = None
        if (
            last is not None
            and last.win_logit.shape == win_logit.shape
            and last.amounts.shape == amounts.shape
            and np.array_equal(last.grid, grid)
        ):
            moved = (last.win_logit != win_logit).any(axis=0) | (last.amounts != amounts).any(
                axis=1
            )
            blocks = np.unique(np.flatnonzero(moved) // BLOCK_DEALS).tolist()
            if len(blocks) <= len(last.partial) // 4:
                found = last.partial.copy()
                for block in blocks:
                    found[block] = _block_moments(grid, win_logit, amounts, block)
        if found is None:
            found = _partial_moments(grid, win_logit, amounts)
        found.flags.writeable = False
        self._last = _Moments(grid, win_logit, amounts, found)
        return found


def _block_moments(
    grid: NDArray[np.float64], win_logit: NDArray[Any], amounts: NDArray[np.float32], block: int
) -> NDArray[np.float32]:
    """One block's sums (grid x 2 x draws x groups) of value x chance (the mean) and
    value^2 x chance x (1 - chance) (the variance) of its deals winning, at each shift."""
    chosen = slice(block * BLOCK_DEALS, (block + 1) * BLOCK_DEALS)
    mine = amounts[chosen]
    squared = mine * mine
    # sigmoid(x + s) = 1 / (1 + e^-x e^-s): one exp per cell, not one per grid point.
    with np.errstate(over="ignore"):  # e^big is inf: that deal cannot win, rightly
        odds_against = np.exp(-win_logit[:, chosen].astype(np.float32))
    found = np.empty((len(grid), 2, win_logit.shape[0], amounts.shape[1]), dtype=np.float32)
    p = np.empty_like(odds_against)
    for index, shift in enumerate(grid.tolist()):
        with np.errstate(over="ignore"):  # inf odds against: p is 0, rightly
            np.multiply(odds_against, np.float32(math.exp(-shift)), out=p)
        p += 1.0
        np.reciprocal(p, out=p)
        found[index, 0] = p @ mine
        p *= 1.0 - p
        found[index, 1] = p @ squared
    return found


def _each_block(
    grid: NDArray[np.float64], win_logit: NDArray[Any], amounts: NDArray[np.float32]
) -> Iterator[NDArray[np.float32]]:
    for block in range(-(-win_logit.shape[1] // BLOCK_DEALS)):
        yield _block_moments(grid, win_logit, amounts, block)


def _partial_moments(
    grid: NDArray[np.float64], win_logit: NDArray[Any], amounts: NDArray[np.float32]
) -> NDArray[np.float32]:
    return np.stack(list(_each_block(grid, win_logit, amounts)))


def _moment_sums(
    grid: NDArray[np.float64],
    win_logit: NDArray[Any],
    amounts: NDArray[np.float32],
    reuse: MomentReuse | None,
) -> NDArray[np.float64]:
    """The small deals' moments (grid x 2 x draws x groups), block by block in one order
    whether the blocks are kept (``reuse``) or not (a team's forecast has a column per
    owner: its blocks are not kept), so the sums are the same to the bit either way."""
    blocks: Iterable[NDArray[np.float32]] = (
        _each_block(grid, win_logit, amounts)
        if reuse is None
        else reuse.partial(grid, win_logit, amounts)
    )
    summed = np.zeros((len(grid), 2, win_logit.shape[0], amounts.shape[1]))
    for block in blocks:
        summed += block
    return summed


def shift_grid(period_sd: float) -> tuple[NDArray[np.float64], float]:
    """The period shifts the small deals' moments are computed at, and their step."""
    if period_sd <= 0:
        return np.zeros(1), 0.0
    # Two steps each side at least: narrower ones buy nothing a cubic needs.
    step = min(GRID_SDS * period_sd / 2, MAX_GRID_STEP)
    # One point more each side: the cubic is least close in the grid's end steps.
    points = int(np.ceil(GRID_SDS * period_sd / step - 1e-9)) + 1
    return np.arange(-points, points + 1, dtype=np.float64) * step, step


def small_deal_totals(
    win_logit: NDArray[Any],
    values: NDArray[np.float64],
    draw_of_run: NDArray[np.intp],
    shifts: NDArray[np.float32],
    period_sd: float,
    rng: np.random.Generator,
    reuse: MomentReuse | None = None,
) -> NDArray[np.float64]:
    """Per run (and group, when ``values`` is deals x groups), the simulated total won by
    the deals of ``win_logit`` (draws x deals): a normal with the mean and variance of
    their sum given the run's parameter draw and shift. ``reuse``: see MomentReuse."""
    matrix = values if values.ndim == 2 else values[:, None]
    grid, step = shift_grid(period_sd)
    # float32 sums of thousands of amounts are off by dollars in millions: nothing next
    # to the band, and half the memory traffic of float64.
    amounts = matrix.astype(np.float32)
    summed = _moment_sums(grid, win_logit, amounts, reuse)
    means, variances = summed[:, 0], summed[:, 1]
    if len(grid) == 1:
        mean, variance = means[0][draw_of_run], variances[0][draw_of_run]
    else:
        position = (shifts.astype(np.float64) - grid[0]) / step
        mean = at_shifts(means, position, draw_of_run)
        variance = at_shifts(variances, position, draw_of_run)
    noise = rng.standard_normal(mean.shape)
    totals = np.maximum(mean + np.sqrt(np.maximum(variance, 0.0)) * noise, 0.0)
    return totals if values.ndim == 2 else totals[:, 0]


def at_shifts(
    moments: NDArray[np.float64], position: NDArray[np.float64], draw_of_run: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Each run's moment (runs x groups) from ``moments`` (grid x draws x groups) at its
    ``position`` on the grid (in steps from its first point, fractional): a cubic through
    the four nearest points, and past the grid's ends a straight line through the two
    last (a cubic bends away past its points)."""
    last = len(moments) - 1
    below = np.clip(np.floor(position).astype(np.intp), 0, last - 1)
    t = (position - below)[:, None]  # outside 0..1 past the grid: extrapolated
    linear = (1 - t) * moments[below, draw_of_run] + t * moments[below + 1, draw_of_run]
    if last < 3:
        return linear
    # Lagrange weights of the points one before, at, after and two after ``below``.
    start = np.clip(below, 1, last - 2)
    u = (position - start)[:, None]
    cubic = (
        -u * (u - 1) * (u - 2) / 6 * moments[start - 1, draw_of_run]
        + (u + 1) * (u - 1) * (u - 2) / 2 * moments[start, draw_of_run]
        - (u + 1) * u * (u - 2) / 2 * moments[start + 1, draw_of_run]
        + (u + 1) * u * (u - 1) / 6 * moments[start + 2, draw_of_run]
    )
    inside = ((position >= 0) & (position <= last))[:, None]
    return np.where(inside, cubic, linear)
