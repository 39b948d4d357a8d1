"""The Monte Carlo forecast and the per-deal adjustments.

The sampler is checked against exact answers, not just against itself: means against
sum(v·p'), percentiles and goal odds against the exact distribution of the total found by
enumerating every win/loss outcome of a small pipeline.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vectoros_tui.engine.deal_record import DealRecord, record_from_mapping
from vectoros_tui.engine.forecast import (
    MAX_DEAL_VALUE,
    REPORTED_PERCENTILES,
    ForecastInputError,
    effective_win_probability,
    forecast_distribution,
    forecast_revenue,
    listed_deals,
    parse_timeframe,
    simulate_totals,
)
from vectoros_tui.engine.probability import adjusted_probability, deal_confidence

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

RESULT_KEYS = {
    "timeframe",
    "scenario",
    "predicted_revenue",
    "confidence",
    "best_case",
    "likely_case",
    "worst_case",
    "mean_forecast",
    "standard_deviation",
    "deals_analyzed",
    "pipeline_coverage",
    "breakdown_by_stage",
    "simulation_stats",
    "forecasted_deals",
    "revenue_goal",
    "total_pipeline_value",
}


def make_deal(number: int = 1, **fields: Any) -> DealRecord:
    """A deal as the engine receives it; ``fields`` use the JSON names (``closeDate``)."""
    deal: dict[str, Any] = {
        "id": f"d{number}",
        "title": f"Deal {number}",
        "company": "Acme",
        "value": 10_000.0,
        "stage": "proposal",
        "probability": 50,
        "closeDate": (NOW + timedelta(days=10)).date().isoformat(),
        "createdAt": NOW.isoformat(),
        "updatedAt": NOW.isoformat(),
        "outcome": None,
        "contactName": "Ann Lee",
        "contactEmail": "ann@acme.test",
    }
    deal.update(fields)
    return record_from_mapping(deal)


def pipeline(values: Sequence[float], percents: Sequence[float]) -> list[DealRecord]:
    return [
        make_deal(i, value=v, probability=p)
        for i, (v, p) in enumerate(zip(values, percents, strict=True))
    ]


def expected_p(percent: float) -> float:
    """p' = a / (a + b) for the original's Beta(a, b), restated here independently."""
    p = percent / 100.0
    if p == 0.0:
        return 0.0
    a = max(10.0 * p, 0.5)
    b = max(10.0 * (1.0 - p), 0.5)
    return a / (a + b)


def exact_distribution(
    values: Sequence[float], percents: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Every outcome's total and probability, by enumerating all 2**n win/loss patterns."""
    n = len(values)
    patterns = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    win = np.array([expected_p(p) for p in percents])
    totals = patterns @ np.asarray(values, dtype=float)
    chances = np.prod(np.where(patterns == 1, win, 1.0 - win), axis=1)
    return totals, chances


def exact_cdf(totals: np.ndarray, chances: np.ndarray, x: float) -> float:
    return float(chances[totals <= x].sum())


def quantile_tolerance(q: float, samples: int) -> float:
    # Five binomial standard errors of an empirical CDF at q, plus the one-sample step of
    # the order statistics the percentile interpolates between.
    return 5.0 * math.sqrt(q * (1.0 - q) / samples) + 2.0 / samples


def all_finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(all_finite(v) for v in value)
    return True


# --- the sampler against exact answers -------------------------------------------------


def test_simulated_mean_and_spread_match_the_exact_moments() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(1_000, 250_000, size=40).astype(float)
    percents = rng.integers(0, 101, size=40).astype(float)
    win = np.array([expected_p(p) for p in percents])
    mean = float(values @ win)
    variance = float((values**2) @ (win * (1.0 - win)))
    runs = 40_000

    totals = simulate_totals(values, percents / 100.0, runs, np.random.default_rng(1))

    standard_error = math.sqrt(variance / runs)
    assert abs(totals.mean() - mean) < 4 * standard_error
    assert totals.std() == pytest.approx(math.sqrt(variance), rel=0.03)


