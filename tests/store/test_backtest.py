"""The backtest: as-of forecasts replayed at past cut-offs and scored against what closed.

One generated history per database (a module-scoped database of this module's own: the
shared ``store`` fixture is emptied before every test), one default backtest of it; the
actuals are recomputed here from the deals as stored. Scoring and steps are checked on
hand-computed values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vectoros_tui.store.backtest import (
    MODELS,
    BacktestInputError,
    Step,
    backtest,
    pinball,
    score,
)
from vectoros_tui.store.demo import DemoSummary, create_demo_workspace
from vectoros_tui.store.store import Store

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
SIMULATIONS = 1_000


@pytest.fixture(scope="module")
def generated(module_store: Store) -> tuple[Store, DemoSummary]:
    summary = create_demo_workspace(
        module_store.db, name="Generated", deals=900, history_months=18, seed=21, now=NOW
    )
    return module_store, summary


@pytest.fixture(scope="module")
def result(generated) -> dict:
    store, summary = generated
    return backtest(store.deals, summary.workspace_id, simulations=SIMULATIONS, seed=0, now=NOW)


@pytest.fixture(scope="module")
def records(generated) -> list:
    store, summary = generated
    return store.deals.records(summary.workspace_id)


def end_of(day: str) -> datetime:
    """The last instant of a ``YYYY-MM-DD`` day, as the backtest's cut-offs are."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1, microseconds=-1)


def open_at(records, moment: datetime) -> list:
    """Deals open at ``moment`` (the generated history never reopens a deal)."""
    return [
        r
        for r in records
        if r.created_at <= moment and (r.closed_at is None or r.closed_at > moment)
    ]


# --------------------------------------------------------------------------- the default


def test_twelve_monthly_cutoffs_the_last_a_window_before_now(generated, result):
    _, summary = generated
    assert result["workspace_id"] == str(summary.workspace_id)
    assert result["timeframe"] == "30d"
    assert result["every"] == "1mo"
    assert result["simulations"] == SIMULATIONS
    days = [row["cutoff"] for row in result["cutoffs"]]
    # The last day whose whole window has passed: 31 days before 15 June.
    assert days[-1] == "2025-05-15"
    assert days == [f"{y}-{m:02d}-15" for y, m in [(2024, 6 + k) for k in range(7)]] + [
        f"2025-{m:02d}-15" for m in range(1, 6)
    ]
    assert (result["from"], result["to"]) == (days[0], days[-1])
    assert all(end_of(day) + WINDOW <= NOW for day in days)


def test_actuals_are_what_the_deals_open_then_won_in_the_window(result, records):
    for row in result["cutoffs"]:
        cutoff = end_of(row["cutoff"])
        open_then = open_at(records, cutoff)
        won = sum(
            r.value
            for r in open_then
            if r.outcome == "won" and cutoff < r.closed_at <= cutoff + WINDOW
        )
        assert row["actual"] == pytest.approx(won, abs=0.01)
        assert row["actual"] >= 0
        assert row["open_deals"] == len(open_then)
        assert row["pipeline_value"] > 0
    assert sum(row["actual"] > 0 for row in result["cutoffs"]) >= 10


def test_deals_won_in_the_window_but_created_after_the_cutoff_are_not_actuals(result, records):
    """A deal born after the cut-off and won inside its window was no part of the
    pipeline forecast then: counting it would make every model look pessimistic."""
    for row in result["cutoffs"]:
        cutoff = end_of(row["cutoff"])
        all_won = sum(
            r.value
            for r in records
            if r.outcome == "won" and cutoff < r.closed_at <= cutoff + WINDOW
        )
        assert row["actual"] <= all_won + 0.01


def test_every_cutoff_has_each_models_quantiles(result):
    for row in result["cutoffs"]:
        assert set(row["forecasts"]) == set(MODELS)
        for name in ("rep", "history"):
            band = row["forecasts"][name]
            if band is None:
                # Only the history model can lack history, and only early on.
                assert name == "history" and row["cutoff"] < "2024-09-01", row["cutoff"]
                continue
            values = [band[f"p{q}"] for q in (5, 10, 50, 90, 95)]
            assert values == sorted(values)
            assert values[0] >= 0
            assert values[-1] <= row["pipeline_value"]
        run_rate = row["forecasts"]["run_rate"]
        assert run_rate["p5"] <= run_rate["p10"] <= run_rate["p90"] <= run_rate["p95"]


