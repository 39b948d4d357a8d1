"""The text a deal is embedded as, its hash, and the value bands (pure, no model)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime

import pytest

from vectoros_tui.similar import texts
from vectoros_tui.similar.texts import deal_text, text_hash, value_band
from vectoros_tui.store.deal_sources import DealSource

MODEL = "all-MiniLM-L6-v2-int8"

FULL = DealSource(
    id=uuid.uuid4(),
    workspace_id=uuid.uuid4(),
    title="Globex expansion",
    company="Globex",
    stage="closed",
    value=75_000,
    probability=0,
    contact_name="Hank Scorpio",
    outcome="lost",
    lost_reason="Price",
    close_date=date(2026, 6, 30),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    closed_at=datetime(2026, 2, 1, tzinfo=UTC),
    notes=("Sent the revised quote", "Call went  well\n today", "Demo booked"),
)


def test_a_full_deal_reads_as_plain_phrases() -> None:
    assert deal_text(FULL) == (
        "Globex expansion. Closed lost on Price, 50k-100k. Contact Hank Scorpio. "
        "Sent the revised quote; Call went well today; Demo booked."
    )


def test_the_company_is_named_unless_the_title_names_it() -> None:
    elsewhere = dataclasses.replace(FULL, title="Expansion, 40 seats", company="Globex")
    assert deal_text(elsewhere).startswith("Expansion, 40 seats. Globex. Closed lost")
    assert deal_text(dataclasses.replace(FULL, company="GLOBEX")).count("Globex") == 1


def test_empty_parts_are_left_out() -> None:
    bare = dataclasses.replace(
        FULL,
        title="  Acme renewal.  ",
        company=None,
        stage="prospect",
        value=0,
        contact_name=None,
        outcome=None,
        lost_reason=None,
        notes=("", "   "),
    )
    assert deal_text(bare) == "Acme renewal. Prospect stage, under 10k."


def test_won_deals_say_so() -> None:
    won = dataclasses.replace(FULL, outcome="won", lost_reason=None, notes=())
    assert deal_text(won) == "Globex expansion. Closed won, 50k-100k. Contact Hank Scorpio."


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Globex renewal"},
        {"company": "Initech"},
        {"stage": "negotiation", "outcome": None, "lost_reason": None},
        {"value": 150_000},
        {"contact_name": "Frank Grimes"},
        {"outcome": "won", "lost_reason": None},
        {"lost_reason": "Timing"},
        {"notes": ("Sent the revised quote", "Call went well today")},
        {"notes": ("Demo booked", "Sent the revised quote", "Call went well today")},
        {"notes": ("Sent the revised quote", "Call went badly", "Demo booked")},
    ],
)
def test_the_hash_changes_with_every_part_of_the_text(change: dict[str, object]) -> None:
    before = text_hash(deal_text(FULL), MODEL)
    after = text_hash(deal_text(dataclasses.replace(FULL, **change)), MODEL)  # type: ignore[arg-type]
    assert after != before


@pytest.mark.parametrize(
    "change",
    [
        {"value": 99_999.99},  # same band
        {"probability": 40},
        {"close_date": date(2027, 1, 1)},
        {"closed_at": datetime(2026, 3, 1, tzinfo=UTC)},
        {"id": uuid.uuid4()},
        {"notes": ("Sent the revised quote ", "Call went well today", "Demo  booked")},
    ],
)
def test_the_hash_is_stable_when_the_text_is_not_changed(change: dict[str, object]) -> None:
    before = text_hash(deal_text(FULL), MODEL)
    after = text_hash(deal_text(dataclasses.replace(FULL, **change)), MODEL)  # type: ignore[arg-type]
    assert after == before


def test_the_hash_depends_on_the_model_and_the_text_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = deal_text(FULL)
    hashed = text_hash(text, MODEL)
    assert hashed == text_hash(text, MODEL)
    assert len(hashed) == 16 and int(hashed, 16) >= 0
    assert text_hash(text, "BAAI/bge-small-en-v1.5") != hashed
    assert text_hash(text, "") != hashed
    assert text_hash(text + " ", MODEL) != hashed

    monkeypatch.setattr(texts, "TEXT_FORMAT", "3")
    assert text_hash(text, MODEL) != hashed


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "under 10k"),
        (9_999.99, "under 10k"),
        (10_000, "10k-50k"),
        (49_999, "10k-50k"),
        (50_000, "50k-100k"),
        (99_999.5, "50k-100k"),
        (100_000, "100k-250k"),
        (249_999, "100k-250k"),
        (250_000, "250k-500k"),
        (500_000, "500k-1M"),
        (999_999.99, "500k-1M"),
        (1_000_000, "1M and over"),
        (75_000_000, "1M and over"),
    ],
)
def test_value_bands(value: float, band: str) -> None:
    assert value_band(value) == band
