"""Pure logic behind the forecast screen: the stage funnel, histogram bins, health counts,
revenue by stage and the what-if overrides. No Textual; every function is a pure function
of its arguments, so the screen's worker can call them and tests can check them directly.

The funnel's definition (what "reached" means)
----------------------------------------------
A snapshot holds each deal's *current* stage, not its path, so the funnel counts how many
deals are known to have got at least as far as each step:

* an open deal reached its own stage and every stage before it;
* a won deal reached every open stage and ``won``;
* a lost deal reached the stages up to the last open stage it was in, when its record
  says (``last_open_stage``, which the store derives from the stage history); otherwise
  only the first stage, which is all the snapshot proves. Lost deals therefore never
  inflate a later step.

Conversion from step k to step k+1 is ``reached[k+1] / reached[k]``. Open deals that have
not moved *yet* count against the conversion of their stage, so the figures are a
pipeline-wide snapshot, not a cohort analysis of closed deals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.health import BAND_NAMES
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.money import MoneyError, parse_money

FUNNEL_STEPS: Final = (*OPEN_STAGES, "won")
DEFAULT_BINS: Final = 40

# What-if keys: the record fields a what-if may override (named as on DealRecord), plus
# the exclusion flag.
EXCLUDED: Final = "excluded"
OVERRIDABLE: Final = ("probability", "close_date")

WhatIf = dict[str, dict[str, Any]]


# --------------------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FunnelStep:
    step: str
    reached: int
    current: int  # open deals at this stage now (won deals for the ``won`` step)
    conversion: float | None  # reached / previous step's reached; None for the first step


@dataclass(frozen=True)
class Funnel:
    steps: tuple[FunnelStep, ...]
    open: int
    won: int
    lost: int

    @property
    def win_rate(self) -> float | None:
        """Won among closed deals (``None`` when nothing has closed)."""
        closed = self.won + self.lost
        return self.won / closed if closed else None


def _furthest_step(deal: DealRecord) -> int | None:
    """Index in :data:`FUNNEL_STEPS` of the furthest step the deal is known to have reached;
    ``None`` for a deal the funnel cannot place."""
    if deal.outcome == "won":
        return len(FUNNEL_STEPS) - 1
    if deal.outcome == "lost":
        last = deal.last_open_stage
        return OPEN_STAGES.index(last) if last in OPEN_STAGES else 0
    if deal.is_open and deal.stage in OPEN_STAGES:
        return OPEN_STAGES.index(deal.stage)
    return None


def stage_funnel(deals: Iterable[DealRecord]) -> Funnel:
    """The funnel over every deal (open and closed); see the module docstring.

    Deals it cannot place are left out: an open deal with a stage name this version does
    not know, and a closed deal without an outcome. A recorded outcome places a deal
    whatever its stage name.
    """
    reached = [0] * len(FUNNEL_STEPS)
    current = [0] * len(FUNNEL_STEPS)
    won = lost = open_count = 0
    for deal in deals:
        furthest = _furthest_step(deal)
        if furthest is None:
            continue
        if deal.outcome == "won":
            won += 1
            current[-1] += 1
        elif deal.outcome == "lost":
            lost += 1
        else:
            open_count += 1
            current[furthest] += 1
        for step in range(furthest + 1):
            reached[step] += 1
    steps = tuple(
        FunnelStep(
            name,
            reached[k],
            current[k],
            None if k == 0 else (reached[k] / reached[k - 1] if reached[k - 1] else None),
        )
        for k, name in enumerate(FUNNEL_STEPS)
    )
    return Funnel(steps, open_count, won, lost)


def funnel_position(deal: DealRecord) -> tuple[int | None, str | None]:
    """Where a deal counts in :func:`stage_funnel`: two versions of a deal in the same
    position leave the funnel as it was."""
    return _furthest_step(deal), deal.outcome if deal.outcome in ("won", "lost") else None


# --------------------------------------------------------------------------- histogram


@dataclass(frozen=True)
class Histogram:
    """Counts of simulated totals in equal-width bins; ``edges`` has one more item."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def centers(self) -> list[float]:
        return [(a + b) / 2 for a, b in zip(self.edges, self.edges[1:], strict=False)]

    @property
    def width(self) -> float:
        return self.edges[1] - self.edges[0] if len(self.edges) > 1 else 1.0

    @property
    def total(self) -> int:
        return sum(self.counts)


def histogram_bins(totals: ArrayLike, bins: int = DEFAULT_BINS) -> Histogram:
    """Bin the simulated totals for drawing; computed once per forecast, off the UI thread.

    An empty array gives no bins; totals that are all equal (an empty pipeline) give one
    bin of width 1 centred on that value.
    """
    values = np.asarray(totals, dtype=np.float64)
    if values.size == 0:
        return Histogram((), ())
    low, high = float(values.min()), float(values.max())
    if not high > low:
        return Histogram((low - 0.5, low + 0.5), (int(values.size),))
    counts, edges = np.histogram(values, bins=max(1, bins), range=(low, high))
    return Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


# --------------------------------------------------------------------------- health, stages


