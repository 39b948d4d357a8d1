"""Deal health: a 0-100 score from six weighted components, each with the number behind it.

Modelled on the original platform's scorer (same weights, tiers, bands and output shape) but
honest about what each component measures:

* **velocity** is the time the deal has spent in its *current* stage (the original used the
  time since any edit, so fixing a typo made a stalled deal look fast);
* **freshness** is the time since the last logged activity (the original used the deal's age);
* every explanation names the number it used and says when a weaker timestamp stood in.

Everything here is a pure function of the deal records and an explicit ``now``, so the same
inputs always give the same scores. The records arrive clean (see
:mod:`vectoros_tui.engine.deal_record`), so nothing here re-validates a field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Final, NamedTuple

from vectoros_tui.engine.dates import as_utc, days_between
from vectoros_tui.engine.deal_record import DealRecord

WEIGHTS: Final[dict[str, float]] = {
    "probability": 0.25,
    "velocity": 0.20,
    "freshness": 0.15,
    "completeness": 0.15,
    "urgency": 0.15,
    "value_score": 0.10,
}

# (lower bound, band), highest first.
BANDS: Final = (
    (80.0, "excellent"),
    (60.0, "good"),
    (40.0, "fair"),
    (20.0, "poor"),
)
BAND_NAMES: Final = ("excellent", "good", "fair", "poor", "critical")

# Both time-based components share the original's tiers: (days below, score, label).
_RECENCY_TIERS: Final = (
    (7, 100.0, "moving"),
    (14, 80.0, "on pace"),
    (30, 60.0, "slowing"),
    (60, 40.0, "stalled"),
)
_RECENCY_FLOOR: Final = (20.0, "at risk")
_UNKNOWN_SCORE: Final = 50.0

# The original's completeness weights: a field the scores and the forecast stand on counts
# twice a contact detail, which only helps the rep reach the buyer.
_REQUIRED_POINTS: Final = 20
_USEFUL_POINTS: Final = 10


# --------------------------------------------------------------------------- shared display
# Shared with the insight rules so a deal is named the same way in a score and an insight.


def display_title(deal: DealRecord) -> str:
    return deal.title or "Untitled deal"


def display_stage(deal: DealRecord) -> str | None:
    """The stage as shown: canonical, or an unknown name as given; ``None`` when unset."""
    return deal.stage or None


def whole_days(earlier: datetime, now: datetime) -> int:
    """Completed days from ``earlier`` to ``now``; a future timestamp (clock skew) counts as 0."""
    return max(0, math.floor(days_between(earlier, now)))


def format_days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def average_open_value(deals: Iterable[DealRecord]) -> float | None:
    """Mean value of the open deals that have a value; ``None`` when none do.

    Deals without a value are left out rather than counted as 0, so a few unpriced deals do
    not make every priced deal look large.
    """
    return average_of(open_value_totals(deals))


def average_of(totals: tuple[float, int]) -> float | None:
    """The mean of (sum, count) totals; ``None`` when the count is 0."""
    total, count = totals
    return total / count if count else None


def open_value_totals(deals: Iterable[DealRecord]) -> tuple[float, int]:
    """(sum, count) of the values of the open deals that have one."""
    values = [d.value for d in deals if d.is_open and d.value is not None]
    return sum(values), len(values)


def health_band(score: float) -> str:
    """Band for a health score: excellent >= 80, good >= 60, fair >= 40, poor >= 20."""
    for lower, band in BANDS:
        if score >= lower:
            return band
    return "critical"


# --------------------------------------------------------------------------- results


class ComponentScore(NamedTuple):
    # A tuple, not a frozen dataclass: six per open deal, and a frozen dataclass's
    # constructor (one object.__setattr__ per field) was a fifth of scoring 14,000 deals.
    score: float
    weight: float
    explanation: str

    @property
    def shortfall(self) -> float:
        """Points this component costs the overall score (0 when it scores 100)."""
        return (100.0 - self.score) * self.weight


@dataclass(frozen=True)
class DealHealth:
    deal_id: str
    title: str
    health_score: float
    health_status: str
    components: dict[str, ComponentScore]
    advice: tuple[str, ...] = ()

    def weakest_components(self, count: int = 2) -> list[tuple[str, ComponentScore]]:
        """Components that cost the most points, worst first (ties by name for stability)."""
        ranked = sorted(self.components.items(), key=lambda item: (-item[1].shortfall, item[0]))
        return [item for item in ranked[:count] if item[1].shortfall > 0]

    def to_dict(self) -> dict[str, Any]:
        """The original platform's shape, plus the explanations it lacked."""
        return {
            "deal_id": self.deal_id,
            "title": self.title,
            "health_score": self.health_score,
            "health_status": self.health_status,
            "components": {name: round(c.score, 1) for name, c in self.components.items()},
            "explanations": {name: c.explanation for name, c in self.components.items()},
            "insights": list(self.advice),
        }


class _Part(NamedTuple):
    score: float
    explanation: str
    advice: str | None = None


# --------------------------------------------------------------------------- components