def test_threaded_path_matches_the_exact_mean_and_is_reproducible() -> None:
    # 300 deals × 10,000 runs is above the size where streams run on threads.
    rng = np.random.default_rng(11)
    values = rng.integers(1_000, 100_000, size=300).astype(float)
    percents = rng.integers(1, 100, size=300).astype(float)
    win = np.array([expected_p(p) for p in percents])
    runs = 10_000

    first = simulate_totals(values, percents / 100.0, runs, np.random.default_rng(3))
    again = simulate_totals(values, percents / 100.0, runs, np.random.default_rng(3))

    np.testing.assert_array_equal(first, again)
    standard_error = math.sqrt(float((values**2) @ (win * (1.0 - win))) / runs)
    assert abs(first.mean() - float(values @ win)) < 4 * standard_error


def test_seeded_totals_do_not_depend_on_the_number_of_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Odd sizes: the streams' blocks differ in length and chunks do not fill whole words.
    values = np.linspace(1_000, 90_000, 251)
    p = np.linspace(0.05, 0.95, 251)
    threaded = simulate_totals(values, p, 10_003, np.random.default_rng(21))
    monkeypatch.setattr("vectoros_tui.engine.forecast.os.cpu_count", lambda: 1)
    single_core = simulate_totals(values, p, 10_003, np.random.default_rng(21))
    np.testing.assert_array_equal(threaded, single_core)


def test_percentiles_bracket_the_exact_distribution() -> None:
    # Distinct subset sums (powers of two plus small offsets) make every outcome its own
    # atom; the probabilities include extremes where p and p' differ most.
    values = [1_000.0 * 2**i + 7 * i for i in range(9)]
    percents = [2, 10, 25, 50, 65, 80, 90, 99, 100]
    totals, chances = exact_distribution(values, percents)
    runs = 50_000

    result = forecast_revenue(pipeline(values, percents), simulations=runs, seed=5, now=NOW)

    stats = result["simulation_stats"]
    for k in REPORTED_PERCENTILES:
        q = k / 100.0
        reported = stats[f"p{k}"]
        # Reported values are rounded to cents; exact totals are whole dollars here.
        below = exact_cdf(totals, chances, reported - 0.01)
        at = exact_cdf(totals, chances, reported + 0.01)
        tolerance = quantile_tolerance(q, runs)
        assert below - tolerance <= q <= at + tolerance, (k, reported, below, at)
    assert result["worst_case"] == stats["p5"]
    assert result["likely_case"] == stats["p50"]
    assert result["best_case"] == stats["p95"]


def test_goal_odds_match_the_exact_distribution() -> None:
    values = [12_000.0, 30_500.0, 8_250.0, 51_000.0, 19_999.0, 4_400.0, 77_000.0]
    percents = [35, 60, 90, 20, 75, 50, 10]
    totals, chances = exact_distribution(values, percents)
    runs = 50_000

    for goal in (0.0, 40_000.0, 90_000.0, 150_000.0):
        result = forecast_revenue(
            pipeline(values, percents), simulations=runs, seed=9, now=NOW, goal=goal
        )
        exact = float(chances[totals >= goal].sum())
        tolerance = 5 * math.sqrt(exact * (1 - exact) / runs) + 0.0005  # + 3 dp rounding
        assert result["goal"] == goal
        assert abs(result["probability_of_hitting_goal"] - exact) <= tolerance, goal


def test_sampler_uses_the_beta_mean_not_the_reps_probability() -> None:
    # p = 2%: a = 0.5, b = 9.8, p' = 0.0485. p = 100%: a = 10, b = 0.5, p' = 0.952.
    runs = 200_000
    for percent, other in ((2.0, 0.02), (100.0, 1.0)):
        win = expected_p(percent)
        totals = simulate_totals([1_000.0], [percent / 100.0], runs, np.random.default_rng(2))
        share = float(np.mean(totals > 0))
        standard_error = math.sqrt(win * (1 - win) / runs)
        assert abs(share - win) < 4 * standard_error
        assert abs(share - other) > 20 * standard_error


def test_win_probability_is_exact_below_a_256th() -> None:
    # For 5% <= p <= 95%, a + b = 10 and p' = p. This p sits just under a 1/256 boundary
    # (129/256 - 0.001/256), so a sampler that settled runs on one random byte and skipped
    # or mishandled the ties would be off by ~1/256 = 0.0039: ~20 standard errors here.
    p = (128 + 0.999) / 256
    deals, runs = 200, 50_000
    totals = simulate_totals(np.ones(deals), np.full(deals, p), runs, np.random.default_rng(8))
    share = totals.sum() / (deals * runs)
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / (deals * runs))


