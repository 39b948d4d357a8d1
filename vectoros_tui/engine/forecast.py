"""Monte Carlo revenue forecast over the open pipeline.

Semantics are the original platform's. A deal counts when it has no outcome, is not in
the closed stage, and has no close date, a past one, or one inside the window. In every
run each counted deal wins its value with a probability drawn from
``Beta(max(10p, 0.5), max(10(1-p), 0.5))``, ``p`` being the rep's probability, and the
forecast reports percentiles of the simulated totals. One deliberate deviation: a deal at
0% never wins (see :func:`effective_win_probability`).

The original looped over runs and deals in Python. Drawing ``q ~ Beta(a, b)`` and then
winning with probability ``q`` is a Bernoulli with ``p' = E[q] = a / (a + b)``, and every
(run, deal) cell draws afresh, so the simulation is exactly, not approximately, a matrix
of independent Bernoulli(p') cells; :func:`simulate_totals` samples that matrix in
cache-sized chunks.

Deals arrive as :class:`~vectoros_tui.engine.deal_record.DealRecord`, validated once where
they were built (the store, or ``record_from_mapping`` for JSON), so the forecast reads
their fields as they are. A deal without a value counts as 0 and one without a
probability as 50%, as in the original.
"""

from __future__ import annotations

import heapq
import math
import os
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from numbers import Integral, Real
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vectoros_tui.engine.dates import as_utc, utc_now

# MAX_DEAL_VALUE is defined with the record, which enforces it, and stays importable from
# here, where callers of simulate_totals have always found it.
from vectoros_tui.engine.deal_record import MAX_DEAL_VALUE, DealRecord
from vectoros_tui.engine.probability import (
    combine_adjustments,
    confidence_from_parts,
    probability_percent,
)
from vectoros_tui.engine.stages import STAGES, stage_index
from vectoros_tui.engine.timeframes import ForecastInputError, parse_timeframe

SCENARIOS: Final = ("worst", "likely", "best")
REPORTED_PERCENTILES: Final = (5, 10, 25, 50, 75, 90, 95)
DEFAULT_SIMULATIONS: Final = 10_000
# Totals are held in memory (8 bytes each) and sorted for the percentiles; a million runs
# is already far past the point where more runs change a forecast, and keeps a typo such
# as 10**9 from freezing the UI.
MAX_SIMULATIONS: Final = 1_000_000

# The original scaled its revenue goal with the window; other windows use 1.0.
_GOAL_SHARE_OF_PIPELINE: Final = 0.4
_GOAL_WINDOW_MULTIPLIER: Final[dict[int, float]] = {60: 1.5, 90: 2.0}

# 2**18 deal-runs per chunk: the float64 win matrix (2 MiB) and its byte-sized companions
# stay cache-resident, which measured ~3x faster than whole-matrix passes, and peak memory
# no longer grows with the pipeline. Larger chunks also cross OpenBLAS's threshold for
# multi-threaded gemv (~460k elements in 0.3.x), whose thread hand-offs made 2**19 chunks
# 2-3x slower on a 2-core machine.
_CHUNK_CELLS: Final = 1 << 18

# Below ~a million deal-runs (a few milliseconds) threads cost more than they save.
_PARALLEL_MIN_CELLS: Final = 1 << 20
# Fixed, not os.cpu_count(): the number of random streams decides the totals, and a seed
# must give the same forecast on every machine. Four keeps 2-4 core laptops busy.
_STREAMS: Final = 4

# Probabilities are split into a first byte compared against one random byte per deal-run,
# and the remaining bits, compared only on the ~1/256 of cells where the first bytes tie.
_TAIL_BITS: Final = 56


def _parse_scenario(scenario: object) -> str:
    key = scenario.strip().lower() if isinstance(scenario, str) else None
    if key not in SCENARIOS:
        raise ForecastInputError(
            f"scenario must be one of {', '.join(SCENARIOS)} (got {scenario!r})"
        )
    return key