def test_the_run_rate_is_the_last_ninety_days_per_window(result, records):
    won = [(r.closed_at, r.value) for r in records if r.outcome == "won"]
    for row in result["cutoffs"]:
        cutoff = end_of(row["cutoff"])
        recent = sum(v for at, v in won if cutoff - timedelta(days=90) < at <= cutoff)
        assert row["forecasts"]["run_rate"]["p50"] == pytest.approx(recent / 3, abs=0.01)
        windows = [
            sum(v for at, v in won if cutoff - (k + 1) * WINDOW < at <= cutoff - k * WINDOW)
            for k in range(6)
        ]
        assert min(windows) <= row["forecasts"]["run_rate"]["p5"]
        assert row["forecasts"]["run_rate"]["p95"] <= max(windows)


def test_the_summary_scores_each_model_over_the_cutoffs(result):
    assert set(result["summary"]) == set(MODELS)
    assert result["summary"]["rep"]["cutoffs"] == result["summary"]["run_rate"]["cutoffs"] == 12
    # The first cut-off (six months into the history) has too little for the history model.
    assert result["cutoffs"][0]["forecasts"]["history"] is None
    assert result["summary"]["history"]["cutoffs"] == 11
    for name, summary in result["summary"].items():
        rows = [row for row in result["cutoffs"] if row["forecasts"][name]]
        actuals = [row["actual"] for row in rows]
        count = len(rows)
        assert summary == score(result["cutoffs"], name)
        assert summary["cutoffs"] == count
        assert 0.0 <= summary["coverage_p5_p95"] <= 1.0
        # The P10–P90 band lies inside the P5–P95 one.
        assert 0.0 <= summary["coverage_p10_p90"] <= summary["coverage_p5_p95"]
        assert set(summary["pinball"]) == {"p5", "p50", "p95"}
        assert all(loss >= 0 for loss in summary["pinball"].values())
        assert summary["mean_pinball"] == pytest.approx(
            sum(summary["pinball"].values()) / 3, abs=0.02
        )
        assert summary["actual_total"] == pytest.approx(sum(actuals), abs=0.01)
        p50 = [row["forecasts"][name]["p50"] for row in rows]
        assert summary["p50_bias"] == pytest.approx(sum(p50) / sum(actuals) - 1, abs=1e-4)
        assert summary["p50_mae"] == pytest.approx(
            sum(abs(p - a) for p, a in zip(p50, actuals, strict=True)) / count, abs=0.01
        )
        width = [row["forecasts"][name]["p95"] - row["forecasts"][name]["p5"] for row in rows]
        assert summary["mean_band_width"] == pytest.approx(sum(width) / count, abs=0.01)
        inside = sum(
            row["forecasts"][name]["p5"] <= row["actual"] <= row["forecasts"][name]["p95"]
            for row in rows
        )
        assert summary["coverage_p5_p95"] == pytest.approx(inside / count, abs=1e-4)


def test_the_history_model_scores_better_than_the_reps(result):
    """The point of the history model: on a history where reps are optimistic and deals go
    stale, it forecasts closer than the reps' probabilities."""
    summary = result["summary"]
    assert summary["history"]["mean_pinball"] < summary["rep"]["mean_pinball"]
    assert abs(summary["history"]["p50_bias"]) < abs(summary["rep"]["p50_bias"])
    assert summary["history"]["coverage_p5_p95"] > summary["rep"]["coverage_p5_p95"]


def test_calibration_bins_predicted_chances_against_wins(result, records):
    calibration = result["calibration"]
    assert set(calibration) == {"rep", "history"}
    for name, bins in calibration.items():
        deal_periods = sum(row["open_deals"] for row in result["cutoffs"] if row["forecasts"][name])
        assert sum(b["deals"] for b in bins) == deal_periods, name
        for b in bins:
            assert b["to"] == pytest.approx(b["from"] + 0.1)
            assert b["from"] <= b["predicted"] <= b["to"]
            assert 0.0 <= b["observed"] <= 1.0
    # The observed shares count the deals open at a cut-off that won in its window.
    actual_wins = sum(round(b["observed"] * b["deals"]) for b in calibration["rep"])
    expected = 0
    for row in result["cutoffs"]:
        cutoff = end_of(row["cutoff"])
        expected += sum(
            r.outcome == "won" and cutoff < r.closed_at <= cutoff + WINDOW
            for r in open_at(records, cutoff)
        )
    assert actual_wins == expected > 0
    history_wins = sum(round(b["observed"] * b["deals"]) for b in calibration["history"])
    assert 0 < history_wins <= actual_wins