def test_effective_win_probability_formula() -> None:
    p = np.array([0.0, 0.001, 0.02, 0.05, 0.5, 0.95, 1.0])
    expected = [expected_p(x * 100) for x in p]
    np.testing.assert_allclose(effective_win_probability(p), expected, rtol=1e-15)
    assert effective_win_probability([0.02])[0] == pytest.approx(0.5 / 10.3)


def test_zero_probability_deal_never_wins() -> None:
    # Deliberate deviation: the original's Beta(0.5, 10) would win ~4.8% of runs.
    totals = simulate_totals([1e9, 5.0], [0.0, 0.5], 50_000, np.random.default_rng(0))
    assert totals.max() <= 5.0


# --- properties ------------------------------------------------------------------------

deal_rows = st.lists(
    st.tuples(
        st.one_of(
            st.integers(0, 2_000_000).map(float),
            st.floats(0, 5e6, allow_nan=False, allow_infinity=False),
        ),
        st.one_of(st.integers(0, 100).map(float), st.floats(0, 100, allow_nan=False)),
    ),
    min_size=0,
    max_size=12,
)
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(
    rows=deal_rows,
    seed=st.integers(0, 2**32 - 1),
    runs=st.sampled_from([1, 3, 2_000]),
)
def test_reported_figures_are_ordered_finite_and_serialisable(
    rows: list[tuple[float, float]], seed: int, runs: int
) -> None:
    deals = pipeline([v for v, _ in rows], [p for _, p in rows])
    result = forecast_revenue(deals, simulations=runs, seed=seed, now=NOW, goal=100_000)

    assert result["worst_case"] <= result["likely_case"] <= result["best_case"]
    stats = result["simulation_stats"]
    ordered = [stats["min"], *(stats[f"p{k}"] for k in REPORTED_PERCENTILES), stats["max"]]
    assert ordered == sorted(ordered)
    assert 0.0 <= result["confidence"] <= 1.0
    assert 0.0 <= result["probability_of_hitting_goal"] <= 1.0
    assert all_finite(result)
    json.dumps(result, allow_nan=False)
    assert result == forecast_revenue(deals, simulations=runs, seed=seed, now=NOW, goal=100_000)


