"""The history model's regression and simulation, on synthetic rows from a known truth.

Rows are drawn from a multinomial logit whose coefficients the tests know (won and lost
against still open), so the fit can be held to that truth. Two columns carry the truth:
a continuous one that decides the odds and a 0/1 one that nudges them; every other
feature column is zero (constant columns are left out of the fit's standardising).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vectoros_tui.engine.win_features import FEATURES
from vectoros_tui.engine.win_model import (
    LOST,
    MIN_TRAINING_ROWS,
    MIN_WINS,
    STILL_OPEN,
    WON,
    WinModel,
    _win_logits,
    enough_history,
    fit_win_model,
    parameter_draws,
    simulate_won_totals,
)

WIDTH = len(FEATURES)
# Columns outside the stage one-hots, so the ordinary (stronger) penalty applies.
DECISIVE = FEATURES.index("days_to_close")
NUDGE = FEATURES.index("no_activity")

# The truth: logits of won and of lost against still open.
WON_TRUTH = (-1.5, 1.5, -0.6)  # intercept, decisive, nudge
LOST_TRUTH = (-1.0, -0.5, 0.4)


def softmax3(won: np.ndarray, lost: np.ndarray) -> np.ndarray:
    logits = np.stack([np.zeros_like(won), won, lost], axis=1)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def draw(
    rows: int, rng: np.random.Generator, *, periods: int = 1, shift_sd: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(matrix, outcome, period, the true P(won) without period shifts)."""
    matrix = np.zeros((rows, WIDTH))
    matrix[:, DECISIVE] = rng.normal(size=rows)
    matrix[:, NUDGE] = rng.random(rows) < 0.5
    won = WON_TRUTH[0] + WON_TRUTH[1] * matrix[:, DECISIVE] + WON_TRUTH[2] * matrix[:, NUDGE]
    lost = LOST_TRUTH[0] + LOST_TRUTH[1] * matrix[:, DECISIVE] + LOST_TRUTH[2] * matrix[:, NUDGE]
    period = rng.integers(0, periods, size=rows)
    shifts = rng.normal(0.0, shift_sd, size=periods) if shift_sd else np.zeros(periods)
    p = softmax3(won + shifts[period], lost)
    u = rng.random(rows)
    outcome = np.where(u < p[:, 0], STILL_OPEN, np.where(u < p[:, 0] + p[:, 1], WON, LOST))
    return matrix, outcome.astype(np.int64), period.astype(np.int64), softmax3(won, lost)[:, 1]


@pytest.fixture(scope="module")
def evaluation() -> tuple[np.ndarray, np.ndarray]:
    """Deals to predict, with their true P(won)."""
    matrix, _, _, truth = draw(2_000, np.random.default_rng(100))
    return matrix, truth


@pytest.fixture(scope="module")
def big_fit() -> WinModel:
    matrix, outcome, period, _ = draw(4_000, np.random.default_rng(0))
    return fit_win_model(matrix, outcome, period)


# --------------------------------------------------------------------------- the fit


def test_fitted_win_probabilities_track_the_truth(big_fit, evaluation):
    matrix, truth = evaluation
    predicted = big_fit.probabilities(matrix)
    assert np.abs(predicted - truth).mean() < 0.02
    assert np.abs(predicted - truth).max() < 0.08
    # The ordering by the decisive feature is right: within each value of the nudge,
    # probability rises with it.
    for nudge in (0.0, 1.0):
        rows = matrix[:, NUDGE] == nudge
        order = np.argsort(matrix[rows, DECISIVE])
        assert np.all(np.diff(predicted[rows][order]) > 0)
    # The nudge lowers the win odds, as in the truth.
    same = matrix.copy()
    same[:, NUDGE] = 0.0
    nudged = same.copy()
    nudged[:, NUDGE] = 1.0
    assert np.all(big_fit.probabilities(nudged) < big_fit.probabilities(same))