def parse_simulations(simulations: object) -> int:
    # bool is Integral; True simulations is a bug in the caller, not "one run".
    if isinstance(simulations, bool) or not isinstance(simulations, Integral):
        raise ForecastInputError(
            f"simulations must be a positive whole number (got {simulations!r})"
        )
    count = int(simulations)
    if not 1 <= count <= MAX_SIMULATIONS:
        raise ForecastInputError(
            f"simulations must be between 1 and {MAX_SIMULATIONS:,} (got {count:,})"
        )
    return count


def _parse_goal(goal: object) -> float | None:
    if goal is None:
        return None
    if isinstance(goal, bool) or not isinstance(goal, Real | Decimal):
        raise ForecastInputError(f"goal must be a finite number >= 0 (got {goal!r})")
    amount = float(goal)
    if not (math.isfinite(amount) and amount >= 0.0):
        raise ForecastInputError(f"goal must be a finite number >= 0 (got {goal!r})")
    return amount


def _parse_now(now: object) -> datetime:
    if now is None:
        return utc_now()
    if not isinstance(now, datetime):
        raise ForecastInputError(f"now must be a datetime (got {now!r})")
    return as_utc(now)


def _window_end(now: datetime, days: int) -> datetime | None:
    """``now + days``, or ``None`` (no limit) when that is past the calendar's end."""
    try:
        return now + timedelta(days=days)
    except OverflowError:
        return None


def _stage_label(stage: str) -> str:
    """The breakdown's name for a stage: canonical names as they are, a name this version
    does not know lower-cased (as the original grouped them), ``unknown`` when empty."""
    if stage in STAGES:
        return stage
    return stage.lower() or "unknown"


def _closes_in_window(record: DealRecord, last_day: date | None) -> bool:
    """Undated and overdue deals count: the original kept them (still open, still expected
    to land).

    A close date means midnight UTC of that day, counted when not after ``now + days``.
    Midnight of day ``c`` is after a UTC moment on day ``d`` exactly when ``c > d``, so the
    comparison is made on dates: the same result without building a datetime per deal.
    """
    close = record.close_date
    return close is None or last_day is None or close <= last_day


# (record, stage label, value, p) for each deal the forecast counts; p is the rep's call
# in 0..1.
_Counted = tuple[DealRecord, str, float, float]


def _counted_deals(deals: Iterable[DealRecord], window_end: datetime | None) -> list[_Counted]:
    """The open deals closing inside the window, in the caller's order."""
    last_day = None if window_end is None else window_end.date()
    return [
        (
            record,
            _stage_label(record.stage),
            record.value or 0.0,
            probability_percent(record) / 100.0,
        )
        for record in deals
        if record.is_open and _closes_in_window(record, last_day)
    ]


def listed_deals(
    deals: Iterable[DealRecord],
    timeframe: str,
    now: datetime,
    top: int,
    also_deals: Collection[object] = (),
) -> list[dict[str, Any]]:
    """The ``forecasted_deals`` rows :func:`forecast_distribution` gives with ``top_deals``,
    ``also_deals`` and ``rank_by_rep``, without its simulation: for a screen whose
    headline is another model's and that lists the deals by the reps' calls."""
    moment = _parse_now(now)
    counted = _counted_deals(deals, _window_end(moment, parse_timeframe(timeframe)))
    return _forecasted_deals(counted, moment, top, also_deals, rank_by_rep=True)


def window_win_probabilities(
    deals: Iterable[DealRecord], days: int, now: datetime
) -> dict[str, float]:
    """Each open deal's chance of winning within the window as this model simulates it:
    its effective probability when it counts (its close date is in the window, past or
    missing), else 0. Calibration charts compare these with what happened."""
    deals = list(deals)
    counted = _counted_deals(deals, _window_end(now, days))
    chances = effective_win_probability([row[3] for row in counted])
    found = {record.id: 0.0 for record in deals if record.is_open}
    found.update({row[0].id: float(p) for row, p in zip(counted, chances, strict=True)})
    return found


def _money(amount: float) -> float:
    return round(float(amount), 2)


def _ratio(amount: float) -> float:
    return round(float(amount), 3)