@PROPERTY_SETTINGS
@given(
    rows=deal_rows.filter(bool),
    scale=st.floats(0.01, 1_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_scaling_every_value_scales_the_forecast(
    rows: list[tuple[float, float]], scale: float, seed: int
) -> None:
    values = np.array([v for v, _ in rows])
    p = np.array([q for _, q in rows]) / 100.0
    base = simulate_totals(values, p, 2_000, np.random.default_rng(seed))
    scaled = simulate_totals(values * scale, p, 2_000, np.random.default_rng(seed))
    np.testing.assert_allclose(scaled, base * scale, rtol=1e-9, atol=1e-6)

    percents = [q for _, q in rows]
    before = forecast_revenue(
        pipeline(list(values), percents), simulations=2_000, seed=seed, now=NOW
    )
    after = forecast_revenue(
        pipeline(list(values * scale), percents), simulations=2_000, seed=seed, now=NOW
    )
    for key in ("worst_case", "likely_case", "best_case", "mean_forecast"):
        # Both sides are rounded to cents, so allow half a cent on each, scaled.
        slack = 0.0051 * (1 + scale) + 1e-9 * abs(after[key])
        assert after[key] == pytest.approx(before[key] * scale, abs=slack), key


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.01, 1_000))
def test_threaded_sampler_scales_and_repeats(seed: int, scale: float) -> None:
    # 150 deals × 10,000 runs is large enough to run on the threaded streams.
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 500_000, size=150).astype(float)
    p = rng.integers(0, 101, size=150) / 100.0
    base = simulate_totals(values, p, 10_000, np.random.default_rng(seed))
    scaled = simulate_totals(values * scale, p, 10_000, np.random.default_rng(seed))
    np.testing.assert_allclose(scaled, base * scale, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(
        base, simulate_totals(values, p, 10_000, np.random.default_rng(seed))
    )
    assert np.all(base <= values[p > 0].sum())


@PROPERTY_SETTINGS
@given(rows=deal_rows, seed=st.integers(0, 2**32 - 1))
def test_a_zero_probability_deal_changes_nothing(
    rows: list[tuple[float, float]], seed: int
) -> None:
    deals = pipeline([v for v, _ in rows], [p for _, p in rows])
    huge = make_deal(999, value=1e12, probability=0)

    without = forecast_revenue(deals, simulations=2_000, seed=seed, now=NOW)
    with_it = forecast_revenue([*deals, huge], simulations=2_000, seed=seed, now=NOW)

    assert with_it["simulation_stats"]["max"] < 1e12
    assert with_it["simulation_stats"] == without["simulation_stats"]
    assert with_it["mean_forecast"] == without["mean_forecast"]


# --- which deals count -----------------------------------------------------------------


def forecast_ids(deals: list[DealRecord], timeframe: str = "30d", now: datetime = NOW) -> set[str]:
    result = forecast_revenue(deals, timeframe=timeframe, simulations=200, seed=1, now=now)
    return {row["deal_id"] for row in result["forecasted_deals"]}


def test_closed_and_decided_deals_are_excluded() -> None:
    deals = [
        make_deal(1),
        make_deal(2, outcome="won"),
        make_deal(3, outcome="lost"),
        make_deal(4, stage="closed"),
        make_deal(5, stage="closed_won"),
        make_deal(6, stage="Lost"),
        make_deal(7, outcome=""),
        # An unknown stage name is open: hiding the deal would hide a risk.
        make_deal(8, stage="mystery"),
        DealRecord(id="d9", stage="proposal", outcome="lost"),
        DealRecord(id="d10", stage="closed"),
    ]
    assert forecast_ids(deals) == {"d1", "d7", "d8"}


def test_window_keeps_undated_and_overdue_deals() -> None:
    deals = [
        make_deal(1, closeDate=None),
        make_deal(2, closeDate=(NOW - timedelta(days=40)).date().isoformat()),
        make_deal(3, closeDate=(NOW + timedelta(days=29)).isoformat()),
        make_deal(4, closeDate=NOW + timedelta(days=31)),
        make_deal(5, closeDate=(NOW + timedelta(days=45)).date()),
        make_deal(6, closeDate=(NOW + timedelta(days=75)).isoformat().replace("+00:00", "Z")),
        make_deal(7, closeDate=""),
    ]
    assert forecast_ids(deals, "30d") == {"d1", "d2", "d3", "d7"}
    assert forecast_ids(deals, "45d") == {"d1", "d2", "d3", "d4", "d5", "d7"}
    assert forecast_ids(deals, " 90D ") == {f"d{i}" for i in range(1, 8)}


def test_a_close_date_means_midnight_utc_of_that_day() -> None:
    deals = [
        make_deal(0, closeDate="2025-06-30"),
        make_deal(1, closeDate="2025-07-01"),
        make_deal(2, closeDate="2025-07-02"),
    ]
    midnight = datetime(2025, 6, 1, tzinfo=UTC)
    # The window ends at 2025-07-01T00:00Z exactly; midnight of July 1 is not after it.
    assert forecast_ids(deals, now=midnight) == {"d0", "d1"}
    assert forecast_ids(deals, now=midnight - timedelta(seconds=1)) == {"d0"}
    # 02:00 at +05:00 is 21:00 UTC the day before: July 1 is outside the window although
    # the local calendar would put it inside.
    east = datetime(2025, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=5)))
    assert forecast_ids(deals, now=east) == {"d0"}


def test_longer_window_counts_more_deals() -> None:
    deals = [
        make_deal(i, closeDate=(NOW + timedelta(days=3 * i)).date().isoformat())
        for i in range(1, 30)
    ]
    thirty = forecast_revenue(deals, timeframe="30d", simulations=500, seed=1, now=NOW)
    sixty = forecast_revenue(deals, timeframe="60d", simulations=500, seed=1, now=NOW)
    assert sixty["deals_analyzed"] > thirty["deals_analyzed"]
    assert sixty["total_pipeline_value"] > thirty["total_pipeline_value"]
    assert sixty["timeframe"] == "60d"


def test_naive_and_aware_now_agree() -> None:
    deals = [make_deal(i, probability=10 * i) for i in range(1, 8)]
    naive = forecast_revenue(deals, simulations=1_000, seed=4, now=NOW.replace(tzinfo=None))
    aware = forecast_revenue(deals, simulations=1_000, seed=4, now=NOW)
    assert naive == aware


