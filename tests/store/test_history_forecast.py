"""The history model's forecast of a workspace, learned from the workspace's own past.

A generated history (``create_demo_workspace(history_months=18)``) is written once per
database for the read-only tests (a module-scoped database of this module's own: the
shared ``store`` fixture is emptied before every test). Tests that edit deals use the
``store`` fixture and a workspace of their own. Every test runs on SQLite and Postgres.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from vectoros_tui.engine.dates import end_of_day
from vectoros_tui.engine.win_features import REASON_GROUPS, deal_features, describe
from vectoros_tui.engine.win_model import MIN_TRAINING_ROWS, MIN_WINS, STILL_OPEN, WON
from vectoros_tui.store.as_of import WorkspaceHistory
from vectoros_tui.store.csv_import import apply_import, plan_import
from vectoros_tui.store.demo import DemoSummary, create_demo_workspace
from vectoros_tui.store.history_forecast import (
    PHASES,
    NotEnoughHistory,
    TrainingGrid,
    deal_digests,
    fit_until,
    forecast_inputs,
    known_deal_rows,
)
from vectoros_tui.store.store import Store

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)
# Training cut-offs are this far apart: windows that overlap, against every phase of a month.
STEP = timedelta(days=30 // PHASES)
SEED = 11
SIMULATIONS = 2_000


@pytest.fixture(scope="module")
def generated(module_store: Store) -> tuple[Store, DemoSummary]:
    summary = create_demo_workspace(
        module_store.db, name="Generated", deals=900, history_months=18, seed=SEED, now=NOW
    )
    return module_store, summary


@pytest.fixture(scope="module")
def forecast(generated) -> dict:
    store, summary = generated
    return store.analytics.history_forecast(
        summary.workspace_id, simulations=SIMULATIONS, seed=1, now=NOW
    )


def open_at(records, moment: datetime) -> list:
    """The deals open at ``moment``, from today's records alone (the generated history
    never reopens a deal, so its created and closed moments say it)."""
    return [
        r
        for r in records
        if r.created_at <= moment and (r.closed_at is None or r.closed_at > moment)
    ]


# --------------------------------------------------------------------------- the result


def test_the_result_is_the_history_models_forecast(generated, forecast):
    store, summary = generated
    records = store.deals.records(summary.workspace_id)
    open_now = [r for r in records if r.is_open]
    assert forecast["workspace_id"] == str(summary.workspace_id)
    assert forecast["model"] == "history"
    assert forecast["timeframe"] == "30d"
    assert forecast["deals_analyzed"] == len(open_now) == summary.open_deals
    assert forecast["total_pipeline_value"] == pytest.approx(sum(r.value for r in open_now))
    stats = forecast["simulation_stats"]
    assert stats["num_simulations"] == SIMULATIONS
    percentiles = [stats[f"p{k}"] for k in (5, 10, 25, 50, 75, 90, 95)]
    assert percentiles == sorted(percentiles)
    assert percentiles[0] >= 0
    assert percentiles[-1] <= forecast["total_pipeline_value"]
    assert (forecast["worst_case"], forecast["likely_case"], forecast["best_case"]) == (
        stats["p5"],
        stats["p50"],
        stats["p95"],
    )
    assert forecast["worst_case"] < forecast["best_case"]
    assert forecast["standard_deviation"] > 0
    assert "goal" not in forecast and "probability_of_hitting_goal" not in forecast


def test_the_mean_is_about_the_deals_expected_wins(forecast):
    """Parameter and period uncertainty move the mean a little (the win probability is
    not linear in the logit), not far."""
    expected = sum(d["value"] * d["winProbabilityInWindow"] for d in forecast["forecasted_deals"])
    assert forecast["mean_forecast"] == pytest.approx(expected, rel=0.2)


def past_windows(records, until: datetime) -> tuple[int, int, int, int]:
    """(cut-offs, open-deal periods, wins, losses) a fit at ``until`` learns from, counted
    from today's records: cut-offs a step apart from the end of the first deal's creation
    day plus a window, each whose whole window has passed by ``until``."""
    first = min(r.created_at for r in records)
    cutoffs = []
    cutoff = end_of_day(first) + WINDOW
    while cutoff + WINDOW <= until:
        cutoffs.append(cutoff)
        cutoff += STEP
    rows = wins = losses = 0
    for cutoff in cutoffs:
        for r in open_at(records, cutoff):
            rows += 1
            if r.closed_at is not None and r.closed_at <= cutoff + WINDOW:
                wins += r.outcome == "won"
                losses += r.outcome == "lost"
    return len(cutoffs), rows, wins, losses


def distinct_windows(records, until: datetime) -> tuple[int, int, int, int]:
    """What the history thresholds count: each deal's window once, not once in each of
    the overlapping windows that hold it (as many as there are phases)."""
    cutoffs, rows, wins, losses = past_windows(records, until)
    return -(-cutoffs // PHASES), round(rows / PHASES), round(wins / PHASES), losses


def test_the_training_summary_counts_the_past_windows(generated, forecast):
    store, summary = generated
    records = store.deals.records(summary.workspace_id)
    cutoffs, rows, wins, losses = past_windows(records, NOW)
    training = forecast["training"]
    assert training == {
        "cutoffs": cutoffs,
        "open_deal_periods": rows,
        "won_within_window": wins,
        "lost_within_window": losses,
        "base_rate": round(wins / rows, 4),
        "period_sd": training["period_sd"],
        "window_days": 30,
        "cutoff_every_days": STEP.days,
        "minimum": {"open_deal_periods": MIN_TRAINING_ROWS, "won_within_window": MIN_WINS},
        # A history kept from the start knows every reason.
        "not_learned": [],
    }
    assert training["period_sd"] >= 0
    assert rows >= MIN_TRAINING_ROWS and wins >= MIN_WINS


def test_each_deal_has_its_outcome_probabilities_and_reasons(generated, forecast):
    store, summary = generated
    open_now = {r.id: r for r in store.deals.records(summary.workspace_id) if r.is_open}
    rows = forecast["forecasted_deals"]
    assert [row["deal_id"] for row in rows if row["deal_id"] in open_now] == [
        row["deal_id"] for row in rows
    ]
    assert {row["deal_id"] for row in rows} == set(open_now)
    for row in rows:
        deal = open_now[row["deal_id"]]
        assert row["title"] == deal.title
        assert row["value"] == deal.value
        assert row["stage"] == deal.stage
        outcomes = (
            row["winProbabilityInWindow"],
            row["lossProbabilityInWindow"],
            row["stillOpenProbability"],
        )
        assert all(0.0 <= p <= 1.0 for p in outcomes)
        assert sum(outcomes) == pytest.approx(1.0, abs=3e-4)
        reasons = row["reasons"]
        assert 1 <= len(reasons) <= 3
        assert len({r["reason"] for r in reasons}) == len(reasons)
        assert all(r["reason"] in REASON_GROUPS for r in reasons)
        assert all(r["text"] and r["text"] != r["reason"] for r in reasons)
        for reason in reasons:
            assert reason["effect"] == ("raises" if reason["logit"] > 0 else "lowers")
        strengths = [abs(r["logit"]) for r in reasons]
        assert strengths == sorted(strengths, reverse=True)
    # The biggest expected wins first (up to the rounding of the probabilities).
    expected = [row["value"] * row["winProbabilityInWindow"] for row in rows]
    for i in range(len(rows) - 1):
        rounding = (rows[i]["value"] + rows[i + 1]["value"]) * 5e-5
        assert expected[i] >= expected[i + 1] - rounding


def test_reasons_quote_the_deals_own_numbers(generated, forecast):
    store, summary = generated
    open_now = [r for r in store.deals.records(summary.workspace_id) if r.is_open]
    features = deal_features(open_now, NOW, 30)
    index = {d.id: i for i, d in enumerate(open_now)}
    said = 0
    for row in forecast["forecasted_deals"]:
        for reason in row["reasons"]:
            said += 1
            if reason["reason"] == "owner":  # the owners' rates are the fitted model's
                assert re.fullmatch(
                    r"its owner won \d+% within a window before \(everyone \d+%\)",
                    reason["text"],
                )
                continue
            assert reason["text"] == describe(reason["reason"], features, index[row["deal_id"]])
        stage = [r for r in row["reasons"] if r["reason"] == "stage"]
        if stage:
            assert stage[0]["text"] == f"in {row['stage']}"
    assert said > len(forecast["forecasted_deals"])


def test_a_days_forecast_is_the_same_whenever_that_day_it_is_made(generated, forecast):
    """Made at 9:00 or 17:00 (the fixture's at noon), today's forecast of the same deals
    is the same to the cent, deal by deal: the app, the CLI and the server, each
    computing at its own moment, show one set of numbers. The next day's ages them."""
    store, summary = generated
    day = datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC)

    def made_at(moment: datetime) -> dict:
        return store.analytics.history_forecast(
            summary.workspace_id, simulations=SIMULATIONS, seed=1, now=moment
        )

    assert made_at(day + timedelta(hours=9)) == forecast
    assert made_at(day + timedelta(hours=17, minutes=59)) == forecast
    tomorrow = made_at(day + timedelta(days=1, hours=9))
    assert [r["winProbabilityInWindow"] for r in tomorrow["forecasted_deals"]] != [
        r["winProbabilityInWindow"] for r in forecast["forecasted_deals"]
    ]