def band_counts(statuses: Iterable[str]) -> dict[str, int]:
    """Deals per health band, always all five bands in order (best first)."""
    counts = dict.fromkeys(BAND_NAMES, 0)
    for status in statuses:
        if status in counts:
            counts[status] += 1
    return counts


@dataclass(frozen=True)
class StageRevenue:
    stage: str
    deals: int
    total_value: float
    weighted_value: float


def stage_revenue(breakdown: Iterable[Mapping[str, Any]]) -> list[StageRevenue]:
    """The forecast's ``breakdown_by_stage`` with every open stage present (zeros if empty),
    followed by any stage the engine reported that is not a known open stage."""
    rows = {row["stage"]: row for row in breakdown}
    order = [*OPEN_STAGES, *(s for s in rows if s not in OPEN_STAGES)]
    return [
        StageRevenue(
            stage,
            int(rows.get(stage, {}).get("deals", 0)),
            float(rows.get(stage, {}).get("total_value", 0.0)),
            float(rows.get(stage, {}).get("weighted_value", 0.0)),
        )
        for stage in order
    ]


# --------------------------------------------------------------------------- what-if


def apply_what_if(
    deals: Iterable[DealRecord], what_if: Mapping[str, Mapping[str, Any]]
) -> list[DealRecord]:
    """``deals`` with the what-if overrides applied, as a new list.

    ``what_if`` maps a deal id to its changes: ``{"excluded": True}`` drops the deal,
    ``probability`` (0-100) and ``close_date`` (an ISO date) replace the deal's own. Records
    are frozen, so a deal with overrides is a new record and the others are the caller's.
    Raises ``ValueError`` for an override the prompts would have refused.
    """
    if not what_if:
        return list(deals)
    adjusted: list[DealRecord] = []
    for deal in deals:
        changes = what_if.get(deal.id)
        if not changes:
            adjusted.append(deal)
        elif not changes.get(EXCLUDED):
            adjusted.append(_overridden(deal, changes))
    return adjusted


def _overridden(deal: DealRecord, changes: Mapping[str, Any]) -> DealRecord:
    # What-ifs are a plain dict anyone can fill; reading them with the prompts' own parsers
    # keeps a value a record would refuse out of the forecast.
    updates: dict[str, Any] = {}
    if "probability" in changes:
        updates["probability"] = parse_probability(str(changes["probability"]))
    if "close_date" in changes:
        updates["close_date"] = date.fromisoformat(parse_close_date(str(changes["close_date"])))
    return replace(deal, **updates)


def stable_order(deals: Iterable[DealRecord]) -> list[DealRecord]:
    """``deals`` sorted by id.

    The simulation hands random numbers to deals in the order it receives them, and a
    database returns rows in whatever order its query plan gives (it varied between two
    identical SQLite files). Sorting first makes a seed give the same forecast for the same
    deals on every run and on SQLite and Postgres alike.
    """
    return sorted(deals, key=lambda deal: deal.id)


def toggle_exclusion(what_if: WhatIf, deal_id: str) -> bool:
    """Exclude the deal, or include it again; returns whether it is now excluded."""
    changes = what_if.setdefault(deal_id, {})
    if changes.pop(EXCLUDED, False):
        if not changes:
            del what_if[deal_id]
        return False
    changes[EXCLUDED] = True
    return True


def set_override(what_if: WhatIf, deal_id: str, field: str, value: object) -> None:
    if field not in OVERRIDABLE:
        raise ValueError(f"{field!r} cannot be overridden; use one of {', '.join(OVERRIDABLE)}")
    what_if.setdefault(deal_id, {})[field] = value


def describe_what_if(changes: Mapping[str, Any]) -> str:
    """Short label for the deal table: ``excluded``, ``p 30%``, ``close 2026-12-01``."""
    if changes.get(EXCLUDED):
        return "excluded"
    parts = []
    if "probability" in changes:
        parts.append(f"p {changes['probability']:g}%")
    if "close_date" in changes:
        parts.append(f"close {changes['close_date']}")
    return ", ".join(parts)


_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_probability(text: str) -> float:
    """A probability override typed by the user: a number 0-100, ``%`` allowed.

    Raises ``ValueError`` with a message fit to show next to the input.
    """
    cleaned = text.strip().removesuffix("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip() or 'nothing'!r} is not a number; type 0 to 100") from None
    if not (math.isfinite(value) and 0.0 <= value <= 100.0):
        raise ValueError(f"probability must be between 0 and 100 (got {cleaned})")
    return value


def parse_close_date(text: str) -> str:
    """A close-date override: a real calendar date written YYYY-MM-DD; returns it as typed."""
    cleaned = text.strip()
    if not _ISO_DATE.fullmatch(cleaned):
        raise ValueError(f"{cleaned or 'nothing'!r} is not a date; write it as YYYY-MM-DD")
    try:
        date.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{cleaned} is not a real calendar date") from None
    return cleaned


def parse_goal(text: str) -> float | None:
    """A revenue goal: ``250000``, ``$250,000``, ``250k`` or ``1.2M``; empty clears it."""
    if not text.strip():
        return None
    try:
        return parse_money(text)
    except MoneyError as exc:
        raise ValueError(exc.explain()) from None