# --------------------------------------------------------------------------- ranges


def test_an_explicit_range_and_step(generated):
    store, summary = generated
    replayed = backtest(
        store.deals,
        summary.workspace_id,
        start=datetime(2025, 1, 31, tzinfo=UTC),
        end=datetime(2025, 3, 31, 8, tzinfo=UTC),
        every="1mo",
        models=("run_rate",),
        now=NOW,
    )
    assert [row["cutoff"] for row in replayed["cutoffs"]] == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-31",
    ]
    assert (replayed["from"], replayed["to"]) == ("2025-01-31", "2025-03-31")
    assert set(replayed["summary"]) == {"run_rate"}
    assert all(set(row["forecasts"]) == {"run_rate"} for row in replayed["cutoffs"])
    assert replayed["calibration"] == {}

    weekly = backtest(
        store.deals,
        summary.workspace_id,
        start=datetime(2025, 3, 1, tzinfo=UTC),
        end=datetime(2025, 3, 29, tzinfo=UTC),
        every="2w",
        models=("run_rate",),
        now=NOW,
    )
    assert [row["cutoff"] for row in weekly["cutoffs"]] == [
        "2025-03-01",
        "2025-03-15",
        "2025-03-29",
    ]


def test_a_model_without_enough_history_is_not_scored(generated, records):
    store, summary = generated
    first = min(r.created_at for r in records)
    early = backtest(
        store.deals,
        summary.workspace_id,
        start=first + timedelta(days=35),
        end=first + timedelta(days=95),
        every="1mo",
        models=("history",),
        simulations=200,
        now=NOW,
    )
    assert len(early["cutoffs"]) == 3
    assert all(row["forecasts"]["history"] is None for row in early["cutoffs"])
    assert early["summary"]["history"] == {
        "cutoffs": 0,
        "note": "no cut-off had enough history for this model",
    }
    assert early["calibration"] == {"history": []}


# --------------------------------------------------------------------------- bad input


def test_a_cutoff_whose_window_has_not_passed(generated):
    store, summary = generated
    with pytest.raises(BacktestInputError) as caught:
        backtest(store.deals, summary.workspace_id, end=NOW - timedelta(days=10), now=NOW)
    assert str(caught.value) == (
        "--to 2025-06-05: its 30-day window has not passed yet; the latest cut-off is 2025-05-15"
    )


def test_a_start_before_the_first_deal(generated, records):
    store, summary = generated
    first = min(r.created_at for r in records)
    with pytest.raises(BacktestInputError) as caught:
        backtest(store.deals, summary.workspace_id, start=first - timedelta(days=5), now=NOW)
    message = str(caught.value)
    assert message == (
        f"--from {(first - timedelta(days=5)).date().isoformat()} is before the first deal "
        f"({first.date().isoformat()})"
    )


def test_an_end_before_the_first_deal(generated, records):
    store, summary = generated
    first = min(r.created_at for r in records)
    with pytest.raises(BacktestInputError) as caught:
        backtest(store.deals, summary.workspace_id, end=first - timedelta(days=3), now=NOW)
    assert str(caught.value) == (
        f"--to {(first - timedelta(days=3)).date().isoformat()} is before the first deal "
        f"({first.date().isoformat()})"
    )


def test_a_start_after_the_end(generated):
    store, summary = generated
    with pytest.raises(BacktestInputError) as caught:
        backtest(
            store.deals,
            summary.workspace_id,
            start=datetime(2025, 4, 2, tzinfo=UTC),
            end=datetime(2025, 3, 1, tzinfo=UTC),
            now=NOW,
        )
    assert str(caught.value) == "--from 2025-04-02 is after --to 2025-03-01"


def test_an_empty_workspace_has_nothing_to_replay(store, workspace):
    with pytest.raises(BacktestInputError, match="the workspace has no deals"):
        backtest(store.deals, workspace.id, now=NOW)


