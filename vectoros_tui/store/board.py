"""The stage board's plain data: a column of open deals with its totals, and the marks a
card carries (overdue, ageing). No database imports: the first frame is drawn from it
before SQLAlchemy is loaded (see store.quick_start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vectoros_tui.engine.dates import parse_date

# A deal "ages" when it has sat in its stage this long (the stuck-in-stage insight's bar).
AGEING_DAYS = 30
# A board column shows this many of its most valuable deals; the table pages through all.
# Building thousands of options would make the first paint of a big pipeline take seconds.
BOARD_CARDS = 25
# What a card needs of a deal (API names); a preview may carry only these.
CARD_FIELDS = (
    "id",
    "title",
    "company",
    "value",
    "stage",
    "probability",
    "closeDate",
    "stageChangedAt",
)


@dataclass(frozen=True)
class StageColumn:
    stage: str
    deals: list[dict[str, Any]]  # most valuable first; may be only the top of the stage
    count: int
    total_value: float
    weighted_value: float
    ageing: int
    overdue: int


def weighted_value(deal: dict[str, Any]) -> float:
    """A deal's value times the rep's probability: the one meaning of "weighted" the
    board, the status line and the forecast's deal table share."""
    return (deal["value"] or 0) * (deal["probability"] or 0) / 100


def is_overdue(deal: dict[str, Any], now: datetime) -> bool:
    close = parse_date(deal.get("closeDate"))
    return close is not None and close < now.date()


def days_in_stage(deal: dict[str, Any], now: datetime) -> int:
    entered = datetime.fromisoformat(deal["stageChangedAt"].replace("Z", "+00:00"))
    return max(0, (now - entered).days)
