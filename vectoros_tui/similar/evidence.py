"""What the closest closed deals say: win rate, sales cycle, why the lost ones were lost."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from vectoros_tui.store.deal_sources import DealSource

EVIDENCE_DEALS = 10


@dataclass(frozen=True)
class Evidence:
    closed: int
    won: int
    lost: int
    median_cycle_days: float | None
    lost_reasons: tuple[tuple[str, int], ...]

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None

    def summary(self) -> str:
        if not self.closed:
            return "No closed deals among the similar ones yet: nothing to learn from."
        reason = ""
        if self.lost_reasons:
            count = self.lost_reasons[0][1]
            # Naming one of several equally common reasons would be arbitrary: name them all.
            tied = [name for name, n in self.lost_reasons if n == count]
            if len(tied) == 1:
                reason = f", {count} on {tied[0]}"
            else:
                reason = f", {count} each on {', '.join(tied[:-1])} and {tied[-1]}"
        if self.lost >= self.won:
            lead = f"{self.lost} of the {self.closed} most similar closed deals were lost{reason}"
        else:
            lead = f"{self.won} of the {self.closed} most similar closed deals were won"
            if self.lost:
                lead += f"; {self.lost} lost{reason}"
        if self.median_cycle_days is not None:
            lead += f"; median sales cycle {self.median_cycle_days:.0f} days"
        return lead + "."

    def to_api(self) -> dict[str, object]:
        return {
            "closed_deals": self.closed,
            "won": self.won,
            "lost": self.lost,
            "win_rate": self.win_rate,
            "median_sales_cycle_days": self.median_cycle_days,
            "top_lost_reasons": [{"reason": r, "count": c} for r, c in self.lost_reasons],
            "summary": self.summary(),
        }


def _reason_key(reason: str) -> str:
    return " ".join(reason.casefold().strip(" .!").split())


def evidence_from(closest_closed: Sequence[DealSource]) -> Evidence:
    """``closest_closed``: closed deals, most similar first (only the first ten count)."""
    deals = [d for d in closest_closed if d.outcome in ("won", "lost")][:EVIDENCE_DEALS]
    won = sum(1 for d in deals if d.outcome == "won")
    cycles = [
        (d.closed_at - d.created_at).total_seconds() / 86_400
        for d in deals
        if d.closed_at is not None and d.closed_at >= d.created_at
    ]
    reasons = Counter(
        _reason_key(d.lost_reason) for d in deals if d.outcome == "lost" and d.lost_reason
    )
    reasons.pop("", None)
    return Evidence(
        closed=len(deals),
        won=won,
        lost=len(deals) - won,
        median_cycle_days=statistics.median(cycles) if cycles else None,
        lost_reasons=tuple(reasons.most_common(3)),
    )
