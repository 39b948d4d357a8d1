"""An imported history whose amounts are filled in at the close (won deals carry what they
closed for, lost ones 0, open ones nothing), beside the same deals with their prices kept.

In the first, an amount tells how its deal ended: before the import no amount is known,
the history model learns nothing from it, and a deal without one counts as an amount won
before. In the second, amounts are what reps priced, and count as they are. Every test
runs on SQLite and Postgres.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from vectoros_tui.engine.dates import end_of_day
from vectoros_tui.store.as_of import WorkspaceHistory
from vectoros_tui.store.backtest import backtest
from vectoros_tui.store.csv_import import apply_import, plan_import
from vectoros_tui.store.history_forecast import TrainingGrid, fit_until

FIRST = date(2023, 1, 5)
EXPORTED = date(2024, 6, 30)
AS_OF = end_of_day(datetime(2024, 3, 31, tzinfo=UTC))
PRICES = (550, 1_100, 3_400, 4_800, 26_000)


def export(kind: str, deals: int = 700, seed: int = 4) -> tuple[str, list[dict]]:
    """A CSV of ``deals`` opportunities over 18 months, and its rows: amounts filled in at
    the close (``kind`` "at_close") or kept all along ("kept")."""
    rng = random.Random(seed)
    span = (EXPORTED - FIRST).days
    rows = []
    for number in range(deals):
        engaged = FIRST + timedelta(days=rng.randrange(span))
        closed = engaged + timedelta(days=1 + int(rng.expovariate(1 / 40)))
        price = rng.choice(PRICES)
        if closed > EXPORTED:
            stage, closed_on, amount = "Engaging", None, None if kind == "at_close" else price
        elif rng.random() < 0.45:
            stage, closed_on, amount = "Won", closed, price
        else:
            stage, closed_on, amount = "Lost", closed, 0 if kind == "at_close" else price
        rows.append(
            {
                "opportunity_id": f"OPP{number:05d}",
                "sales_agent": f"Agent {rng.randrange(8)}",
                "deal_stage": stage,
                "engage_date": engaged.isoformat(),
                "close_date": "" if closed_on is None else closed_on.isoformat(),
                "close_value": "" if amount is None else str(amount),
            }
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue(), rows


@pytest.fixture(params=["at_close", "kept"])
def imported(request, store, workspace):
    text, rows = export(request.param)
    plan = plan_import(
        io.StringIO(text),
        mapping={"title": "opportunity_id"},
        stage_map={"Engaging": "qualified"},
    )
    apply_import(store, workspace.id, plan)
    history = WorkspaceHistory.load(store.db, workspace.id, store.deals.records(workspace.id))
    return request.param, rows, history


def won_before(rows: list[dict], moment: datetime) -> list[float]:
    """The amounts of the deals won in the year to ``moment``."""
    start = (moment - timedelta(days=365)).date()
    return [
        float(r["close_value"])
        for r in rows
        if r["deal_stage"] == "Won" and start < date.fromisoformat(r["close_date"]) <= moment.date()
    ]


def test_the_history_reads_how_the_file_records_amounts(imported):
    kind, _, history = imported
    assert history.amounts_at_close is (kind == "at_close")


def test_before_the_import_an_outcome_set_amount_is_not_known(imported):
    """At a past moment, a deal open then has no amount in an at-close file (its amount
    today says how it ended) and its price in a kept one."""
    kind, rows, history = imported
    open_then = history.at(AS_OF, open_only=True)
    assert len(open_then) > 30
    by_title = {r["opportunity_id"]: r for r in rows}
    if kind == "at_close":
        assert {d.value for d in open_then} == {None}
    else:
        assert [d.value for d in open_then] == [
            float(by_title[d.title]["close_value"]) for d in open_then
        ]
    # Closed by then: how much it closed for is known, either way.
    closed = history.closed_between(AS_OF - timedelta(days=60), AS_OF)
    assert closed
    for deal in closed.values():
        assert deal.value == float(by_title[deal.title]["close_value"])


def test_the_model_learns_nothing_from_an_outcome_set_amount(imported):
    kind, rows, history = imported
    model, _ = fit_until(TrainingGrid(history, 30), AS_OF)
    if kind == "at_close":
        assert "value" in model.unlearned()
        amounts = won_before(rows, AS_OF)
        assert model.unpriced is not None
        assert model.unpriced.deals == len(amounts)
        assert model.unpriced.mean == pytest.approx(np.mean(amounts))
        assert model.unpriced.sd == pytest.approx(np.std(amounts, ddof=1))
    else:
        assert model.unpriced is None


def test_an_unpriced_open_deal_counts_as_an_amount_won_before(imported, store, workspace):
    """The pipeline as it stood on a past day: in an at-close file none of its amounts
    was known, and each deal counts as a past win's amount; the forecast says so. In a
    kept file every deal has its price and counts at it."""
    kind, _, history = imported
    result = store.analytics.history_forecast(workspace.id, as_of=AS_OF, simulations=4_000, seed=2)
    open_then = history.at(AS_OF, open_only=True)
    assert result["deals_analyzed"] == len(open_then)
    model, _ = fit_until(TrainingGrid(history, 30), AS_OF)
    rows = result["forecasted_deals"]
    chances = np.array([r["winProbabilityInWindow"] for r in rows])
    if kind == "at_close":
        assert result["unpriced_deals"] == len(open_then)
        assert result["total_pipeline_value"] == 0
        stand_in = result["unpriced_if_won"]
        assert stand_in["mean"] == pytest.approx(model.unpriced.mean, abs=0.01)
        assert stand_in["deals"] == model.unpriced.deals
        assert {r["value"] for r in rows} == {0}
        assert {r["value_if_won"] for r in rows} == {stand_in["mean"]}
        expected = float(chances.sum()) * stand_in["mean"]
    else:
        assert result["unpriced_deals"] == 0
        assert result["unpriced_if_won"] is None
        assert [r["value_if_won"] for r in rows] == [r["value"] for r in rows]
        expected = float(chances @ np.array([r["value"] for r in rows]))
    assert result["likely_case"] > 0
    assert result["mean_forecast"] == pytest.approx(expected, rel=0.05)
    weighted = sum(s["weighted_value"] for s in result["breakdown_by_stage"])
    assert weighted == pytest.approx(expected, rel=0.01)


def test_a_team_forecast_says_what_unpriced_deals_count_as(imported, store, workspace):
    """Each rep's band and the team's: unpriced deals count as past wins there too, and
    the result says so as the single forecast does."""
    kind, rows, _ = imported
    still_open = sum(1 for r in rows if r["deal_stage"] == "Engaging")
    moment = end_of_day(datetime.combine(EXPORTED, datetime.min.time(), tzinfo=UTC))
    result = store.analytics.team_forecast(
        workspace.id, model="history", simulations=2_000, seed=1, now=moment
    )
    assert result["model"] == "history"
    if kind == "at_close":
        assert result["unpriced_deals"] == still_open > 0
        assert result["unpriced_if_won"]["deals"] >= 10
        assert result["team"]["likely_case"] > 0
    else:
        assert result["unpriced_deals"] == 0
        assert result["unpriced_if_won"] is None


def test_a_backtest_says_how_the_file_records_amounts(imported, store, workspace):
    """Replayed before the import: in an at-close file the reps' model, which counts an
    unknown amount as $0, forecasts $0, and the result says why; the history model does
    not."""
    kind, _, _ = imported
    result = backtest(
        store.deals,
        workspace.id,
        start=AS_OF - timedelta(days=31),
        end=AS_OF,
        simulations=500,
        now=datetime(2024, 8, 1, tzinfo=UTC),
    )
    assert result["amounts_at_close"] is (kind == "at_close")
    reps = [row["forecasts"]["rep"]["p95"] for row in result["cutoffs"]]
    learned = [row["forecasts"]["history"]["p50"] for row in result["cutoffs"]]
    assert all(p > 0 for p in learned)
    if kind == "at_close":
        assert reps == [0.0] * len(reps)
    else:
        assert all(p > 0 for p in reps)
