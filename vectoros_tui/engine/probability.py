"""Per-deal adjustments the original platform applied on top of the rep's probability.

These feed the forecast's per-deal table (``forecasted_deals``), not the Monte Carlo
simulation itself, which works from the rep's raw probability (see ``forecast.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from vectoros_tui.engine.dates import as_utc, days_between, parse_datetime
from vectoros_tui.engine.stages import UnknownStageError, normalise_stage

# The original's multipliers: reps over-call early-stage deals and under-call deals that
# are already in negotiation.
STAGE_FACTORS: Final[dict[str, float]] = {
    "prospect": 0.7,
    "qualified": 0.85,
    "proposal": 1.0,
    "negotiation": 1.1,
}

# The original treated a deal without a probability as a coin flip.
DEFAULT_PROBABILITY_PERCENT: Final = 50.0

# A deal loses up to half of its probability as it ages over ~six months.
AGE_DECAY_DAYS: Final = 180.0
AGE_DECAY_FLOOR: Final = 0.5

# Each filled-in field earns the deal 0.1 of confidence, as does a recent update.
_EVIDENCE_FIELDS: Final = ("company", "contactName", "contactEmail", "closeDate")
RECENT_UPDATE_DAYS: Final = 7.0


def deal_label(deal: Mapping[str, Any]) -> str:
    """How error messages name a deal: its id, else its title, else a placeholder."""
    for key in ("id", "title"):
        value = deal.get(key)
        if value not in (None, ""):
            return repr(value) if key == "title" else str(value)
    return "<no id>"


def probability_percent(deal: Mapping[str, Any]) -> float:
    """The rep's probability in percent (0–100); a missing one counts as 50.

    Raises ``ValueError`` naming the deal for a non-numeric or out-of-range value,
    because silently clamping would hide a data problem behind a plausible forecast.
    """
    raw = deal.get("probability")
    if raw is None or raw == "":
        return DEFAULT_PROBABILITY_PERCENT
    # bool is an int subclass; True would otherwise read as 1%.
    if isinstance(raw, bool):
        raise ValueError(f"deal {deal_label(deal)}: probability must be a number, got {raw!r}")
    try:
        percent = float(raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"deal {deal_label(deal)}: probability must be a number, got {raw!r}"
        ) from None
    if not (0.0 <= percent <= 100.0):  # also rejects NaN
        raise ValueError(
            f"deal {deal_label(deal)}: probability must be between 0 and 100, got {raw!r}"
        )
    return percent


def stage_factor(stage: object) -> float:
    """The original's multiplier for a stage name or alias; 1.0 for anything else."""
    if not isinstance(stage, str):
        return 1.0
    # Stored deals carry canonical names; skip normalising them (hot in 10k-deal forecasts).
    factor = STAGE_FACTORS.get(stage)
    if factor is not None:
        return factor
    try:
        canonical, _ = normalise_stage(stage)
    except UnknownStageError:
        return 1.0
    return STAGE_FACTORS.get(canonical, 1.0)


def age_decay(created_at: datetime | None, now: datetime) -> float:
    """``max(1 - age_days/180, 0.5)``; 1.0 when the creation time is unknown.

    ``age_days`` counts completed days, as the health scores do, so a forecast re-run a
    moment later shows the same figures instead of drifting with the clock's seconds.
    """
    if created_at is None:
        return 1.0
    # Deviation from the original: a createdAt slightly in the future (clock skew between
    # the backend and this machine) would have *boosted* the probability above the rep's
    # call, so a negative age counts as zero.
    age_days = max(math.floor(days_between(created_at, as_utc(now))), 0)
    return max(1.0 - age_days / AGE_DECAY_DAYS, AGE_DECAY_FLOOR)


def combine_adjustments(
    p: float, stage: object, created_at: datetime | None, now: datetime
) -> float:
    """:func:`adjusted_probability` from already-read parts (``p`` as a 0–1 fraction).

    The forecast has each deal's probability, stage and dates in hand; this spares it
    reading and validating them a second time on 10,000-deal pipelines.
    """
    return min(max(p * stage_factor(stage) * age_decay(created_at, now), 0.0), 1.0)


def adjusted_probability(deal: Mapping[str, Any], now: datetime) -> float:
    """Rep probability × stage factor × age decay, clamped to [0, 1].

    ``now`` may be naive (taken as UTC) or aware.
    """
    return combine_adjustments(
        probability_percent(deal) / 100.0,
        deal.get("stage"),
        parse_datetime(deal.get("createdAt")),
        now,
    )


def deal_confidence(deal: Mapping[str, Any], now: datetime) -> float:
    """How much to trust the deal's data: 0.5 plus 0.1 per piece of evidence, at most 1.0.

    Evidence: company, contact name, contact email and close date filled in, and an update
    within the last seven days.
    """
    return confidence_from_parts(deal, parse_datetime(deal.get("updatedAt")), now)


def confidence_from_parts(
    deal: Mapping[str, Any], updated_at: datetime | None, now: datetime
) -> float:
    """:func:`deal_confidence` with the deal's ``updatedAt`` already parsed."""
    # Count tenths as an integer so 0.5 + 0.1 + 0.1 + 0.1 comes out as 0.8, not 0.7999….
    tenths = 5
    for key in _EVIDENCE_FIELDS:
        value = deal.get(key)
        # Inlined "filled in" test: this runs once per field per deal in every forecast.
        if value is not None and (not isinstance(value, str) or value.strip()):
            tenths += 1
    # A future updatedAt (clock skew) still means "recently touched".
    if updated_at is not None and days_between(updated_at, as_utc(now)) <= RECENT_UPDATE_DAYS:
        tenths += 1
    return min(tenths, 10) / 10.0
