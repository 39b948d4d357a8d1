"""The stage board's plain data: a column of open deals with its totals, and the marks a
card carries (overdue, ageing). No database imports: the first frame is drawn from it
before SQLAlchemy is loaded (see store.quick_start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vectoros_tui.engine.deal_record import DealRecord

# A deal "ages" when it has sat in its stage this long (the stuck-in-stage insight's bar).
AGEING_DAYS = 30
# A board column shows this many of its most valuable deals; the table pages through all.
# Building thousands of options would make the first paint of a big pipeline take seconds.
BOARD_CARDS = 25
# What a card shows of a deal: a preview's records may carry only these.
CARD_FIELDS = (
    "id",
    "title",
    "company",
    "value",
    "stage",
    "probability",
    "close_date",
    "stage_changed_at",
    "next_step",
    "next_step_due",
)


@dataclass(frozen=True)
class StageColumn:
    stage: str
    deals: list[DealRecord]  # most valuable first; may be only the top of the stage
    count: int
    total_value: float
    weighted_value: float
    ageing: int
    overdue: int


def is_overdue(deal: DealRecord, now: datetime) -> bool:
    return deal.close_date is not None and deal.close_date < now.date()


def days_in_stage(deal: DealRecord, now: datetime) -> int:
    entered = deal.stage_changed_at or deal.created_at
    return max(0, (now - entered).days) if entered is not None else 0
