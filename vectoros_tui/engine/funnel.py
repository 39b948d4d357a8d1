"""Pure logic behind the forecast screen: the stage funnel, histogram bins, health counts,
revenue by stage and the what-if overrides. No Textual; every function is a pure function
of its arguments, so the screen's worker can call them and tests can check them directly.

The funnel's definition (what "reached" means)
----------------------------------------------
A snapshot holds each deal's *current* stage, not its path, so the funnel counts how many
deals are known to have got at least as far as each step:

* an open deal reached its own stage and every stage before it;
* a won deal reached every open stage and ``won``;
* a lost deal reached the stages up to the last open stage it was in, when the caller
  knows it (``last_open_stage``, e.g. from the deal's stage history); otherwise only the
  first stage, which is all the snapshot proves. Lost deals therefore never inflate a
  later step.

Conversion from step k to step k+1 is ``reached[k+1] / reached[k]``. Open deals that have
not moved *yet* count against the conversion of their stage, so the figures are a
pipeline-wide snapshot, not a cohort analysis of closed deals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike

from vectoros_tui.engine.health import BAND_NAMES
from vectoros_tui.engine.stages import OPEN_STAGES, UnknownStageError, normalise_stage
from vectoros_tui.money import MoneyError, parse_money

FUNNEL_STEPS: Final = (*OPEN_STAGES, "won")
DEFAULT_BINS: Final = 40

# What-if keys: the deal fields a what-if may override, plus the exclusion flag.
EXCLUDED: Final = "excluded"
OVERRIDABLE: Final = ("probability", "closeDate")

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


def _position(deal: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """``(index of the deal's open stage or None, outcome or None)``."""
    raw = deal.get("stage")
    outcome = deal.get("outcome") or None
    try:
        stage, implied = normalise_stage(str(raw or ""))
    except UnknownStageError:
        return None, outcome
    outcome = outcome or implied
    if stage in OPEN_STAGES and not outcome:
        return OPEN_STAGES.index(stage), None
    return None, outcome  # closed without a recorded outcome: left out


def stage_funnel(
    deals: Iterable[Mapping[str, Any]], last_open_stage: Mapping[str, str] | None = None
) -> Funnel:
    """The funnel over every deal (open and closed); see the module docstring.

    ``last_open_stage`` maps a closed deal's id to the last open stage it was in, when the
    caller has the history. Deals with an unknown stage name, and closed deals without an
    outcome, are left out.
    """
    known = last_open_stage or {}
    reached = [0] * len(FUNNEL_STEPS)
    current = [0] * len(FUNNEL_STEPS)
    won = lost = open_count = 0
    for deal in deals:
        index, outcome = _position(deal)
        if index is not None:
            open_count += 1
            current[index] += 1
            furthest = index
        elif outcome == "won":
            won += 1
            current[-1] += 1
            furthest = len(FUNNEL_STEPS) - 1
        elif outcome == "lost":
            lost += 1
            last = known.get(str(deal.get("id")))
            furthest = OPEN_STAGES.index(last) if last in OPEN_STAGES else 0
        else:
            continue
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
    deals: Iterable[Mapping[str, Any]], what_if: Mapping[str, Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """``deals`` with the what-if overrides applied, as a new list.

    ``what_if`` maps a deal id to its changes: ``{"excluded": True}`` drops the deal,
    ``probability`` (0-100) and ``closeDate`` (ISO date) replace the deal's own. A deal
    with overrides is a copy, so the caller's mapping is untouched; the others are the
    caller's own mappings (copying 2,000 of them was a sixth of a forecast after each save).
    """
    if not what_if:
        return list(deals)
    adjusted: list[Mapping[str, Any]] = []
    for deal in deals:
        changes = what_if.get(str(deal.get("id")))
        if not changes:
            adjusted.append(deal)
            continue
        if changes.get(EXCLUDED):
            continue
        adjusted.append({**deal, **{k: v for k, v in changes.items() if k in OVERRIDABLE}})
    return adjusted


def stable_order(deals: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``deals`` sorted by id.

    The simulation hands random numbers to deals in the order it receives them, and a
    database returns rows in whatever order its query plan gives (it varied between two
    identical SQLite files). Sorting first makes a seed give the same forecast for the same
    deals on every run and on SQLite and Postgres alike.
    """
    return sorted(deals, key=lambda deal: str(deal.get("id")))


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
    if "closeDate" in changes:
        parts.append(f"close {changes['closeDate']}")
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
