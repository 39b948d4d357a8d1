"""The history model's simulation of thousands of deals (the biggest drawn one by one,
the small ones summed as a normal) against drawing every deal, on a known model."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from test_win_model import DECISIVE, WIDTH, fixed_model

from vectoros_tui.engine import many_deals
from vectoros_tui.engine.win_model import simulate_won_totals


def pipeline(count: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Lumpy like a real one: most deals small, a few very big (log-normal values)."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((count, WIDTH))
    matrix[:, DECISIVE] = rng.normal(size=count)
    values = np.exp(rng.normal(10.0, 1.2, size=count)).round()
    return matrix, values


def every_deal_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(many_deals, "MIN_DEALS", 10**9)


@pytest.mark.parametrize("period_sd", [0.0, 0.15, 0.6])
def test_the_band_is_the_one_drawing_every_deal_gives(
    period_sd: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = replace(
        fixed_model(period_sd), covariance=np.eye(2 * (WIDTH + 1)) * 0.002
    )  # parameter uncertainty too
    matrix, values = pipeline(5_000)
    fast = simulate_won_totals(model, matrix, values, 20_000, np.random.default_rng(1))
    with monkeypatch.context() as patch:
        every_deal_drawn(patch)
        full = simulate_won_totals(model, matrix, values, 20_000, np.random.default_rng(1))
    for q in (5, 50, 95):
        # The same seed draws the same parameters and period shifts for both.
        assert np.percentile(fast, q) == pytest.approx(np.percentile(full, q), rel=0.01), q
    assert fast.mean() == pytest.approx(full.mean(), rel=0.005)
    assert fast.std() == pytest.approx(full.std(), rel=0.05)
    assert fast.min() >= 0.0


def test_group_totals_add_up_and_match_their_own_simulation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = fixed_model(0.15)
    matrix, values = pipeline(4_000, seed=9)
    owner = np.arange(len(values)) % 3
    grouped = np.zeros((len(values), 3))
    grouped[np.arange(len(values)), owner] = values
    fast = simulate_won_totals(model, matrix, grouped, 20_000, np.random.default_rng(3))
    assert fast.shape == (20_000, 3)
    with monkeypatch.context() as patch:
        every_deal_drawn(patch)
        full = simulate_won_totals(model, matrix, grouped, 20_000, np.random.default_rng(3))
    for column in range(3):
        for q in (5, 50, 95):
            assert np.percentile(fast[:, column], q) == pytest.approx(
                np.percentile(full[:, column], q), rel=0.015
            )
    # The team's total is its members' run by run, with the spread of the whole.
    team = fast.sum(axis=1)
    assert team.std() == pytest.approx(full.sum(axis=1).std(), rel=0.05)


def test_small_pipelines_draw_every_deal(monkeypatch: pytest.MonkeyPatch) -> None:
    model = fixed_model(0.3)
    matrix, values = pipeline(many_deals.MIN_DEALS - 1)
    first = simulate_won_totals(model, matrix, values, 2_000, np.random.default_rng(7))
    with monkeypatch.context() as patch:
        every_deal_drawn(patch)
        second = simulate_won_totals(model, matrix, values, 2_000, np.random.default_rng(7))
    np.testing.assert_array_equal(first, second)  # the same draws: nothing approximated
    # And whatever it is given, every total is some of the deals' values.
    assert set(np.round(first % 1, 6)) <= {0.0}


def test_deals_that_cannot_win_under_a_wide_swing_raise_no_warning() -> None:
    """Odds against a deal past float32's range once a period's swing is applied: its
    chance is 0, and nothing is printed to the rep's terminal about an overflow."""
    win_logit = np.full((2, 2_000), -1.0, dtype=np.float32)
    win_logit[:, :10] = -87.0  # e^87 fits in float32; e^87 * e^6 does not
    values = np.full(2_000, 100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        totals = many_deals.small_deal_totals(
            win_logit,
            values,
            np.array([0, 1, 0, 1]),
            np.zeros(4, dtype=np.float32),
            2.0,
            np.random.default_rng(0),
        )
    assert np.isfinite(totals).all()
    # The rest's expected wins: 1,990 deals at sigmoid(-1) of 100 each, give or take.
    assert totals.mean() == pytest.approx(1_990 * 100 / (1 + np.e), rel=0.05)


@pytest.mark.parametrize("period_sd", [0.15, 0.6, 1.5])
def test_the_moments_between_grid_points_are_within_six_in_ten_thousand(
    period_sd: float,
) -> None:
    """The small deals' mean and variance at any period shift, as interpolated from the
    grid, against their sums computed at that very shift."""
    rng = np.random.default_rng(11)
    draws, deals = 3, 2_000
    win_logit = rng.normal(-2.0, 1.5, size=(draws, deals)).astype(np.float32)
    amounts = np.exp(rng.normal(10.0, 1.2, size=(deals, 1))).astype(np.float32)
    grid, step = many_deals.shift_grid(period_sd)
    summed = many_deals._moment_sums(grid, win_logit, amounts, None)
    # Runs' shifts over the whole band (and past it), each run with one parameter draw.
    shifts = rng.normal(0.0, period_sd, size=400)
    draw_of_run = np.arange(len(shifts)) % draws
    position = (shifts - grid[0]) / step
    mean = many_deals.at_shifts(summed[:, 0], position, draw_of_run)[:, 0]
    variance = many_deals.at_shifts(summed[:, 1], position, draw_of_run)[:, 0]
    chance = 1.0 / (1.0 + np.exp(-(win_logit[draw_of_run].astype(np.float64) + shifts[:, None])))
    value = amounts[:, 0].astype(np.float64)
    exact_mean = chance @ value
    exact_variance = (chance * (1 - chance)) @ (value * value)
    # Past +-3 sd (one run in 370) the moments are extrapolated.
    inside = np.abs(shifts) <= many_deals.GRID_SDS * period_sd
    assert inside.sum() > 390
    np.testing.assert_allclose(mean[inside], exact_mean[inside], rtol=6e-4)
    np.testing.assert_allclose(variance[inside], exact_variance[inside], rtol=6e-4)