def test_fitted_coefficients_in_the_data_scale_are_near_the_truth(big_fit):
    won_slope = big_fit.won[1 + DECISIVE] / big_fit.scale[DECISIVE]
    lost_slope = big_fit.lost[1 + DECISIVE] / big_fit.scale[DECISIVE]
    assert won_slope == pytest.approx(WON_TRUTH[1], abs=0.25)
    assert lost_slope == pytest.approx(LOST_TRUTH[1], abs=0.2)
    # Columns that are all zero have no effect at all.
    empty = [i for i in range(WIDTH) if i not in (DECISIVE, NUDGE)]
    assert np.allclose(big_fit.won[1:][empty], 0.0, atol=1e-6)
    assert np.allclose(big_fit.lost[1:][empty], 0.0, atol=1e-6)


def test_the_fit_counts_its_rows_and_outcomes():
    matrix, outcome, period, _ = draw(500, np.random.default_rng(3), periods=7)
    model = fit_win_model(matrix, outcome, period)
    assert model.rows == 500
    assert model.wins == int((outcome == WON).sum())
    assert model.losses == int((outcome == LOST).sum())
    assert model.periods == 7
    assert model.base_rate == pytest.approx(model.wins / 500)
    assert model.covariance.shape == (2 * (WIDTH + 1), 2 * (WIDTH + 1))


def test_outcome_probabilities_are_a_distribution_and_win_is_their_middle_column(big_fit):
    matrix, _, _, _ = draw(300, np.random.default_rng(5))
    outcomes = big_fit.outcome_probabilities(matrix)
    assert outcomes.shape == (300, 3)
    assert np.all(outcomes >= 0.0)
    assert np.allclose(outcomes.sum(axis=1), 1.0)
    assert np.array_equal(big_fit.probabilities(matrix), outcomes[:, WON])
    # Lost is more likely where the decisive feature is low (its lost slope is negative).
    low, high = matrix[:, DECISIVE] < -1, matrix[:, DECISIVE] > 1
    assert outcomes[low, LOST].mean() > outcomes[high, LOST].mean()


def test_contributions_are_each_features_push_on_the_win_logit(big_fit):
    matrix, _, _, _ = draw(50, np.random.default_rng(6))
    pushes = big_fit.contributions(matrix)
    assert pushes.shape == (50, WIDTH)
    design = big_fit.design(matrix)
    # Intercept plus every push is the win logit.
    assert np.allclose(big_fit.won[0] + pushes.sum(axis=1), design @ big_fit.won)
    # A deal above the average on the decisive feature is pushed up by it.
    above = matrix[:, DECISIVE] > big_fit.mean[DECISIVE]
    assert np.all(pushes[above, DECISIVE] > 0)
    assert np.all(pushes[~above, DECISIVE] <= 0)


def test_with_few_rows_the_penalty_shrinks_towards_the_base_rate(big_fit, evaluation):
    matrix, truth = evaluation
    # With plenty of rows the spread is the truth's ...
    assert big_fit.probabilities(matrix).std() == pytest.approx(truth.std(), rel=0.1)
    ratios = []
    for seed in range(20):
        small, outcome, period, _ = draw(20, np.random.default_rng(1_000 + seed))
        model = fit_win_model(small, outcome, period)
        predicted = model.probabilities(matrix)
        ratios.append(predicted.std() / truth.std())
        # Centred on the sample's own rate of wins.
        assert predicted.mean() == pytest.approx(model.base_rate, abs=0.1)
    # ... with twenty, much less.
    assert np.mean(ratios) < 0.5
    assert np.median(ratios) < 0.5