def test_open_deals_without_a_value_are_counted_and_count_nothing(store):
    """A deal with no value (a blank is stored as 0) adds nothing to the totals if won:
    the forecast says how many there are (a generated history prices every deal)."""
    summary = small_history(store, "Unpriced")
    day = dict(simulations=500, seed=3, now=LATER)
    before = store.analytics.history_forecast(summary.workspace_id, **day)
    assert before["unpriced_deals"] == 0
    biggest = sorted(
        store.deals.records(summary.workspace_id, open_only=True), key=lambda d: -(d.value or 0)
    )[:3]
    for deal in biggest:
        store.deals.update(uuid.UUID(deal.id), {"value": None}, now=LATER)
    after = store.analytics.history_forecast(summary.workspace_id, **day)
    assert after["unpriced_deals"] == 3
    assert after["deals_analyzed"] == before["deals_analyzed"]
    unpriced = sum(d.value for d in biggest)
    assert after["total_pipeline_value"] == pytest.approx(
        before["total_pipeline_value"] - unpriced, abs=0.01
    )
    assert after["mean_forecast"] < before["mean_forecast"]


def test_deals_further_along_are_more_likely_to_be_won(forecast):
    by_stage = defaultdict(list)
    for row in forecast["forecasted_deals"]:
        by_stage[row["stage"]].append(row["winProbabilityInWindow"])
    mean = {stage: sum(p) / len(p) for stage, p in by_stage.items()}
    assert mean["negotiation"] > mean["proposal"] > mean["prospect"]
    assert mean["negotiation"] > 3 * mean["prospect"]