# --- arguments and bad data ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeframe": "3 weeks"}, "timeframe must look like 30d, 60d or 90d (got '3 weeks')"),
        ({"timeframe": "30"}, "timeframe must look like"),
        ({"timeframe": "0d"}, "timeframe must look like"),
        ({"timeframe": 30}, "timeframe must look like"),
        ({"scenario": "optimistic"}, "scenario must be one of worst, likely, best"),
        ({"simulations": 0}, "simulations must be"),
        ({"simulations": 100.0}, "simulations must be a positive whole number"),
        ({"simulations": True}, "simulations must be a positive whole number"),
        ({"simulations": 10**9}, "simulations must be between 1 and"),
        ({"goal": -1}, "goal must be a finite number >= 0"),
        ({"goal": float("nan")}, "goal must be a finite number >= 0"),
        ({"goal": "100"}, "goal must be a finite number >= 0"),
    ],
)
def test_bad_arguments_are_explained(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ForecastInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        forecast_revenue([make_deal()], now=NOW, **kwargs)


def test_timeframe_accepts_any_number_of_days_up_to_the_bound() -> None:
    assert parse_timeframe("45d") == 45
    assert parse_timeframe(" 7D ") == 7
    # The longest window the config, the CLI and the server accept: 9999 days.
    far = forecast_revenue([make_deal()], timeframe="9999d", simulations=10, now=NOW)
    assert far["deals_analyzed"] == 1
    with pytest.raises(ForecastInputError, match="at most 9999d"):
        parse_timeframe("10000d")


def test_missing_value_counts_as_zero_and_missing_probability_as_fifty() -> None:
    # Built directly: the engine applies these defaults, whoever built the record.
    deals = [
        DealRecord(id="d1", stage="proposal"),
        DealRecord(id="d2", stage="proposal", value=10_000.0),
    ]
    result = forecast_revenue(deals, simulations=20_000, seed=3, now=NOW)
    assert result["deals_analyzed"] == 2
    assert result["total_pipeline_value"] == 10_000.0
    assert result["breakdown_by_stage"][0]["avg_probability"] == 0.5
    assert result["breakdown_by_stage"][0]["weighted_value"] == 5_000.0
    assert result["mean_forecast"] == pytest.approx(5_000, abs=4 * 10_000 * 0.5 / math.sqrt(20_000))
    assert [row["value"] for row in result["forecasted_deals"]] == [10_000.0, 0.0]


def test_max_deal_value_is_still_importable_from_the_forecast() -> None:
    from vectoros_tui.engine import deal_record

    assert MAX_DEAL_VALUE is deal_record.MAX_DEAL_VALUE == 1e15


def test_simulate_totals_rejects_bad_arrays() -> None:
    with pytest.raises(ForecastInputError, match="same length"):
        simulate_totals([1.0, 2.0], [0.5], 10)
    with pytest.raises(ForecastInputError, match="between 0 and 1"):
        simulate_totals([1.0], [50.0], 10)
    with pytest.raises(ForecastInputError, match="values must be amounts"):
        simulate_totals([-1.0], [0.5], 10)
    with pytest.raises(ForecastInputError, match="values must be amounts"):
        simulate_totals([np.nan], [0.5], 10)


# --- the result's shape ----------------------------------------------------------------


def test_result_shape_and_stage_breakdown() -> None:
    deals = [
        make_deal(1, stage="negotiation", value=40_000, probability=80),
        make_deal(2, stage="prospect", value=5_000, probability=10),
        make_deal(3, stage="lead", value=7_500, probability=20),
        make_deal(4, stage="proposal", value=20_000, probability=60),
        make_deal(5, stage="qualified", value=12_000, probability=30),
        make_deal(6, stage="negotiation", value=33_000, probability=70),
    ]
    result = forecast_revenue(deals, simulations=2_000, seed=1, now=NOW, scenario="best")

    assert set(result) == RESULT_KEYS
    assert result["scenario"] == "best"
    assert result["predicted_revenue"] == result["best_case"]
    assert result["simulation_stats"]["num_simulations"] == 2_000
    breakdown = result["breakdown_by_stage"]
    assert [row["stage"] for row in breakdown] == [
        "prospect",
        "qualified",
        "proposal",
        "negotiation",
    ]
    assert breakdown[0] == {
        "stage": "prospect",
        "deals": 2,
        "total_value": 12_500.0,
        "weighted_value": 2_000.0,
        "avg_probability": 0.15,
    }
    assert sum(row["deals"] for row in breakdown) == result["deals_analyzed"] == 6
    assert sum(row["total_value"] for row in breakdown) == pytest.approx(
        result["total_pipeline_value"]
    )
    assert sum(row["weighted_value"] for row in breakdown) == pytest.approx(
        sum(d.weighted_value for d in deals)
    )
    json.dumps(result, allow_nan=False)


def test_forecasted_deals_are_every_counted_deal_by_weighted_value() -> None:
    deals = [
        make_deal(i, value=1_000 * (i % 7 + 1), probability=3 * i, stage=stage)
        for i, stage in enumerate(["prospect", "qualified", "proposal", "negotiation"] * 8)
    ]
    result = forecast_revenue(deals, simulations=500, seed=1, now=NOW)

    rows = result["forecasted_deals"]
    assert len(rows) == len(deals)
    weights = [row["weighted_value"] for row in rows]
    assert weights == sorted(weights, reverse=True)
    by_id = {d.id: d for d in deals}
    for row in rows:
        deal = by_id[row["deal_id"]]
        adjusted = adjusted_probability(deal, NOW)
        assert row["adjusted_probability"] == round(adjusted, 3)
        assert row["weighted_value"] == round((deal.value or 0.0) * adjusted, 2)
        assert row["confidence_score"] == deal_confidence(deal, NOW)
        assert set(row) == {
            "deal_id",
            "title",
            "company",
            "value",
            "stage",
            "adjusted_probability",
            "weighted_value",
            "confidence_score",
        }


def test_breakdown_names_unknown_and_missing_stages() -> None:
    deals = [
        make_deal(1, stage="Mystery"),
        make_deal(2, stage=" mystery "),
        make_deal(3, stage=None),
        make_deal(4, stage="Negotiating"),
        DealRecord(id="d5", value=1_000.0, probability=10),
    ]
    result = forecast_revenue(deals, simulations=100, seed=1, now=NOW)
    breakdown = [(row["stage"], row["deals"]) for row in result["breakdown_by_stage"]]
    assert breakdown == [("negotiation", 1), ("mystery", 2), ("unknown", 2)]
    stages = {row["deal_id"]: row["stage"] for row in result["forecasted_deals"]}
    assert stages == {
        "d1": "mystery",
        "d2": "mystery",
        "d3": "unknown",
        "d4": "negotiation",
        "d5": "unknown",
    }


def test_rows_read_the_records_fields() -> None:
    deals = [
        DealRecord(id="", title="No id yet", stage="proposal", value=500.0, probability=40),
        make_deal(2, company=None, title="Second"),
    ]
    result = forecast_revenue(deals, simulations=100, seed=1, now=NOW)
    rows = {row["title"]: row for row in result["forecasted_deals"]}
    assert rows["No id yet"]["deal_id"] is None
    assert rows["No id yet"]["company"] is None
    assert rows["No id yet"]["value"] == 500.0
    assert rows["Second"]["deal_id"] == "d2"
    assert rows["Second"]["company"] is None
    untitled = forecast_revenue([DealRecord(id="d3", stage="proposal")], simulations=10, now=NOW)
    assert untitled["forecasted_deals"][0]["title"] is None
    json.dumps(result, allow_nan=False)


def test_empty_pipeline_is_all_zeros() -> None:
    result = forecast_revenue([], simulations=100, seed=1, now=NOW, goal=0)
    assert result["deals_analyzed"] == 0
    assert result["forecasted_deals"] == []
    assert result["breakdown_by_stage"] == []
    assert result["confidence"] == 0.0
    assert result["pipeline_coverage"] == 0.0
    assert result["probability_of_hitting_goal"] == 1.0
    assert set(result["simulation_stats"].values()) == {100, 0.0}
    assert all_finite(result)


def test_revenue_goal_and_coverage_follow_the_original() -> None:
    deals = [make_deal(i, value=25_000, closeDate=None) for i in range(4)]  # 100,000 total
    for timeframe, goal in (("30d", 40_000.0), ("60d", 60_000.0), ("90d", 80_000.0)):
        result = forecast_revenue(deals, timeframe=timeframe, simulations=100, now=NOW)
        assert result["total_pipeline_value"] == 100_000.0
        assert result["revenue_goal"] == goal
        assert result["pipeline_coverage"] == round(100_000 / goal, 3)
    given_goal = forecast_revenue(deals, simulations=100, now=NOW, goal=250_000)
    assert given_goal["revenue_goal"] == 250_000.0
    assert given_goal["pipeline_coverage"] == 0.4


def test_confidence_is_one_minus_the_coefficient_of_variation() -> None:
    result = forecast_revenue(
        pipeline([10_000] * 20, [50] * 20), simulations=5_000, seed=2, now=NOW
    )
    expected = 1 - result["standard_deviation"] / result["mean_forecast"]
    assert result["confidence"] == pytest.approx(expected, abs=1e-3)
    # A single coin-flip deal has std == mean: no confidence left.
    single = forecast_revenue(pipeline([10_000], [50]), simulations=5_000, seed=2, now=NOW)
    assert single["confidence"] < 0.05


# --- per-deal adjustments --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"stage": "prospect", "probability": 50}, 0.35),
        ({"stage": "lead", "probability": 50}, 0.35),
        ({"stage": "qualified", "probability": 40, "createdAt": NOW - timedelta(days=36)}, 0.272),
        # Whole days: 36 days and 22 hours is 36 days.
        (
            {"stage": "qualified", "probability": 40, "createdAt": NOW - timedelta(days=36.9)},
            0.272,
        ),
        ({"stage": "proposal", "probability": 80, "createdAt": None}, 0.8),
        ({"stage": "negotiation", "probability": 50}, 0.55),
        ({"stage": "negotiation", "probability": 95}, 1.0),  # 1.045 clamped
        ({"stage": "proposal", "probability": 60, "createdAt": NOW - timedelta(days=90)}, 0.3),
        ({"stage": "proposal", "probability": 60, "createdAt": NOW - timedelta(days=400)}, 0.3),
        ({"stage": "proposal", "probability": 60, "createdAt": "2025-04-02T12:00:00Z"}, 0.4),
        ({"stage": "mystery", "probability": 70}, 0.7),
        ({"stage": "proposal", "probability": None}, 0.5),
        ({"stage": "proposal", "probability": 0}, 0.0),
        # A createdAt in the future (clock skew) does not boost the rep's call.
        ({"stage": "proposal", "probability": 60, "createdAt": NOW + timedelta(days=30)}, 0.6),
    ],
)
def test_adjusted_probability(fields: dict[str, Any], expected: float) -> None:
    deal = make_deal(**fields)
    assert adjusted_probability(deal, NOW) == pytest.approx(expected, abs=1e-12)
    assert adjusted_probability(deal, NOW.replace(tzinfo=None)) == pytest.approx(expected)