def _recency_tier(days: int) -> tuple[float, str]:
    for below, score, label in _RECENCY_TIERS:
        if days < below:
            return score, label
    return _RECENCY_FLOOR


def _score_probability(deal: DealRecord) -> _Part:
    probability = deal.probability
    if probability is None:
        # As in the original, an unset probability scores 0: the deal is not qualified yet.
        return _Part(0.0, "no win probability set", "No win probability set - qualify the deal")
    shown = f"{probability:g}%"
    advice = None
    if probability < 40:
        advice = f"Low win probability ({shown}) - qualify harder or lower the forecast"
    elif probability >= 80:
        advice = f"High win probability ({shown}) - prioritise closing"
    return _Part(probability, f"win probability is {shown}", advice)


def _score_velocity(deal: DealRecord, now: datetime) -> _Part:
    from_stage_change = deal.stage_changed_at is not None
    entered = deal.stage_changed_at if from_stage_change else deal.created_at
    stage = display_stage(deal) or "its stage"
    if entered is None:
        return _Part(_UNKNOWN_SCORE, f"time in {stage} unknown (no stage change or creation date)")
    days = whole_days(entered, now)
    score, label = _recency_tier(days)
    note = label if from_stage_change else f"{label}; counted from creation"
    advice = None
    if score < 40:
        advice = f"In {stage} for {format_days(days)} - agree the next step to move it forward"
    elif score >= 90:
        advice = f"Moved into {stage} recently - keep the momentum"
    return _Part(score, f"in {stage} for {format_days(days)} ({note})", advice)


def _score_freshness(deal: DealRecord, now: datetime) -> _Part:
    logged = deal.last_activity_at is not None
    last = deal.last_activity_at if logged else deal.updated_at
    if last is None:
        return _Part(_UNKNOWN_SCORE, "no activity or update date known")
    days = whole_days(last, now)
    score, _ = _recency_tier(days)
    if logged:
        explanation = "activity today" if days == 0 else f"no activity for {format_days(days)}"
    else:
        # An edit is weaker evidence of engagement than a logged call or email: say so.
        explanation = f"no activity logged; last updated {format_days(days)} ago"
    advice = None
    if score < 40:
        advice = f"No activity for {format_days(days)} - re-engage the contact"
    return _Part(score, explanation, advice)


def _is_filled(value: object) -> bool:
    # A blank string is as empty as None; 0 is a real value or probability.
    return value is not None and not (isinstance(value, str) and not value.strip())


_COMPLETENESS_FIELDS: Final = (
    ("title", attrgetter("title"), _REQUIRED_POINTS),
    ("value", attrgetter("value"), _REQUIRED_POINTS),
    ("stage", attrgetter("stage"), _REQUIRED_POINTS),
    ("probability", attrgetter("probability"), _REQUIRED_POINTS),
    ("close date", attrgetter("close_date"), _REQUIRED_POINTS),
    ("company", attrgetter("company"), _USEFUL_POINTS),
    ("contact name", attrgetter("contact_name"), _USEFUL_POINTS),
    ("contact email", attrgetter("contact_email"), _USEFUL_POINTS),
)
_COMPLETENESS_POINTS: Final = sum(worth for _, _, worth in _COMPLETENESS_FIELDS)


def _completeness(deal: DealRecord) -> tuple[float, list[str]]:
    """The completeness score, and the labels of the fields missing (in one pass)."""
    missing = []
    points = 0
    for label, read, worth in _COMPLETENESS_FIELDS:
        if _is_filled(read(deal)):
            points += worth
        else:
            missing.append(label)
    return points / _COMPLETENESS_POINTS * 100.0, missing


def _score_completeness(deal: DealRecord) -> _Part:
    fields = len(_COMPLETENESS_FIELDS)
    score, missing = _completeness(deal)
    if not missing:
        return _Part(score, f"all {fields} fields filled")
    labels = ", ".join(missing)
    explanation = f"{fields - len(missing)} of {fields} fields filled; missing {labels}"
    advice = f"Missing {labels} - complete the deal record" if score < 60 else None
    return _Part(score, explanation, advice)


_PAST_OR_NO_CLOSE_SCORE: Final = 30.0


def _urgency(days_until: int) -> float:
    """The urgency of a close date ``days_until`` away (past: see _score_urgency)."""
    if days_until < 0:
        return _PAST_OR_NO_CLOSE_SCORE
    if days_until < 7:
        return 100.0
    if days_until < 30:
        return 90.0
    if days_until < 60:
        return 70.0
    if days_until < 90:
        return 50.0
    return 40.0


def _score_urgency(deal: DealRecord, today: date) -> _Part:
    close = deal.close_date
    if close is None:
        return _Part(
            _PAST_OR_NO_CLOSE_SCORE,
            "no close date set",
            "No close date set - agree a target close date",
        )
    days_until = (close - today).days
    if days_until < 0:
        overdue = format_days(-days_until)
        return _Part(
            _PAST_OR_NO_CLOSE_SCORE,
            f"close date passed {overdue} ago",
            f"Close date passed {overdue} ago - update the timeline",
        )
    when = "closes today" if days_until == 0 else f"closes in {format_days(days_until)}"
    score = _urgency(days_until)
    advice = f"{when.capitalize()} - act now to land it" if score >= 90 else None
    return _Part(score, when, advice)


