"""What the forecast screen keeps between forecasts of the same deals (the deals' columns,
their win logits, the small deals' moments): a forecast computed with it after some deals
changed is the very one computing everything again gives, to the bit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import pytest
from test_many_deals import pipeline
from test_win_model import DECISIVE, fixed_model

from vectoros_tui.engine import many_deals
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.win_features import ColumnsReuse, OwnerRates, deal_features
from vectoros_tui.engine.win_model import LogitReuse, simulate_won_totals

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def simulate(model, matrix, values, seed=1, reuse=None):  # type: ignore[no-untyped-def]
    return simulate_won_totals(model, matrix, values, 4_000, np.random.default_rng(seed), reuse)


@pytest.mark.parametrize("changed", [[7], [0, 1, 2, 300, 4_999], list(range(0, 5_000, 9))])
def test_a_kept_simulation_after_changes_is_the_fresh_one(changed: list[int]) -> None:
    base = fixed_model(0.2)
    # Parameter uncertainty too: each run's draw moves every deal's chance.
    model = replace(base, covariance=np.eye(len(base.covariance)) * 0.002)
    matrix, values = pipeline(5_000)
    reuse = LogitReuse()
    first = simulate(model, matrix, values, reuse=reuse)
    assert np.array_equal(first, simulate(model, matrix, values))
    moved, priced = matrix.copy(), values.copy()
    moved[changed, DECISIVE] += 1.5
    priced[changed[::2]] *= 0.5  # a value too, for some: the small deals' sums move
    again = simulate(model, moved, priced, reuse=reuse)
    fresh = simulate(model, moved, priced)
    assert np.array_equal(again, fresh)
    assert not np.array_equal(again, first)  # the changes did move the totals


def test_another_seed_or_model_is_not_served_what_was_kept() -> None:
    model = fixed_model(0.2)
    matrix, values = pipeline(5_000)
    reuse = LogitReuse()
    simulate(model, matrix, values, seed=1, reuse=reuse)
    assert np.array_equal(
        simulate(model, matrix, values, seed=2, reuse=reuse),
        simulate(model, matrix, values, seed=2),
    )
    other = replace(model, won=model.won + 0.3)
    assert np.array_equal(
        simulate(other, matrix, values, seed=2, reuse=reuse),
        simulate(other, matrix, values, seed=2),
    )
    fewer_matrix, fewer_values = matrix[:-1], values[:-1]  # a deal closed: other shapes
    assert np.array_equal(
        simulate(other, fewer_matrix, fewer_values, seed=2, reuse=reuse),
        simulate(other, fewer_matrix, fewer_values, seed=2),
    )


def test_what_is_kept_cannot_be_written_to() -> None:
    matrix, values = pipeline(5_000)
    reuse = LogitReuse()
    simulate(fixed_model(0.2), matrix, values, reuse=reuse)
    design = fixed_model(0.2).design(matrix)
    kept = reuse.logits(design, reuse._last.parameters)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="read-only"):
        kept[0, 0] = 1.0


def test_team_columns_sum_their_blocks_as_the_whole_does() -> None:
    """A team's forecast (a column per owner) keeps no blocks and sums them as it goes:
    its team total agrees with the single-column forecast's."""
    model = fixed_model(0.2)
    matrix, values = pipeline(5_000)
    grouped = np.zeros((len(values), 2))
    grouped[np.arange(len(values)), np.arange(len(values)) % 2] = values
    single = simulate(model, matrix, values)
    assert len(values) > many_deals.MIN_DEALS
    by_owner = simulate(model, matrix, grouped)
    assert by_owner.shape == (4_000, 2)
    assert by_owner.sum(axis=1).mean() == pytest.approx(single.mean(), rel=0.01)


def deal(number: int, **fields: object) -> DealRecord:
    base = DealRecord(
        id=f"{number:08d}",
        title=f"Deal {number}",
        stage="proposal",
        value=1_000.0 * (number + 1),
        probability=40,
        close_date=date(2026, 12, 1 + number % 20),
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
        owner_id="rep-a" if number % 2 else "rep-b",
    )
    return replace(base, **fields)


def test_kept_columns_follow_the_records_that_changed() -> None:
    deals = [deal(n) for n in range(40)]
    owners = OwnerRates({"rep-a": (3, 10), "rep-b": (1, 10)}, 0.2)
    reuse = ColumnsReuse()
    deal_features(deals, NOW, 30, owners, reuse)
    changed = list(deals)
    changed[3] = replace(deals[3], stage="negotiation", probability=80)
    changed[10] = replace(deals[10], owner_id="rep-a", close_date=None, value=None)
    kept = deal_features(changed, NOW, 30, owners, reuse)
    fresh = deal_features(changed, NOW, 30, owners)
    assert np.array_equal(kept.matrix, fresh.matrix)
    assert np.array_equal(kept.owner_rate, fresh.owner_rate)
    assert kept.stages == fresh.stages
    # Other owners' rates (a new fit) are not the kept ones.
    refit = OwnerRates({"rep-a": (9, 10), "rep-b": (1, 10)}, 0.2)
    assert np.array_equal(
        deal_features(changed, NOW, 30, refit, reuse).matrix,
        deal_features(changed, NOW, 30, refit).matrix,
    )
    # Other records (a reload: every one a new object) are all read again, and agree.
    reloaded = [replace(d, probability=10) for d in changed]
    assert np.array_equal(
        deal_features(reloaded, NOW, 30, refit, reuse).matrix,
        deal_features(reloaded, NOW, 30, refit).matrix,
    )
