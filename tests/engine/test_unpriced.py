"""Open deals without an amount, where a workspace's amounts are filled in at the close."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from test_win_model import deals, fixed_model

from vectoros_tui.engine.unpriced import (
    MIN_LOST,
    MIN_WON_AMOUNTS,
    WonAmounts,
    amounts_at_close,
)
from vectoros_tui.engine.win_model import simulate_won_totals


def outcomes(won: int, lost: int, open_: int = 0) -> list[str | None]:
    return ["won"] * won + ["lost"] * lost + [None] * open_


@pytest.mark.parametrize(
    ("lost_values", "won_values", "expected"),
    [
        # The Maven CRM sample's way: lost at 0, open blank, won at what they closed for.
        ([0.0] * 40, [1_000.0] * 40, True),
        ([None] * 40, [1_000.0] * 40, True),
        # One lost deal in forty with an amount (a typo, a late edit): still the convention.
        ([0.0] * 39 + [500.0], [1_000.0] * 40, True),
        # A Salesforce export: every deal keeps its price, lost ones too.
        ([2_000.0] * 40, [1_000.0] * 40, False),
        # Half the lost deals priced: reps price some, not an outcome-set amount.
        ([0.0] * 20 + [2_000.0] * 20, [1_000.0] * 40, False),
        # Nobody prices anything: nothing to stand in for a missing amount.
        ([0.0] * 40, [0.0] * 40, False),
        # Too few lost deals to tell a convention from chance.
        ([0.0] * (MIN_LOST - 1), [1_000.0] * 40, False),
        # Too few won amounts to stand in for one.
        ([0.0] * 40, [1_000.0] * (MIN_WON_AMOUNTS - 1), False),
    ],
)
def test_amounts_filled_in_at_the_close_are_told_by_the_lost_deals(
    lost_values, won_values, expected
):
    values = [*won_values, *lost_values, 0.0, None]
    found = amounts_at_close(outcomes(len(won_values), len(lost_values), 2), values)
    assert found is expected


def test_won_amounts_leave_out_the_unpriced_and_need_enough():
    assert WonAmounts.of(np.array([100.0] * (MIN_WON_AMOUNTS - 1) + [0.0, math.nan])) is None
    amounts = np.array([100.0, 200.0, 300.0, 400.0] * 3 + [0.0, -5.0, math.nan])
    found = WonAmounts.of(amounts)
    assert found is not None
    assert found.deals == 12
    assert found.mean == pytest.approx(250.0)
    assert found.sd == pytest.approx(np.std([100, 200, 300, 400] * 3, ddof=1))


def test_an_unpriced_value_is_the_mean_won_and_a_priced_one_its_own():
    amounts = WonAmounts(mean=3_000.0, sd=1_000.0, deals=50)
    values, unpriced = amounts.priced(np.array([0.0, 1_500.0, math.nan, 20.0]))
    assert values.tolist() == [3_000.0, 1_500.0, 3_000.0, 20.0]
    assert unpriced.tolist() == [True, False, True, False]


def test_the_sum_of_k_unknown_amounts_has_k_times_their_mean_and_variance():
    amounts = WonAmounts(mean=4_000.0, sd=6_000.0, deals=500)
    wins = np.array([0.0, 1.0, 5.0, 40.0])
    expected = np.repeat((wins * amounts.mean)[None, :], 200_000, axis=0)
    drawn = amounts.totals(expected, np.random.default_rng(5))
    assert drawn.shape == expected.shape
    assert not drawn[:, 0].any(), "no win, nothing won"
    assert (drawn >= 0).all()
    for column, k in enumerate(wins.tolist()[1:], start=1):
        assert drawn[:, column].mean() == pytest.approx(k * amounts.mean, rel=0.02)
        assert drawn[:, column].var() == pytest.approx(k * amounts.sd**2, rel=0.05)


def test_amounts_that_never_vary_add_no_spread():
    amounts = WonAmounts(mean=1_000.0, sd=0.0, deals=20)
    expected = np.array([[0.0, 3_000.0]])
    assert amounts.totals(expected, np.random.default_rng(0)).tolist() == [[0.0, 3_000.0]]


def test_won_amounts_round_trip_through_json_and_refuse_nonsense():
    amounts = WonAmounts(mean=3_914.99, sd=6_510.14, deals=2_506)
    assert WonAmounts.from_json(amounts.to_json()) == amounts
    assert WonAmounts.from_json(None) is None
    for bad in ([1, 2], {"mean": -1, "sd": 1, "deals": 3}, {"mean": 1, "sd": "x", "deals": 3}):
        with pytest.raises((TypeError, ValueError)):
            WonAmounts.from_json(bad)
    with pytest.raises(KeyError):
        WonAmounts.from_json({"mean": 1.0})


def test_unpriced_deals_win_past_amounts_in_the_simulation():
    """Deals without an amount are each worth a past win's amount: the mean total is the
    chances times the mean won, and the spread of amounts widens the band beyond what
    counting each at the mean gives."""
    matrix, _ = deals(60)
    amounts = WonAmounts(mean=5_000.0, sd=8_000.0, deals=300)
    model = replace(fixed_model(0.0), unpriced=amounts)
    values, unpriced = amounts.priced(np.zeros(60))
    runs = 20_000
    totals = simulate_won_totals(
        model, matrix, values, runs, np.random.default_rng(7), None, unpriced
    )
    at_the_mean = simulate_won_totals(model, matrix, values, runs, np.random.default_rng(7))
    p = model.probabilities(matrix)
    assert totals.shape == (runs,)
    assert totals.mean() == pytest.approx(float(p.sum()) * amounts.mean, rel=0.02)
    # Var = E[k] sd^2 + Var(k) mean^2: the amounts' own spread on top of the wins'.
    variance = float(p.sum()) * amounts.sd**2 + float((p * (1 - p)).sum()) * amounts.mean**2
    assert totals.var() == pytest.approx(variance, rel=0.06)
    assert totals.std() > 1.5 * at_the_mean.std()


def test_priced_deals_keep_their_own_amount_beside_unpriced_ones():
    matrix, priced_values = deals(40)
    amounts = WonAmounts(mean=5_000.0, sd=8_000.0, deals=300)
    model = replace(fixed_model(0.0), unpriced=amounts)
    mixed = priced_values.copy()
    mixed[:20] = 0.0
    values, unpriced = amounts.priced(mixed)
    totals = simulate_won_totals(
        model, matrix, values, 20_000, np.random.default_rng(8), None, unpriced
    )
    p = model.probabilities(matrix)
    expected = float(p[:20].sum()) * amounts.mean + float(priced_values[20:] @ p[20:])
    assert totals.mean() == pytest.approx(expected, rel=0.02)


def test_group_totals_with_unpriced_deals_keep_each_groups_own():
    """A team's columns (one per owner): each owner's unpriced wins are drawn in their
    own column."""
    matrix, _ = deals(40)
    amounts = WonAmounts(mean=5_000.0, sd=8_000.0, deals=300)
    model = replace(fixed_model(0.0), unpriced=amounts)
    values, unpriced = amounts.priced(np.zeros(40))
    by_owner = np.zeros((40, 2))
    by_owner[:10, 0] = values[:10]
    by_owner[10:, 1] = values[10:]
    totals = simulate_won_totals(
        model, matrix, by_owner, 20_000, np.random.default_rng(9), None, unpriced
    )
    p = model.probabilities(matrix)
    assert totals.shape == (20_000, 2)
    assert totals[:, 0].mean() == pytest.approx(float(p[:10].sum()) * amounts.mean, rel=0.03)
    assert totals[:, 1].mean() == pytest.approx(float(p[10:].sum()) * amounts.mean, rel=0.03)


def test_without_won_amounts_an_unpriced_deal_wins_nothing():
    matrix, _ = deals(30)
    model = fixed_model(0.0)
    totals = simulate_won_totals(
        model, matrix, np.zeros(30), 1_000, np.random.default_rng(1), None, np.ones(30, bool)
    )
    assert not totals.any()