def test_a_feature_that_never_varied_in_training_moves_nothing():
    """Training rows all without a known stage (an export's past) teach no stage effect:
    a deal whose stage is known today gets no push from it, in its chance or its band."""
    matrix, outcome, period, _ = draw(2_000, np.random.default_rng(4), periods=8)
    unknown = FEATURES.index("stage:unknown")
    qualified = FEATURES.index("stage:qualified")
    matrix[:, unknown] = 1.0
    model = fit_win_model(matrix, outcome, period)

    learned = np.ones(len(model.won), dtype=bool)
    learned[[1 + unknown, 1 + qualified]] = False
    assert np.all(model.won[~learned] == 0.0) and np.all(model.lost[~learned] == 0.0)
    both = np.concatenate([~learned, ~learned])
    assert np.all(model.covariance[both] == 0.0) and np.all(model.covariance[:, both] == 0.0)
    assert np.any(model.won[learned][1:] != 0.0)
    assert "stage" in model.unlearned()
    assert "owner" in model.unlearned()  # draw() leaves the owner's column at 0
    assert "close" not in model.unlearned()  # its days_to_close column is the decisive one
    _, outcome, period, _ = draw(500, np.random.default_rng(6), periods=8)
    varied = np.random.default_rng(7).normal(size=(500, WIDTH))
    assert fit_win_model(varied, outcome, period).unlearned() == ()

    known = matrix[:300].copy()
    known[:, unknown], known[:, qualified] = 0.0, 1.0
    assert np.array_equal(model.probabilities(known), model.probabilities(matrix[:300]))
    values = np.full(300, 1_000.0)
    as_trained = simulate_won_totals(model, matrix[:300], values, 4_000, np.random.default_rng(5))
    as_known = simulate_won_totals(model, known, values, 4_000, np.random.default_rng(5))
    assert np.allclose(as_known, as_trained, rtol=0.0, atol=1e-6)


def test_perfectly_separated_rows_do_not_run_off_to_certainty():
    """Unpenalised, these rows (won exactly when the feature is positive) would fit
    probabilities of 0 and 1; the penalty keeps them moderate and in the right order."""
    matrix = np.zeros((12, WIDTH))
    matrix[:, DECISIVE] = np.linspace(-1.0, 1.0, 12)
    outcome = np.where(matrix[:, DECISIVE] > 0, WON, STILL_OPEN).astype(np.int64)
    model = fit_win_model(matrix, outcome, np.zeros(12, dtype=np.int64))
    predicted = model.probabilities(matrix)
    assert np.all(np.diff(predicted) > 0)
    assert predicted.min() > 0.1
    assert predicted.max() < 0.9
    assert np.all(np.isfinite(model.won)) and np.all(np.isfinite(model.lost))


def test_period_sd_is_about_zero_when_periods_share_one_rate():
    matrix, outcome, period, _ = draw(4_000, np.random.default_rng(11), periods=20)
    assert fit_win_model(matrix, outcome, period).period_sd < 0.2


def test_period_sd_finds_a_shared_shift_of_each_periods_win_logit():
    matrix, outcome, period, _ = draw(4_000, np.random.default_rng(12), periods=20, shift_sd=0.6)
    assert 0.3 < fit_win_model(matrix, outcome, period).period_sd < 0.9


def test_period_sd_counts_the_periods_spent_on_calendar_effects():
    """Nine periods, each with its own place in the quarter (the calendar columns, one
    value per period) but no effect of it: the fit spends three parameters matching the
    periods' totals by them, so the shifts left over vary less than the true ones. Over
    many such histories the estimated variance still averages the true one (0.25), where
    the plain variance of the shifts would fall short by about a third."""
    calendar = [FEATURES.index(name) for name in FEATURES if name.startswith("quarter_")]
    assert len(calendar) == 3
    estimates = []
    for seed in range(40):
        rng = np.random.default_rng(500 + seed)
        matrix, outcome, period, _ = draw(3_000, rng, periods=9, shift_sd=0.5)
        matrix[:, calendar] = rng.random((9, 3))[period]
        estimates.append(fit_win_model(matrix, outcome, period).period_sd ** 2)
    assert 0.19 < np.mean(estimates) < 0.33