def test_the_same_seed_gives_the_same_forecast_and_a_goal_is_scored_on_its_runs(
    generated, forecast
):
    store, summary = generated
    again = store.analytics.history_forecast(
        summary.workspace_id, simulations=SIMULATIONS, seed=1, now=NOW, goal=0
    )
    assert again.pop("goal") == 0
    assert again.pop("probability_of_hitting_goal") == 1.0  # every run wins at least 0
    assert again.pop("revenue_goal") == 0 and forecast.pop("revenue_goal") is None
    # As the reps' forecast reports a zero goal's coverage (JSON has no infinity).
    assert again.pop("pipeline_coverage") == 0.0 and forecast.pop("pipeline_coverage") is None
    assert again == forecast
    other = store.analytics.history_forecast(
        summary.workspace_id,
        simulations=SIMULATIONS,
        seed=2,
        now=NOW,
        goal=forecast["likely_case"],
    )
    # Another seed: other runs, the same model.
    assert other["simulation_stats"] != forecast["simulation_stats"]
    assert other["forecasted_deals"] == forecast["forecasted_deals"]
    assert other["training"] == forecast["training"]
    # About half the runs reach the median of as many others.
    assert other["goal"] == forecast["likely_case"]
    assert 0.4 <= other["probability_of_hitting_goal"] <= 0.6