def effective_win_probability(probabilities: ArrayLike) -> NDArray[np.float64]:
    """The chance a deal wins in one run, ``p' = a / (a + b)``, for rep probabilities ``p``.

    ``a = max(10p, 0.5)`` and ``b = max(10(1 - p), 0.5)`` are the original's Beta
    parameters; ``E[Beta(a, b)] = a / (a + b)``, so "draw q, then win with probability q"
    is a Bernoulli(p'). The floors pull extreme calls toward the middle: 100% wins ~95.2%
    of runs and 2% wins ~4.85%.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    a = np.maximum(10.0 * p, 0.5)
    b = np.maximum(10.0 * (1.0 - p), 0.5)
    # Deliberate deviation from the original: its Beta(0.5, 10) gives a deal the rep has
    # marked 0% a ~4.8% chance per run. A rep who says 0% means "not happening", and such
    # deals can be huge placeholders, so they never count.
    return np.where(p > 0.0, a / (a + b), 0.0)


def simulate_totals(
    values: ArrayLike,
    probabilities: ArrayLike,
    simulations: int = DEFAULT_SIMULATIONS,
    rng: np.random.Generator | int | None = None,
) -> NDArray[np.float64]:
    """Simulated pipeline totals, one per run (a float64 array of length ``simulations``).

    ``values`` are deal amounts (0 to :data:`MAX_DEAL_VALUE`) and ``probabilities`` the
    reps' calls as fractions in 0..1; each deal wins in a run with
    :func:`effective_win_probability`.
    ``rng`` is a ``numpy.random.Generator`` (or a seed); the same generator state gives the
    same totals.
    """
    amounts = np.asarray(values, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if amounts.ndim != 1 or p.shape != amounts.shape:
        raise ForecastInputError(
            "values and probabilities must be 1-D arrays of the same length "
            f"(got shapes {amounts.shape} and {p.shape})"
        )
    if not np.all((amounts >= 0.0) & (amounts <= MAX_DEAL_VALUE)):
        raise ForecastInputError(f"values must be amounts between 0 and {MAX_DEAL_VALUE:,.0f}")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ForecastInputError("probabilities must be fractions between 0 and 1")
    count = parse_simulations(simulations)
    generator = np.random.default_rng(rng)

    win = effective_win_probability(p)
    # Deals that can never win only cost time. Zero-value deals stay, so which random
    # bits decide which deal depends on the probabilities alone: scaling every value
    # (even to underflow) scales the totals run for run.
    playing = win > 0.0
    return _sample_totals(amounts[playing], win[playing], count, generator)


def _sample_totals(
    values: NDArray[np.float64],
    win: NDArray[np.float64],
    simulations: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Totals of independent Bernoulli(win) draws weighted by ``values``, one per run.

    Large jobs are split into a fixed number of independent streams, seeded from ``rng``,
    and run on worker threads (numpy and BLAS release the GIL). The split depends only on
    the job's size, never on the machine, so a seed gives the same totals everywhere.
    """
    totals = np.zeros(simulations, dtype=np.float64)
    deals = values.size
    if deals == 0:
        return totals
    first_byte, tail = _split_thresholds(win)
    if deals * simulations < _PARALLEL_MIN_CELLS or simulations < _STREAMS:
        _fill_blocks(values, first_byte, tail, [(rng.bit_generator, totals)])
        return totals

    entropy = rng.bit_generator.random_raw(4).tolist()
    bit_generator_type = type(rng.bit_generator)
    streams = [bit_generator_type(seq) for seq in np.random.SeedSequence(entropy).spawn(_STREAMS)]
    blocks = np.array_split(totals, _STREAMS)  # views, filled in place
    jobs = list(zip(streams, blocks, strict=True))
    workers = min(_STREAMS, os.cpu_count() or 1)
    if workers == 1:
        _fill_blocks(values, first_byte, tail, jobs)
        return totals
    # One batch of streams per thread, so each allocates its chunk buffers once; the
    # calling thread takes a batch too rather than sitting idle.
    pool = worker_pool(workers - 1)
    futures = [
        pool.submit(_fill_blocks, values, first_byte, tail, jobs[k::workers])
        for k in range(1, workers)
    ]
    _fill_blocks(values, first_byte, tail, jobs[0::workers])
    for future in futures:
        future.result()
    return totals