def test_overlapping_periods_are_clustered_for_the_covariance_and_the_spread():
    """Periods in runs of three that share their swing (as overlapping windows share
    days): counted as one cluster each, the intercept is far less certain than 36
    independent periods would make it, and the swing's degrees of freedom are the 12
    clusters', so its estimate is wider. The fit itself does not change."""
    rng = np.random.default_rng(31)
    matrix, outcome, period, _ = draw(6_000, rng, periods=12, shift_sd=0.6)
    overlapping = period * 3 + rng.integers(0, 3, size=len(period))
    apart = fit_win_model(matrix, outcome, overlapping)
    clustered = fit_win_model(matrix, outcome, overlapping, clusters=overlapping // 3)
    np.testing.assert_allclose(clustered.theta, apart.theta)
    assert clustered.covariance[0, 0] > 1.3 * apart.covariance[0, 0]
    assert clustered.period_sd > apart.period_sd > 0


def test_period_sd_needs_three_periods_that_won_something():
    matrix, outcome, period, _ = draw(1_000, np.random.default_rng(13), periods=2, shift_sd=1.5)
    assert fit_win_model(matrix, outcome, period).period_sd == 0.0


# --------------------------------------------------------------------------- simulation


def fixed_model(period_sd: float) -> WinModel:
    """A model with known coefficients and no parameter uncertainty."""
    won = np.zeros(WIDTH + 1)
    lost = np.zeros(WIDTH + 1)
    won[0], won[1 + DECISIVE] = -0.5, 1.0
    lost[0] = -1.0
    return WinModel(
        won=won,
        lost=lost,
        mean=np.zeros(WIDTH),
        scale=np.ones(WIDTH),
        covariance=np.zeros((2 * (WIDTH + 1), 2 * (WIDTH + 1))),
        period_sd=period_sd,
        rows=1_000,
        wins=100,
        losses=100,
        periods=10,
    )


def deals(count: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    matrix = np.zeros((count, WIDTH))
    matrix[:, DECISIVE] = rng.normal(size=count)
    values = rng.uniform(1_000, 50_000, size=count).round()
    return matrix, values


def test_simulated_totals_average_the_expected_won_value():
    model = fixed_model(0.0)
    matrix, values = deals()
    p = model.probabilities(matrix)
    totals = simulate_won_totals(model, matrix, values, 20_000, np.random.default_rng(1))
    assert totals.shape == (20_000,)
    expected = float(values @ p)
    spread = float(np.sqrt(values**2 @ (p * (1 - p))))
    assert totals.mean() == pytest.approx(expected, abs=4 * spread / np.sqrt(20_000))
    # Independent deals: the totals' spread is the sum of the deals' variances.
    assert totals.std() == pytest.approx(spread, rel=0.05)
    # Every total is a sum of some of the deals' values.
    assert totals.min() >= 0.0
    assert totals.max() <= values.sum()


def test_a_period_shift_widens_the_band():
    matrix, values = deals()
    calm = simulate_won_totals(fixed_model(0.0), matrix, values, 20_000, np.random.default_rng(2))
    swinging = simulate_won_totals(
        fixed_model(0.8), matrix, values, 20_000, np.random.default_rng(2)
    )
    calm_band = np.percentile(calm, 95) - np.percentile(calm, 5)
    swinging_band = np.percentile(swinging, 95) - np.percentile(swinging, 5)
    assert swinging_band > 1.3 * calm_band


def test_parameter_uncertainty_widens_the_band():
    matrix, values = deals()
    sure = fixed_model(0.0)
    unsure = replace(sure, covariance=np.eye(2 * (WIDTH + 1)) * 0.5)
    tight = simulate_won_totals(sure, matrix, values, 10_000, np.random.default_rng(3))
    loose = simulate_won_totals(unsure, matrix, values, 10_000, np.random.default_rng(3))
    assert loose.std() > 1.2 * tight.std()


def test_no_deals_win_nothing():
    model = fixed_model(0.5)
    totals = simulate_won_totals(
        model, np.zeros((0, WIDTH)), np.zeros(0), 500, np.random.default_rng(0)
    )
    assert totals.shape == (500,)
    assert not totals.any()


def test_deals_the_model_cannot_win_win_nothing():
    model = fixed_model(0.0)
    matrix, values = deals(5)
    matrix[:, DECISIVE] = -60.0  # a win logit of about -60
    totals = simulate_won_totals(model, matrix, values, 1_000, np.random.default_rng(0))
    assert not totals.any()


def test_the_simulation_is_the_same_for_the_same_random_stream():
    matrix, values = deals()
    model = fixed_model(0.4)
    first = simulate_won_totals(model, matrix, values, 3_001, np.random.default_rng(9))
    again = simulate_won_totals(model, matrix, values, 3_001, np.random.default_rng(9))
    other = simulate_won_totals(model, matrix, values, 3_001, np.random.default_rng(10))
    assert first.shape == (3_001,)  # runs not a multiple of the parameter draws
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


# --------------------------------------------------------------------------- thresholds


def test_minimums_are_the_documented_ones():
    assert (MIN_TRAINING_ROWS, MIN_WINS) == (200, 20)


@pytest.mark.parametrize(
    ("rows", "wins", "enough"),
    [
        (MIN_TRAINING_ROWS, MIN_WINS, True),
        (MIN_TRAINING_ROWS - 1, MIN_WINS, False),
        (MIN_TRAINING_ROWS, MIN_WINS - 1, False),
        (MIN_TRAINING_ROWS - 1, MIN_WINS - 1, False),
        (10 * MIN_TRAINING_ROWS, 10 * MIN_WINS, True),
        (0, 0, False),
    ],
)
def test_enough_history_at_its_thresholds(rows, wins, enough):
    assert enough_history(rows, wins) is enough


def test_parameter_draws_follow_the_cholesky_factor_so_every_cpu_draws_the_same() -> None:
    # An eigendecomposition's vector signs vary with the processor's LAPACK kernels; the
    # Cholesky factor does not, so the draws are fixed by the seed alone.
    rng = np.random.default_rng(3)
    loose = rng.normal(size=(4, 4))
    covariance = loose @ loose.T + np.eye(4) * 0.1
    theta = np.array([0.5, -1.0, 2.0, 0.0])
    drawn = parameter_draws(theta, covariance, 20_000, np.random.default_rng(7))
    normal = np.random.default_rng(7).standard_normal((20_000, 4))
    expected = theta + normal @ np.linalg.cholesky(covariance).T
    np.testing.assert_allclose(drawn, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.cov(drawn.T), covariance, atol=0.15)


def test_parameter_draws_of_a_semi_definite_covariance_are_finite_and_keep_its_shape() -> None:
    # A parameter with no evidence either way leaves a zero row: still drawable.
    covariance = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    drawn = parameter_draws(np.zeros(3), covariance, 5_000, np.random.default_rng(1))
    assert np.isfinite(drawn).all()
    np.testing.assert_allclose(drawn[:, 0], drawn[:, 1], atol=1e-3)
    assert np.abs(drawn[:, 2]).max() < 1e-3
    assert 0.9 < drawn[:, 0].std() < 1.1


@pytest.mark.parametrize("deals", [7, 14_000])
def test_win_logits_are_each_draws_and_deals_whatever_the_split(deals: int) -> None:
    """A team's deals are worked in two halves on two cores: every logit is the very float
    the whole-array formula gives (draws x deals, won against lost or still open)."""
    rng = np.random.default_rng(deals)
    design = rng.normal(size=(deals, 12))
    parameters = rng.normal(size=(200, 24)) * 2.0
    won = design @ parameters[:, :12].T
    expected = (won - np.logaddexp(0.0, design @ parameters[:, 12:].T)).T.astype(np.float32)
    found = _win_logits(design, parameters)
    assert found.shape == (200, deals) and found.flags.c_contiguous
    assert np.array_equal(found, expected)