def _value_tier(ratio: float) -> float:
    """The value component of a deal worth ``ratio`` times the workspace average."""
    if ratio >= 2.0:
        return 100.0
    if ratio >= 1.5:
        return 90.0
    if ratio >= 0.8:
        return 70.0
    if ratio >= 0.5:
        return 50.0
    return 30.0


def _score_value(deal: DealRecord, average_value: float | None) -> _Part:
    if average_value is None or average_value <= 0:
        return _Part(_UNKNOWN_SCORE, "no workspace average to compare with")
    value = deal.value
    ratio = (value or 0.0) / average_value
    score = _value_tier(ratio)
    # Round down for display so the shown ratio never crosses a tier the score did not;
    # under a tenth of the average, a percentage ("0.0×" read as nothing at all).
    if ratio < 0.1:
        shown = f"{max(1, math.floor(ratio * 100 + 1e-9)) if ratio > 0 else 0}% of"
    else:
        shown = f"{math.floor(ratio * 10 + 1e-9) / 10:.1f}×"
    if value is None:
        explanation = "no value set (counted as 0)"
    else:
        explanation = f"value is {shown} the workspace average"
    advice = None
    if score >= 90:
        advice = f"High-value deal ({shown} the average) - allocate senior resources"
    elif score < 40:
        advice = f"Small deal ({shown} the average) - keep the effort proportionate"
    return _Part(score, explanation, advice)


# --------------------------------------------------------------------------- scoring


def score_deal(deal: DealRecord, now: datetime, average_value: float | None) -> DealHealth:
    """Score one deal as of ``now`` (aware UTC).

    ``average_value`` is the workspace average the value component compares against; pass
    ``None`` when there is no context (the component then scores a neutral 50). The band is
    taken from the rounded score so the number shown and its band always agree.
    """
    now = as_utc(now)
    parts = {
        "probability": _score_probability(deal),
        "velocity": _score_velocity(deal, now),
        "freshness": _score_freshness(deal, now),
        "completeness": _score_completeness(deal),
        "urgency": _score_urgency(deal, now.date()),
        "value_score": _score_value(deal, average_value),
    }
    components = {
        name: ComponentScore(part.score, WEIGHTS[name], part.explanation)
        for name, part in parts.items()
    }
    total = round(sum(c.score * c.weight for c in components.values()), 1)
    return DealHealth(
        deal_id=deal.id,
        title=display_title(deal),
        health_score=total,
        health_status=health_band(total),
        components=components,
        advice=tuple(part.advice for part in parts.values() if part.advice),
    )


def health_total(deal: DealRecord, now: datetime, average_value: float | None) -> float:
    """``score_deal(deal, now, average_value).health_score``, without the explanations and
    advice: what a rule that only compares the score needs (a team's insight run checks
    14,000 deals, three in four of them healthy enough to need nothing more)."""
    now = as_utc(now)
    entered = deal.stage_changed_at if deal.stage_changed_at is not None else deal.created_at
    last = deal.last_activity_at if deal.last_activity_at is not None else deal.updated_at
    close = deal.close_date
    scores = (
        0.0 if deal.probability is None else deal.probability,
        _UNKNOWN_SCORE if entered is None else _recency_tier(whole_days(entered, now))[0],
        _UNKNOWN_SCORE if last is None else _recency_tier(whole_days(last, now))[0],
        _completeness(deal)[0],
        _PAST_OR_NO_CLOSE_SCORE if close is None else _urgency((close - now.date()).days),
        _UNKNOWN_SCORE
        if average_value is None or average_value <= 0
        else _value_tier((deal.value or 0.0) / average_value),
    )
    # Summed in score_deal's order, so that the float is the very same.
    weights = WEIGHTS.values()
    return round(sum(score * weight for score, weight in zip(scores, weights, strict=True)), 1)


def score_workspace(
    deals: Iterable[DealRecord], now: datetime, *, total_deals: int | None = None
) -> dict[str, Any]:
    """Score the open deals among ``deals`` and summarise them.

    ``total_deals`` counts every deal passed in, unless the caller, having passed only the
    open ones, says how many there are; ``scored_deals`` only the open ones. The
    distribution always has all five bands, and ``average_health`` is 0 when nothing was
    scored, so callers never meet a missing key or a NaN.
    """
    everything = list(deals)
    open_deals = [deal for deal in everything if deal.is_open]
    average_value = average_open_value(open_deals)
    scored = [score_deal(deal, now, average_value) for deal in open_deals]
    distribution = dict.fromkeys(BAND_NAMES, 0)
    for result in scored:
        distribution[result.health_status] += 1
    average_health = sum(r.health_score for r in scored) / len(scored) if scored else 0.0
    return {
        "scored_deals": [result.to_dict() for result in scored],
        "workspace_metrics": {
            "average_health": round(average_health, 1),
            "total_deals": len(everything) if total_deals is None else total_deals,
            "scored_deals": len(scored),
            "health_distribution": distribution,
        },
    }