def test_blank_text_on_a_stored_record_is_no_evidence() -> None:
    record = DealRecord(
        id="d1", company="  ", contact_name="", contact_email="ann@acme.test", updated_at=NOW
    )
    # 0.5, plus the email and the recent update; blank company and name earn nothing.
    assert deal_confidence(record, NOW) == 0.7


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, 1.0),
        ({"updatedAt": NOW - timedelta(days=8)}, 0.9),
        ({"updatedAt": NOW - timedelta(days=7)}, 1.0),
        ({"updatedAt": None, "company": "", "contactName": "  "}, 0.7),
        (
            {
                "company": None,
                "contactName": None,
                "contactEmail": None,
                "closeDate": None,
                "updatedAt": None,
            },
            0.5,
        ),
        ({"closeDate": date(2025, 7, 1), "updatedAt": "2025-05-30"}, 1.0),
    ],
)
def test_deal_confidence(fields: dict[str, Any], expected: float) -> None:
    assert deal_confidence(make_deal(**fields), NOW) == expected


def test_top_deals_keeps_the_heaviest_rows_and_the_asked_for_ones_exactly() -> None:
    deals = [
        make_deal(n, value=1_000.0 * (n % 7 + 1), probability=10 + n % 9 * 10) for n in range(60)
    ]
    full, full_totals = forecast_distribution(deals, "30d", seed=5, now=NOW)
    rows = full["forecasted_deals"]
    weights = [r["weighted_value"] for r in rows]
    assert weights == sorted(weights, reverse=True) and len(rows) == 60
    assert len(set(weights)) < 60  # ties exist, so the order among equals is checked too
    also = [rows[45]["deal_id"], rows[3]["deal_id"], "not-a-deal"]
    top, top_totals = forecast_distribution(
        deals, "30d", seed=5, now=NOW, top_deals=10, also_deals=also
    )
    assert top["forecasted_deals"] == [*rows[:10], rows[45]]
    assert np.array_equal(top_totals, full_totals)
    assert {k: v for k, v in top.items() if k != "forecasted_deals"} == {
        k: v for k, v in full.items() if k != "forecasted_deals"
    }


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(
        st.tuples(st.sampled_from([0.0, 1_000.0, 2_500.0]), st.sampled_from([0, 10, 20, 40])),
        min_size=0,
        max_size=40,
    ),
    top=st.integers(min_value=0, max_value=45),
    also=st.sets(st.integers(min_value=0, max_value=45), max_size=6),
)
def test_listed_top_rows_are_the_full_ranking_cut_at_top_plus_the_asked_for_ones(
    calls: list[tuple[float, int]], top: int, also: set[int]
) -> None:
    """The top rows are picked without sorting every deal: exactly the rows the whole
    ranking (ties in the caller's order) gives above ``top``, then the asked-for ones
    ranked lower, in the ranking's order."""
    deals = [make_deal(n, value=v, probability=p) for n, (v, p) in enumerate(calls)]
    ranked = forecast_distribution(deals, "30d", simulations=100, seed=0, now=NOW, rank_by_rep=True)
    full = ranked[0]["forecasted_deals"]
    wanted = {f"d{n}" for n in also}
    expected = [row for rank, row in enumerate(full) if rank < top or row["deal_id"] in wanted]
    assert listed_deals(deals, "30d", NOW, top, wanted) == expected


