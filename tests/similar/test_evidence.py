"""Evidence from the closest closed deals: win rate, sales cycle, why deals were lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from vectoros_tui.similar.evidence import EVIDENCE_DEALS, evidence_from
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.deal_sources import DealSource
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

START = datetime(2026, 1, 1, tzinfo=UTC)
WORKSPACE = uuid.uuid4()


def deal(outcome: str | None, reason: str | None = None, days: float | None = None) -> DealSource:
    """A deal created at START; closed ``days`` later when it has an outcome."""
    closed = START + timedelta(days=days) if outcome and days is not None else None
    return DealSource(
        id=uuid.uuid4(),
        workspace_id=WORKSPACE,
        title="A deal",
        company=None,
        stage="closed" if outcome else "proposal",
        value=10_000,
        probability=0 if outcome == "lost" else 50,
        contact_name=None,
        outcome=outcome,
        lost_reason=reason,
        close_date=None,
        created_at=START,
        closed_at=closed,
    )


def test_counts_win_rate_cycle_and_reasons() -> None:
    deals = [
        deal("lost", "Price", 10),
        deal("lost", "price", 20),
        deal("won", None, 30),
        deal("lost", "PRICE.", 40),
        deal("lost", "Went with a competitor", 50),
        deal("lost", "  price ", 60),
        deal("lost", "price!", 70),
        deal("won", None, 80),
        deal("lost", "timing", 90),
        deal("won", None, 100),
    ]

    evidence = evidence_from(deals)

    assert (evidence.closed, evidence.won, evidence.lost) == (10, 3, 7)
    assert evidence.win_rate == pytest.approx(0.3)
    assert evidence.median_cycle_days == pytest.approx(55)
    assert evidence.lost_reasons[0] == ("price", 5)
    assert {r for r, _ in evidence.lost_reasons[1:]} == {"went with a competitor", "timing"}
    assert evidence.summary() == (
        "7 of the 10 most similar closed deals were lost, 5 on price; median sales cycle 55 days."
    )
    api = evidence.to_api()
    assert api["closed_deals"] == 10 and api["win_rate"] == pytest.approx(0.3)
    assert api["top_lost_reasons"][0] == {"reason": "price", "count": 5}
    assert api["summary"] == evidence.summary()


def test_only_the_ten_closest_closed_deals_count_and_open_ones_never() -> None:
    closest = [deal("lost", "price", 5) for _ in range(EVIDENCE_DEALS)]
    farther = [deal("won", None, 500) for _ in range(5)]
    mixed = [deal(None), *closest[:5], deal(None), *closest[5:], *farther]

    evidence = evidence_from(mixed)

    assert (evidence.closed, evidence.won, evidence.lost) == (10, 0, 10)
    assert evidence.win_rate == 0
    assert evidence.median_cycle_days == pytest.approx(5)
    assert evidence.lost_reasons == (("price", 10),)


def test_a_mostly_won_neighbourhood_reads_as_won() -> None:
    evidence = evidence_from(
        [deal("won", None, 12), deal("won", None, 14), deal("lost", "Budget", 16)]
    )

    assert evidence.win_rate == pytest.approx(2 / 3)
    assert evidence.summary() == (
        "2 of the 3 most similar closed deals were won; 1 lost, 1 on budget; "
        "median sales cycle 14 days."
    )


def test_top_three_reasons_at_most_and_blank_reasons_ignored() -> None:
    reasons = ["a", "a", "a", "b", "b", "c", "d", "", "   "]
    evidence = evidence_from([deal("lost", r, 1) for r in reasons] + [deal("lost", None, 1)])

    assert evidence.lost_reasons == (("a", 3), ("b", 2), ("c", 1))
    assert evidence.lost == 10


def test_without_closed_deals_or_dates_there_is_nothing_to_learn() -> None:
    empty = evidence_from([deal(None), deal(None)])
    assert (empty.closed, empty.win_rate, empty.median_cycle_days) == (0, None, None)
    assert empty.lost_reasons == ()
    assert "No closed deals" in empty.summary()

    undated = evidence_from([deal("won"), deal("lost", "price")])
    assert undated.median_cycle_days is None
    assert undated.summary() == "1 of the 2 most similar closed deals were lost, 1 on price."

    odd = deal("won", None, -3)  # closed before it was created: no cycle from it
    assert evidence_from([odd, deal("won", None, 9)]).median_cycle_days == pytest.approx(9)


def test_equally_common_reasons_are_all_named() -> None:
    two_way = evidence_from([deal("lost", "price"), deal("lost", "went silent"), deal("won")])
    assert two_way.summary().startswith(
        "2 of the 3 most similar closed deals were lost, 1 each on price and went silent"
    )
    three_way = evidence_from(
        [deal("lost", r) for r in ("timing", "price", "timing", "price", "scope", "scope")]
    )
    assert ", 2 each on timing, price and scope" in three_way.summary()


def test_search_evidence_comes_from_the_closest_closed_deals(
    store: Store, workspace: WorkspaceView, service: SimilarDeals
) -> None:
    """Six lost warehouse deals and six won payroll deals: the ten closest closed deals to a
    warehouse query are the six warehouse ones and four payroll ones."""
    warehouse_reasons = ["Price", "price", "PRICE", "price.", "Timing", "price"]
    for n, reason in enumerate(warehouse_reasons):
        store.deals.create(
            workspace.id,
            {
                "title": f"Forklift fleet for warehouse {n}",
                "company": f"Dockside Logistics {n}",
                "stage": "lost",
                "lost_reason": reason,
            },
        )
    for n in range(6):
        store.deals.create(
            workspace.id,
            {"title": f"Payroll HR software {n}", "company": f"Maple HR {n}", "stage": "won"},
        )
    store.deals.create(workspace.id, {"title": "Forklift warehouse leasing", "stage": "prospect"})
    service.refresh(workspace.id)

    found = service.search_text(workspace.id, "forklifts for a logistics warehouse", limit=3)

    assert len(found.deals) == 3, "the limit is for the list, not the evidence"
    evidence = found.evidence
    assert (evidence.closed, evidence.lost, evidence.won) == (10, 6, 4)
    assert evidence.lost_reasons[0] == ("price", 5)
    assert evidence.summary().startswith(
        "6 of the 10 most similar closed deals were lost, 5 on price"
    )
    assert found.to_api()["evidence"]["top_lost_reasons"][0] == {"reason": "price", "count": 5}

    payroll = service.search_text(workspace.id, "payroll and HR software", limit=3)
    assert (payroll.evidence.won, payroll.evidence.lost) == (6, 4)