def test_a_longer_window_wins_more(generated, forecast):
    store, summary = generated
    beyond = forecast["total_pipeline_value"] + 1
    longer = store.analytics.history_forecast(
        summary.workspace_id, window_days=90, simulations=SIMULATIONS, seed=1, now=NOW, goal=beyond
    )
    assert longer["timeframe"] == "90d"
    assert longer["training"]["window_days"] == 90
    assert longer["training"]["cutoffs"] < forecast["training"]["cutoffs"]
    assert longer["mean_forecast"] > forecast["mean_forecast"]
    # No run wins more than the whole pipeline.
    assert longer["probability_of_hitting_goal"] == 0.0


# --------------------------------------------------------------------------- the grid


def test_the_training_grid_is_a_step_apart_and_only_of_passed_windows(generated):
    store, summary = generated
    records = store.deals.records(summary.workspace_id)
    history = WorkspaceHistory.load(store.db, summary.workspace_id, records)
    grid = TrainingGrid(history, 30)
    until = NOW - timedelta(days=100)
    cutoffs = grid.cutoffs(until)
    first = min(r.created_at for r in records)
    assert cutoffs[0] == end_of_day(first) + WINDOW
    assert all(c == end_of_day(c) for c in cutoffs)
    assert grid.step == STEP and grid.overlap == PHASES
    assert all(b - a == STEP for a, b in itertools.pairwise(cutoffs))
    assert cutoffs[-1] + WINDOW <= until < cutoffs[-1] + WINDOW + STEP
    # Labels: how each deal open at the cut-off ended its window.
    cutoff = cutoffs[len(cutoffs) // 2]
    matrix, outcome = grid.block(cutoff)
    open_then = open_at(records, cutoff)
    assert matrix.shape[0] == len(outcome) == len(open_then)
    expected_wins = sum(r.outcome == "won" and r.closed_at <= cutoff + WINDOW for r in open_then)
    assert int((outcome == WON).sum()) == expected_wins
    assert (outcome == STILL_OPEN).sum() == sum(
        r.closed_at is None or r.closed_at > cutoff + WINDOW for r in open_then
    )
    training = grid.until(until)
    assert training.cutoffs == len(cutoffs)
    assert training.period.max() == len(cutoffs) - 1
    assert len(training.outcome) == training.matrix.shape[0]
    model, used = fit_until(grid, until)
    assert model.rows == len(used.outcome) == len(training.outcome)
    assert model.periods == len(cutoffs)
    # A replay per rep asks the grid for the same moments again: the fit is kept, and a
    # moment a window later is a fit of its own.
    assert fit_until(grid, until)[0] is model
    later, _ = fit_until(grid, until + WINDOW)
    assert later is not model and later.rows > model.rows


def test_the_grid_starts_at_the_first_window_in_which_a_deal_closed(store, workspace):
    """An export that starts mid-stream (nothing closed in its first months): windows
    that ended before anything ever closed are not learned from, since they would teach
    that young deals, and every deal then, never close."""
    first_close = date(2023, 6, 1)
    lines = ["opportunity_id,deal_stage,engage_date,close_date,close_value"]
    for number in range(300):
        engaged = date(2023, 1, 2) + timedelta(days=number)
        # The first months' deals closed late; the rest closed soon or are not listed.
        closed = engaged + timedelta(days=(151 if number < 60 else 20) + number % 40)
        if closed < first_close:
            continue  # not in the export
        stage = "Won" if number % 2 else "Lost"
        lines.append(f"O{number},{stage},{engaged},{closed},{100 + number}")
    plan = plan_import(io.StringIO("\n".join(lines) + "\n"), mapping={"title": "opportunity_id"})
    apply_import(store, workspace.id, plan)
    records = store.deals.records(workspace.id)
    history = WorkspaceHistory.load(store.db, workspace.id, records)
    assert history.first_closed == min(r.closed_at for r in records if r.closed_at)
    assert (
        history.first_closed.date()
        == min(r.closed_at.date() for r in records if r.closed_at)
        >= first_close
    )
    cutoffs = TrainingGrid(history, 30).cutoffs(datetime(2024, 3, 1, tzinfo=UTC))
    first = end_of_day(min(r.created_at for r in records)) + WINDOW
    # The grid keeps its place (a step apart from the first creation day) ...
    assert all((c - first) % STEP == timedelta(0) for c in cutoffs)
    assert all(b - a == STEP for a, b in itertools.pairwise(cutoffs))
    # ... and starts at the first window that holds the first close.
    assert cutoffs[0] + WINDOW - STEP < history.first_closed <= cutoffs[0] + WINDOW
    assert cutoffs[0] > first


def test_too_early_a_moment_has_too_little_history(generated):
    store, summary = generated
    records = store.deals.records(summary.workspace_id)
    history = WorkspaceHistory.load(store.db, summary.workspace_id, records)
    first = min(r.created_at for r in records)
    with pytest.raises(NotEnoughHistory) as caught:
        fit_until(TrainingGrid(history, 30), first + timedelta(days=59))
    message = str(caught.value)
    assert "0 open-deal periods and 0 wins within 30 days in 0 past windows" in message
    assert f"at least {MIN_TRAINING_ROWS} and {MIN_WINS}" in message
    with pytest.raises(NotEnoughHistory):
        store.analytics.history_forecast(
            summary.workspace_id, simulations=100, seed=1, as_of=first + timedelta(days=75)
        )


# --------------------------------------------------------------------------- as of


def test_an_as_of_forecast_is_of_the_deals_open_then(generated):
    store, summary = generated
    as_of = NOW - timedelta(days=120)
    result = store.analytics.history_forecast(
        summary.workspace_id, simulations=SIMULATIONS, seed=1, as_of=as_of
    )
    records = store.deals.records(summary.workspace_id)
    assert {row["deal_id"] for row in result["forecasted_deals"]} == {
        r.id for r in open_at(records, as_of)
    }
    assert result["training"]["cutoffs"] == past_windows(records, as_of)[0]


AS_OF = NOW - timedelta(days=90)
# Edits are made after everything the history holds (the generator plays out to NOW): an
# edit stamped before a change already stored would rewrite that change's past.
LATER = NOW + timedelta(days=1)


def small_history(store: Store, name: str) -> DemoSummary:
    """Enough history at AS_OF to fit on, and quick to write and replay."""
    return create_demo_workspace(
        store.db, name=name, deals=500, history_months=12, seed=13, now=NOW
    )


def as_of_forecast(store: Store, workspace_id: uuid.UUID) -> dict:
    return store.analytics.history_forecast(
        workspace_id, simulations=500, seed=3, as_of=AS_OF, now=NOW
    )


def test_an_as_of_forecast_learns_nothing_from_later_outcomes(store):
    summary = small_history(store, "Later")
    before = as_of_forecast(store, summary.workspace_id)
    records = store.deals.records(summary.workspace_id)
    open_then = {r.id for r in open_at(records, AS_OF)}
    assert len(before["forecasted_deals"]) == len(open_then)
    won = slipped = 0
    for record in records:
        if record.is_open and record.id in open_then:
            # Every deal open then and still open is won later, re-priced.
            store.deals.update(
                record.id,
                {"stage": "closed", "outcome": "won", "probability": 100, "value": 1e6},
                now=LATER,
            )
            won += 1
        elif record.is_open and slipped < 10:
            store.deals.update(
                record.id,
                {"close_date": (LATER + timedelta(days=60)).date(), "probability": 90},
                now=LATER,
            )
            slipped += 1
    assert won > 20 and slipped == 10
    edited = {r.id: r for r in store.deals.records(summary.workspace_id)}
    assert sum(r.outcome == "won" and r.closed_at == LATER for r in edited.values()) == won
    assert as_of_forecast(store, summary.workspace_id) == before


def test_an_as_of_forecast_learns_nothing_from_later_reopenings(store):
    """Deals lost inside the as-of forecast's training windows, reopened after the as-of
    moment: at the as-of moment they were lost, and the training must say so."""
    summary = small_history(store, "Reopened")
    before = as_of_forecast(store, summary.workspace_id)
    records = store.deals.records(summary.workspace_id)
    reopened = 0
    for record in records:
        if (
            record.outcome == "lost"
            and AS_OF - timedelta(days=150) < record.closed_at < AS_OF - 2 * WINDOW
            and reopened < 15
        ):
            store.deals.reopen(uuid.UUID(record.id))
            reopened += 1
    assert reopened == 15
    after = as_of_forecast(store, summary.workspace_id)
    assert after["training"] == before["training"]
    assert after == before


# --------------------------------------------------------------------------- too little


def test_an_empty_workspace_has_no_history(store, workspace):
    with pytest.raises(NotEnoughHistory) as caught:
        store.analytics.history_forecast(workspace.id, simulations=100, seed=1, now=NOW)
    message = str(caught.value)
    assert "0 open-deal periods and 0 wins" in message
    assert f"at least {MIN_TRAINING_ROWS} and {MIN_WINS}" in message


def test_a_thin_history_says_how_much_there_is_and_how_much_is_needed(store):
    summary = create_demo_workspace(
        store.db, name="Thin", deals=60, history_months=18, seed=3, now=NOW
    )
    cutoffs, rows, wins, _ = distinct_windows(store.deals.records(summary.workspace_id), NOW)
    assert rows < MIN_TRAINING_ROWS and wins < MIN_WINS
    with pytest.raises(NotEnoughHistory) as caught:
        store.analytics.history_forecast(summary.workspace_id, simulations=100, seed=1, now=NOW)
    message = str(caught.value)
    assert (
        f"too little history for the history model: {rows} open-deal periods and {wins} wins "
        f"within 30 days in {cutoffs} past windows" in message
    )
    assert f"at least {MIN_TRAINING_ROWS} and {MIN_WINS}" in message


def test_enough_rows_but_too_few_wins_is_too_little(store):
    summary = create_demo_workspace(
        store.db, name="Few wins", deals=150, history_months=18, seed=4, now=NOW
    )
    records = store.deals.records(summary.workspace_id)
    _, rows, wins, _ = distinct_windows(records, NOW)
    assert rows >= MIN_TRAINING_ROWS
    assert wins < MIN_WINS
    history = WorkspaceHistory.load(store.db, summary.workspace_id, records)
    with pytest.raises(NotEnoughHistory, match=f"{rows} open-deal periods and {wins} wins"):
        fit_until(TrainingGrid(history, 30), NOW)
    with pytest.raises(NotEnoughHistory, match=f"at least {MIN_TRAINING_ROWS} and {MIN_WINS}"):
        store.analytics.history_forecast(summary.workspace_id, simulations=100, seed=1, now=NOW)


def test_a_kept_forecasts_rows_are_reused_only_for_the_same_fit_and_deal_fields(generated):
    store, summary = generated
    deals = store.deals.records(summary.workspace_id, open_only=True)[:3]
    digests = deal_digests(deals)
    rows = [{"deal_id": d.id, "title": d.title} for d in deals]
    kept = {"result": {"forecasted_deals": rows}, "inputs": forecast_inputs("fit", deals, digests)}
    assert known_deal_rows(kept, "fit", deals, digests) == {
        d.id: r for d, r in zip(deals, rows, strict=True)
    }
    assert known_deal_rows(kept, "another fit", deals, digests) == {}
    changed = [deals[0], dataclasses.replace(deals[1], probability=7), deals[2]]
    assert set(known_deal_rows(kept, "fit", changed, deal_digests(changed))) == {
        deals[0].id,
        deals[2].id,
    }
    # Every field a row reads counts, the last activity too.
    later = dataclasses.replace(deals[2], last_activity_at=NOW)
    assert deal_digests([later]) != digests[2:]


def test_a_kept_forecast_not_as_this_version_keeps_it_gives_no_rows(generated):
    store, summary = generated
    deals = store.deals.records(summary.workspace_id, open_only=True)[:2]
    digests = deal_digests(deals)
    rows = {"forecasted_deals": [{"deal_id": deals[0].id}]}
    for damaged in (
        {},
        {"inputs": None, "result": rows},
        {"inputs": {"fit": "fit", "deals": [1]}, "result": rows},
        {"inputs": {"fit": "fit", "deals": {deals[0].id: 5}}, "result": rows},
        {"inputs": forecast_inputs("fit", deals, digests), "result": {}},
        {"inputs": forecast_inputs("fit", deals, digests), "result": {"forecasted_deals": [3]}},
    ):
        assert known_deal_rows(damaged, "fit", deals, digests) == {}, damaged