_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def worker_pool(workers: int) -> ThreadPoolExecutor:
    """A process-wide pool for the sampler's streams.

    Kept rather than created per forecast: starting threads cost ~0.5 ms of a 1,000-deal
    forecast's ~15 ms. Idle workers only wait on a queue. A forked child gets its own pool,
    since the parent's threads do not exist there.
    """
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="forecast")
            _pool_pid = os.getpid()
        return _pool


def _split_thresholds(
    win: NDArray[np.float64],
) -> tuple[NDArray[np.uint8], NDArray[np.uint64]]:
    """``T = win · 2**64`` as its first byte and its remaining 56 bits.

    ``win`` is 0 or >= 0.047, so its 53-bit mantissa fits inside 64 bits after the binary
    point and both parts are exact: the sampler's win probability is ``win`` itself.
    """
    scaled = win * 256.0
    first = np.floor(scaled)
    tail = np.floor((scaled - first) * 2.0**_TAIL_BITS).astype(np.uint64)
    return first.astype(np.uint8), tail


def _fill_blocks(
    values: NDArray[np.float64],
    first_byte: NDArray[np.uint8],
    tail: NDArray[np.uint64],
    jobs: list[tuple[np.random.BitGenerator, NDArray[np.float64]]],
) -> None:
    """Fill each ``(stream, block)`` job's block with runs drawn from its stream."""
    deals = values.size
    rows = min(max(1, _CHUNK_CELLS // deals), max(block.size for _, block in jobs))
    flags = np.empty((rows, deals), dtype=np.bool_)
    wins = np.empty((rows, deals), dtype=np.float64)
    for bits, block in jobs:
        _fill_totals(values, first_byte, tail, bits, block, flags, wins)


def _fill_totals(
    values: NDArray[np.float64],
    first_byte: NDArray[np.uint8],
    tail: NDArray[np.uint64],
    bits: np.random.BitGenerator,
    totals: NDArray[np.float64],
    flags: NDArray[np.bool_],
    wins: NDArray[np.float64],
) -> None:
    """Sample ``totals.size`` runs into ``totals``, using one random byte per deal-run.

    A deal wins when a uniform 64-bit integer U is below T. Comparing U with T
    most-significant byte first is the same comparison: a run is settled by the first byte
    unless it ties with T's first byte (probability 1/256), and only then are 56 more
    random bits drawn. Exact, and 2–8x fewer random bits than float or 16/32-bit
    thresholds; generating the bits is the largest single cost. ``flags`` and ``wins`` are
    scratch buffers with at least a chunk's rows.
    """
    deals = values.size
    simulations = totals.size
    # From the job alone, never from the batch's buffers: chunk boundaries decide which
    # random bytes land in which cell, and a seed must give the same totals however the
    # streams were spread over threads.
    rows = min(max(1, _CHUNK_CELLS // deals), simulations)
    tie_cells: list[NDArray[np.intp]] = []
    # Few, large numpy calls per chunk: each call is a GIL hand-off when streams run on
    # threads, and the hand-offs, not the arithmetic, limited the two-thread speed-up.
    for start in range(0, simulations, rows):
        runs = min(rows, simulations - start)
        cells = runs * deals
        draws = bits.random_raw(-(-cells // 8)).view(np.uint8)[:cells].reshape(runs, deals)
        chunk_wins = wins[:runs]
        np.less(draws, first_byte, out=chunk_wins, casting="unsafe")
        # A float64 matrix-vector product (BLAS) is the fastest weighted sum that keeps
        # cents: float32 was ~25% faster but drifts by dollars on multi-million pipelines,
        # and a packed-bits lookup table measured slower.
        np.matmul(chunk_wins, values, out=totals[start : start + runs])
        chunk_flags = flags[:runs]
        np.equal(draws, first_byte, out=chunk_flags)
        ties = np.flatnonzero(chunk_flags)
        if ties.size:
            tie_cells.append(ties + start * deals)

    # A tied cell counted as a loss above; it wins if the next 56 bits of U are below T's.
    # Settling all ties at the end keeps that work out of the loop.
    if tie_cells:
        cells_tied = np.concatenate(tie_cells)
        tie_runs, tie_deals = np.divmod(cells_tied, deals)
        more = bits.random_raw(cells_tied.size) >> np.uint64(64 - _TAIL_BITS)
        won = more < tail[tie_deals]
        totals += np.bincount(tie_runs[won], weights=values[tie_deals[won]], minlength=simulations)


def forecast_revenue(
    deals: Iterable[DealRecord],
    timeframe: str = "30d",
    scenario: str = "likely",
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int | None = None,
    now: datetime | None = None,
    goal: float | None = None,
) -> dict[str, Any]:
    """Monte Carlo forecast of the revenue the open pipeline closes within ``timeframe``.

    Returns a JSON-serialisable dict (plain floats and ints, never NaN); see the module
    docstring for the model. ``seed`` makes the result reproducible.
    """
    return forecast_distribution(deals, timeframe, scenario, simulations, seed, now, goal)[0]


def forecast_distribution(
    deals: Iterable[DealRecord],
    timeframe: str = "30d",
    scenario: str = "likely",
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int | None = None,
    now: datetime | None = None,
    goal: float | None = None,
    top_deals: int | None = None,
    also_deals: Collection[object] = (),
    rank_by_rep: bool = False,
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """:func:`forecast_revenue` plus the simulated totals themselves (for a histogram).

    ``top_deals`` keeps only the heaviest rows of ``forecasted_deals`` (plus the deals whose
    ids are in ``also_deals``, wherever they rank), each as in the full list; with
    ``rank_by_rep`` the rows are ranked by value times the rep's probability (what the
    simulation draws with, and what boards call weighted) instead of the original's
    adjusted weight. Building all
    2,000 rows was a quarter of a forecast the screen redoes after every save, to show 30.
    """
    days = parse_timeframe(timeframe)
    chosen = _parse_scenario(scenario)
    runs = parse_simulations(simulations)
    target = _parse_goal(goal)
    moment = _parse_now(now)
    window_end = _window_end(moment, days)

    counted = _counted_deals(deals, window_end)

    values = np.fromiter((row[2] for row in counted), dtype=np.float64, count=len(counted))
    probabilities = np.fromiter((row[3] for row in counted), dtype=np.float64, count=len(counted))
    totals = simulate_totals(values, probabilities, runs, np.random.default_rng(seed))

    percentiles = dict(
        zip(
            REPORTED_PERCENTILES,
            (float(x) for x in np.percentile(totals, REPORTED_PERCENTILES)),
            strict=True,
        )
    )
    mean = float(totals.mean())
    spread = float(totals.std())
    confidence = 1.0 - min(spread / mean, 1.0) if mean > 0.0 else 0.0
    cases = {"worst": percentiles[5], "likely": percentiles[50], "best": percentiles[95]}

    total_pipeline = math.fsum(values.tolist())
    if target is None:
        revenue_goal = (
            _GOAL_SHARE_OF_PIPELINE * total_pipeline * _GOAL_WINDOW_MULTIPLIER.get(days, 1.0)
        )
    else:
        revenue_goal = target
    # JSON has no infinity: coverage of a zero goal is reported as 0.
    coverage = total_pipeline / revenue_goal if revenue_goal > 0.0 else 0.0

    result: dict[str, Any] = {
        "timeframe": f"{days}d",
        "scenario": chosen,
        "predicted_revenue": _money(cases[chosen]),
        "confidence": _ratio(confidence),
        "best_case": _money(cases["best"]),
        "likely_case": _money(cases["likely"]),
        "worst_case": _money(cases["worst"]),
        "mean_forecast": _money(mean),
        "standard_deviation": _money(spread),
        "deals_analyzed": len(counted),
        "total_pipeline_value": _money(total_pipeline),
        "revenue_goal": _money(revenue_goal),
        "pipeline_coverage": _ratio(coverage),
        "breakdown_by_stage": _breakdown_by_stage(counted),
        "simulation_stats": {
            "num_simulations": runs,
            "min": _money(totals.min()),
            "max": _money(totals.max()),
            **{f"p{k}": _money(percentiles[k]) for k in REPORTED_PERCENTILES},
        },
        "forecasted_deals": _forecasted_deals(
            counted, moment, top_deals, also_deals, rank_by_rep=rank_by_rep
        ),
    }
    if target is not None:
        result["goal"] = _money(target)
        result["probability_of_hitting_goal"] = _ratio(np.count_nonzero(totals >= target) / runs)
    return result, totals


def _breakdown_by_stage(counted: list[_Counted]) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple[float, float]]] = {}
    for _, stage, value, p in counted:
        groups.setdefault(stage, []).append((value, p))
    return [
        {
            "stage": stage,
            "deals": len(rows),
            "total_value": _money(math.fsum(value for value, _ in rows)),
            "weighted_value": _money(math.fsum(value * p for value, p in rows)),
            "avg_probability": _ratio(math.fsum(p for _, p in rows) / len(rows)),
        }
        for stage, rows in sorted(groups.items(), key=lambda item: (stage_index(item[0]), item[0]))
    ]


def _forecasted_deals(
    counted: list[_Counted],
    now: datetime,
    top: int | None = None,
    also: Collection[object] = (),
    *,
    rank_by_rep: bool = False,
) -> list[dict[str, Any]]:
    def adjust(i: int) -> float:
        record, stage, _, p = counted[i]
        return combine_adjustments(p, stage, record.created_at, now)

    adjusted = None
    if rank_by_rep:
        # Ranked by the rep's call: only the rows listed need their adjusted probability
        # (30 of 14,000 on a team's forecast screen, after every save).
        order = _row_order(counted, lambda i: counted[i][3], top, also)
    else:
        adjusted = [adjust(i) for i in range(len(counted))]
        order = _row_order(counted, adjusted.__getitem__, top, also)
    return [
        _deal_row(counted[i], adjust(i) if adjusted is None else adjusted[i], now) for i in order
    ]


def _row_order(
    counted: list[_Counted],
    weight: Callable[[int], float],
    top: int | None = None,
    also: Collection[object] = (),
) -> list[int]:
    """Row positions by value times ``weight`` (the adjusted probability the rows show,
    or the rep's, see forecast_distribution): all of them, or the ``top`` and after them
    those of ``also`` (deal ids) ranked lower, in the same order.

    Weights are compared as shown (to the cent) and the order is stable, so deals whose
    weights look the same keep the caller's order. The top rows are picked, not the whole
    list sorted: a team's forecast screen lists 30 of 14,000 deals after every save.
    """

    def shown(i: int) -> float:
        return round(counted[i][2] * weight(i), 2)

    rows = range(len(counted))
    if top is None:
        return sorted(rows, key=shown, reverse=True)
    # nlargest is sorted(..., reverse=True)[:top], ties included.
    first = heapq.nlargest(top, rows, key=shown)
    # Compared as text: callers hold ids as strings or as UUIDs, records as strings.
    wanted = {str(deal_id) for deal_id in also}
    if not wanted:
        return first
    listed = set(first)
    lower = [i for i in rows if counted[i][0].id in wanted and i not in listed]
    return first + sorted(lower, key=shown, reverse=True)


def _deal_row(row: _Counted, adjusted: float, now: datetime) -> dict[str, Any]:
    record, stage, value, _ = row
    confidence = confidence_from_parts(record, record.updated_at, now)
    return {
        # Records hold "" for a missing id or title; this dict is an API edge, where both
        # have always been null when missing.
        "deal_id": record.id or None,
        "title": record.title or None,
        "company": record.company,
        "value": round(value, 2),
        "stage": stage,
        "adjusted_probability": round(adjusted, 3),
        "weighted_value": round(value * adjusted, 2),
        "confidence_score": round(confidence, 3),
    }
