"""Per-deal adjustments the original platform applied on top of the rep's probability.

These feed the forecast's per-deal table (``forecasted_deals``), not the Monte Carlo
simulation itself, which works from the rep's raw probability (see ``forecast.py``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final

from vectoros_tui.engine.dates import as_utc, days_between
from vectoros_tui.engine.deal_record import DealRecord
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

# A recent update earns the deal 0.1 of confidence, as does each filled-in field.
RECENT_UPDATE_DAYS: Final = 7.0


def probability_percent(deal: DealRecord) -> float:
    """The rep's probability in percent (0–100); a missing one counts as 50."""
    if deal.probability is None:
        return DEFAULT_PROBABILITY_PERCENT
    return deal.probability


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
    """:func:`adjusted_probability` from its parts (``p`` as a 0–1 fraction).

    The forecast already holds each counted deal's fraction and stage label, so it passes
    those rather than having the record read again.
    """
    return min(max(p * stage_factor(stage) * age_decay(created_at, now), 0.0), 1.0)


def adjusted_probability(deal: DealRecord, now: datetime) -> float:
    """Rep probability × stage factor × age decay, clamped to [0, 1].

    ``now`` may be naive (taken as UTC) or aware.
    """
    return combine_adjustments(probability_percent(deal) / 100.0, deal.stage, deal.created_at, now)


def deal_confidence(deal: DealRecord, now: datetime) -> float:
    """How much to trust the deal's data: 0.5 plus 0.1 per piece of evidence, at most 1.0.

    Evidence: company, contact name, contact email and close date filled in, and an update
    within the last seven days.
    """
    return confidence_from_parts(deal, deal.updated_at, now)


def confidence_from_parts(deal: DealRecord, updated_at: datetime | None, now: datetime) -> float:
    """:func:`deal_confidence` with the deal's last update time passed in."""
    # Count tenths as an integer so 0.5 + 0.1 + 0.1 + 0.1 comes out as 0.8, not 0.7999….
    tenths = 5 + _evidence(deal)
    # A future updatedAt (clock skew) still means "recently touched".
    if updated_at is not None and days_between(updated_at, as_utc(now)) <= RECENT_UPDATE_DAYS:
        tenths += 1
    return min(tenths, 10) / 10.0


def _evidence(deal: DealRecord) -> int:
    """How many of company, contact name, contact email and close date are filled in."""
    texts = (deal.company, deal.contact_name, deal.contact_email)
    # Blank text is checked even though records from mappings never carry it: a stored
    # row may hold "" for a field the user cleared, and that is no evidence.
    filled = sum(1 for text in texts if text and not text.isspace())
    return filled + (deal.close_date is not None)
