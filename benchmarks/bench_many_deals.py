"""The history model's simulation of a team's pipeline: every deal drawn (the previous
path) against the biggest drawn and the rest summed as a normal (engine/many_deals.py),
side by side, with the error of each against a reference of 8 x 40,000 runs.

    python benchmarks/bench_many_deals.py

The model is a fixed one with parameter uncertainty and a period shift (sd 0.11 and 0.4);
the pipelines are log-normal in value like real ones, 2,000, 13,600 and 27,000 open deals
(a small team's, the open deals of a 100,000-deal demo, and of the workspace the scale
issue measured).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vectoros_tui.engine import many_deals
from vectoros_tui.engine.win_features import FEATURES
from vectoros_tui.engine.win_model import WinModel, simulate_won_totals

WIDTH = len(FEATURES)
RUNS = 10_000


def model(period_sd: float) -> WinModel:
    won, lost = np.zeros(WIDTH + 1), np.zeros(WIDTH + 1)
    won[0], won[1], lost[0] = -2.5, 1.0, -1.0
    return WinModel(
        won=won,
        lost=lost,
        mean=np.zeros(WIDTH),
        scale=np.ones(WIDTH),
        covariance=np.eye(2 * (WIDTH + 1)) * 0.0005,
        period_sd=period_sd,
        rows=100_000,
        wins=6_000,
        losses=30_000,
        periods=17,
    )


def pipeline(count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(count)
    matrix = np.zeros((count, WIDTH))
    matrix[:, 0] = rng.normal(size=count)
    return matrix, np.exp(rng.normal(10.0, 1.2, size=count)).round()


def simulate(
    chosen: WinModel, matrix: np.ndarray, values: np.ndarray, runs: int, seed: int, fast: bool
) -> tuple[float, np.ndarray]:
    saved = many_deals.MIN_DEALS
    many_deals.MIN_DEALS = saved if fast else 10**9
    try:
        started = time.perf_counter()
        totals = simulate_won_totals(chosen, matrix, values, runs, np.random.default_rng(seed))
        return time.perf_counter() - started, np.percentile(totals, (5, 50, 95))
    finally:
        many_deals.MIN_DEALS = saved


def main() -> None:
    print(f"{'deals':>7} {'sd':>5} {'path':<22} {'time s':>7}  rms error P5 / P50 / P95")
    for count in (2_000, 13_600, 27_000):
        matrix, values = pipeline(count)
        for period_sd in (0.11, 0.4):
            chosen = model(period_sd)
            reference = np.mean(
                [simulate(chosen, matrix, values, 40_000, 1000 + s, False)[1] for s in range(8)],
                axis=0,
            )
            for fast, label in ((False, "every deal (previous)"), (True, "big + normal rest")):
                times, errors = [], []
                for seed in range(5):
                    elapsed, found = simulate(chosen, matrix, values, RUNS, seed, fast)
                    times.append(elapsed)
                    errors.append((found - reference) / reference)
                rms = np.sqrt(np.mean(np.square(errors), axis=0)) * 100
                print(
                    f"{count:>7,} {period_sd:>5} {label:<22} {statistics.median(times):>7.3f}  "
                    + " / ".join(f"{e:.2f}%" for e in rms)
                )


if __name__ == "__main__":
    main()