def test_also_deals_match_uuid_ids_as_text() -> None:
    ids = [uuid.UUID(int=n) for n in range(1, 6)]
    deals = [make_deal(n, id=str(ids[n - 1]), value=1_000.0 * n) for n in range(1, 6)]
    result, _ = forecast_distribution(
        deals, simulations=100, seed=1, now=NOW, top_deals=1, also_deals=[ids[0], str(ids[1])]
    )
    assert [row["deal_id"] for row in result["forecasted_deals"]] == [
        str(ids[4]),
        str(ids[1]),
        str(ids[0]),
    ]


def test_rows_can_be_ranked_by_the_reps_weight_the_simulation_draws_with() -> None:
    """The screens rank top deals by value x the rep's probability (the board's weighted
    value); the API keeps the original's adjusted weight. Prospects are adjusted down and
    negotiations up, so the two orders differ here."""
    deals = [
        make_deal(1, value=100_000, probability=60, stage="prospect"),
        make_deal(2, value=80_000, probability=70, stage="negotiation"),
    ]
    by_adjusted = forecast_revenue(deals, simulations=200, seed=1, now=NOW)["forecasted_deals"]
    by_rep, _ = forecast_distribution(deals, simulations=200, seed=1, now=NOW, rank_by_rep=True)
    assert [r["deal_id"] for r in by_rep["forecasted_deals"]] == ["d1", "d2"]  # 60k, 56k
    assert [r["deal_id"] for r in by_adjusted] == ["d2", "d1"]


def test_listed_deals_are_the_rows_a_forecast_ranked_by_the_reps_lists() -> None:
    """The forecast screen under the history model's headline lists the deals without the
    reps' simulation: the same rows, ties in the caller's order, asked-for deals after."""
    deals = [
        make_deal(n, value=1_000.0 * (n % 7 + 1), probability=10 + n % 9 * 10) for n in range(60)
    ]
    deals.append(make_deal(99, value=1e9, closeDate="2030-01-01"))  # outside the window
    for top, also in ((10, []), (10, ["d45", "d3", "d99", "not-a-deal"]), (60, ["d2"])):
        simulated, _ = forecast_distribution(
            deals, "30d", seed=5, now=NOW, top_deals=top, also_deals=also, rank_by_rep=True
        )
        listed = listed_deals(deals, "30d", NOW, top, also)
        assert listed == simulated["forecasted_deals"]
    weights = [r["value"] * (10 + int(r["deal_id"][1:]) % 9 * 10) for r in listed]
    assert weights == sorted(weights, reverse=True)