@pytest.mark.parametrize("every", ["5x", "0mo", "0d", "", "mo", "1000d", "1.5mo", "-1w"])
def test_a_bad_step(generated, every):
    store, summary = generated
    with pytest.raises(BacktestInputError) as caught:
        backtest(store.deals, summary.workspace_id, every=every, now=NOW)
    message = str(caught.value)
    assert message.startswith(f"--every {every!r}:")
    assert "30d, 2w or 1mo" in message


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("1mo", Step(1, "mo")),
        ("30d", Step(30, "d")),
        ("2w", Step(2, "w")),
        (" 3 mo ", Step(3, "mo")),
        ("999d", Step(999, "d")),
    ],
)
def test_step_parse(text, step):
    assert Step.parse(text) == step


@pytest.mark.parametrize(
    ("every", "moment", "times", "expected"),
    [
        ("1mo", datetime(2025, 3, 31, 23, 59, tzinfo=UTC), 1, datetime(2025, 2, 28, 23, 59)),
        ("1mo", datetime(2024, 3, 31, 23, 59, tzinfo=UTC), 1, datetime(2024, 2, 29, 23, 59)),
        ("1mo", datetime(2025, 3, 31, tzinfo=UTC), 2, datetime(2025, 1, 31)),
        ("1mo", datetime(2025, 1, 31, tzinfo=UTC), 1, datetime(2024, 12, 31)),
        ("1mo", datetime(2025, 5, 31, tzinfo=UTC), 1, datetime(2025, 4, 30)),
        ("3mo", datetime(2025, 5, 31, tzinfo=UTC), 1, datetime(2025, 2, 28)),
        ("12mo", datetime(2024, 2, 29, tzinfo=UTC), 1, datetime(2023, 2, 28)),
        ("1mo", datetime(2025, 3, 15, tzinfo=UTC), 14, datetime(2024, 1, 15)),
        ("2w", datetime(2025, 3, 1, tzinfo=UTC), 1, datetime(2025, 2, 15)),
        ("1w", datetime(2025, 3, 1, tzinfo=UTC), 3, datetime(2025, 2, 8)),
        ("30d", datetime(2025, 3, 1, tzinfo=UTC), 1, datetime(2025, 1, 30)),
    ],
)
def test_step_back(every, moment, times, expected):
    assert Step.parse(every).back(moment, times) == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("actual", "predicted", "level", "loss"),
    [
        (100, 80, 0.5, 10.0),
        (100, 120, 0.5, 10.0),
        (100, 80, 0.95, 19.0),  # under-forecast at a high quantile costs much
        (100, 120, 0.95, 1.0),  # over-forecast at a high quantile costs little
        (100, 80, 0.05, 1.0),
        (100, 120, 0.05, 19.0),
        (100, 100, 0.3, 0.0),
        (0, 50, 0.5, 25.0),
    ],
)
def test_pinball(actual, predicted, level, loss):
    assert pinball(actual, predicted, level) == pytest.approx(loss)


def band(p5, p10, p50, p90, p95) -> dict:
    return {"p5": p5, "p10": p10, "p50": p50, "p90": p90, "p95": p95}


def test_score_on_hand_computed_rows():
    rows = [
        {"actual": 100.0, "forecasts": {"m": band(50, 60, 90, 120, 130)}},
        {"actual": 200.0, "forecasts": {"m": band(50, 60, 90, 120, 130)}},
        {"actual": 999.0, "forecasts": {"m": None}},  # not enough history: not scored
    ]
    assert score(rows, "m") == {
        "cutoffs": 2,
        "coverage_p5_p95": 0.5,
        "coverage_p10_p90": 0.5,
        # p5: (0.05*50 + 0.05*150) / 2; p50: (0.5*10 + 0.5*110) / 2;
        # p95: (0.05*30 + 0.95*70) / 2
        "pinball": {"p5": 5.0, "p50": 30.0, "p95": 34.0},
        "mean_pinball": 23.0,
        "p50_bias": -0.4,  # 180 / 300 - 1
        "p50_mae": 60.0,
        "mean_band_width": 80.0,
        "actual_total": 300.0,
    }


def test_score_without_actuals_or_forecasts():
    quiet = [{"actual": 0.0, "forecasts": {"m": band(0, 0, 10, 20, 30)}}]
    assert score(quiet, "m")["p50_bias"] is None
    assert score(quiet, "m")["coverage_p5_p95"] == 1.0
    assert score(quiet, "other") == {
        "cutoffs": 0,
        "note": "no cut-off had enough history for this model",
    }
