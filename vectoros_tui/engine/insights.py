"""Insight rules: what needs the rep's attention, each with the numbers behind it.

Every insight carries a stable ``key`` built from the situation it describes, never from
``now``, so regenerating insights for an unchanged pipeline yields the same keys and the
store can upsert them and keep their read/dismissed state. Where a situation has a natural
anchor the key includes it, so a *new* occurrence gets a new key and is not hidden by the
dismissal of an old one:

==============  ==========================================  ===================================
rule            key                                         anchor
==============  ==========================================  ===================================
stale deal      ``stale:<deal_id>:<last activity date>``    last activity (or creation) date
stuck in stage  ``stuck:<deal_id>:<stage>``                 the stage it is stuck in
overdue         ``overdue:<deal_id>:<close date>``          the close date that passed
pushed out      ``pushed:<deal_id>:<current close date>``   each further push is news
low health      ``low_health:<deal_id>``                    none
ready to close  ``close_soon:<deal_id>:<close date>``       the close date
no next step    ``no_next_step:<deal_id>:<stage>``          the stage it has no next step in
step overdue    ``step_overdue:<deal_id>:<due date>``       the due date that passed
concentration   ``concentration:workspace``                 none (one per workspace)
==============  ==========================================  ===================================

Confidence (0-1) reflects the quality of the data a rule stood on, not how bad things are:

* stale: 0.9 from a logged activity date; 0.6 when no activity was ever logged and the
  creation date stands in (activities may simply not be recorded here).
* stuck: 0.9 from the stage-change date; 0.6 when the creation date stands in (the deal may
  have changed stage before stage changes were recorded).
* overdue: 0.95 (a close date is a stated fact; the doubt is only whether it is stale data).
* pushed: 0.9 (the history is recorded, but an edit may be a correction, not a slip).
* low health: 0.5 + 0.4 × completeness/100, since missing fields drag components to defaults.
* concentration: 0.8 from the forecast's probabilities; 0.6 when derived from the reps' raw
  probabilities (``forecast_contributions`` not given).
* ready to close: 0.7 (it rests on the rep's own probability).
* no next step: 0.7 (the step may live elsewhere, such as an activity planned on the deal,
  which the deal record does not carry).
* step overdue: 0.9 (a stated date; the doubt is whether the step was done and the deal not
  updated).

"No next step" means nobody has said what happens next nor by when: a due date without
text is a step (it surfaces as overdue once it passes). It is asked only of deals that
matter enough to nag about, those past the first stage or worth more than the median open
deal, so an early, small prospect without a plan is left alone.

Only open deals (no outcome, stage not closed) trigger deal rules. The engine never imports
Textual and every rule is a pure function of the deal records and an explicit ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any, Final

from vectoros_tui.engine.dates import as_utc
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.health import (
    DealHealth,
    average_open_value,
    display_stage,
    display_title,
    format_days,
    health_total,
    score_deal,
    whole_days,
)
from vectoros_tui.engine.stages import OPEN_STAGES

# (deal_id, title, value, p) with p a probability in 0-1, as the forecast uses it. Ids and
# titles are loose because the forecast passes ids through as the store gave them.
Contribution = tuple[object, str | None, float | None, float]

PRIORITIES: Final = ("critical", "high", "medium", "low")
_PRIORITY_RANK: Final = {name: rank for rank, name in enumerate(PRIORITIES)}

STALE_DAYS: Final = 14
STALE_HIGH_DAYS: Final = 30
STUCK_DAYS: Final = 30
STUCK_CRITICAL_DAYS: Final = 60
OVERDUE_CRITICAL_DAYS: Final = 30
PUSHED_MIN_DAYS: Final = 7
PUSHED_HIGH_DAYS: Final = 30
PUSHED_HIGH_TIMES: Final = 2
LOW_HEALTH_SCORE: Final = 40.0
LOW_HEALTH_HIGH_SCORE: Final = 20.0
CONCENTRATION_TOP_N: Final = 3
CONCENTRATION_MIN_DEALS: Final = 5
CONCENTRATION_SHARE: Final = 0.5
CONCENTRATION_HIGH_SHARE: Final = 0.75
READY_PROBABILITY: Final = 70.0
READY_WITHIN_DAYS: Final = 14
READY_ACTIVITY_DAYS: Final = 7
# Stages where a deal without a plan is close to money and so most at risk.
LATE_STAGES: Final = ("proposal", "negotiation")
STEP_OVERDUE_HIGH_DAYS: Final = 14
STEP_SHOWN: Final = 60


@dataclass(frozen=True)
class InsightDraft:
    """An insight before the store gives it an id and read/dismissed state.

    ``data`` and ``actions`` are JSON-serialisable (dates as ISO strings).
    """

    key: str
    type: str
    priority: str
    title: str
    description: str
    confidence: float
    data: dict[str, Any]
    actions: list[str]
    deal_id: str | None


# --------------------------------------------------------------------------- deal rules


def _stale_deal(
    deal: DealRecord, now: datetime, top_value_floor: float | None
) -> InsightDraft | None:
    logged = deal.last_activity_at is not None
    last = deal.last_activity_at if logged else deal.created_at
    if last is None:
        return None
    days = whole_days(last, now)
    if days < STALE_DAYS:
        return None
    title = display_title(deal)
    value = deal.value
    top_quartile = top_value_floor is not None and value is not None and value >= top_value_floor
    if logged:
        description = f"No activity on '{title}' for {format_days(days)}"
    else:
        description = (
            f"No activity logged on '{title}' since it was created {format_days(days)} ago"
        )
    contact = deal.contact_name or "the buyer"
    return InsightDraft(
        key=f"stale:{deal.id}:{last.date().isoformat()}",
        type="risk",
        priority="high" if top_quartile or days >= STALE_HIGH_DAYS else "medium",
        title=f"Stale deal: {title}",
        description=description,
        confidence=0.9 if logged else 0.6,
        data={
            "days_since_activity": days,
            "last_activity_at": last.isoformat() if logged else None,
            "threshold": STALE_DAYS,
            "value": value,
            "top_quartile_value": top_quartile,
        },
        actions=[f"Contact {contact} to re-engage", "Log the next step and a date for it"],
        deal_id=deal.id,
    )


def _stuck_in_stage(deal: DealRecord, now: datetime) -> InsightDraft | None:
    from_stage_change = deal.stage_changed_at is not None
    entered = deal.stage_changed_at if from_stage_change else deal.created_at
    if entered is None:
        return None
    days = whole_days(entered, now)
    if days < STUCK_DAYS:
        return None
    critical = days >= STUCK_CRITICAL_DAYS
    title = display_title(deal)
    known_stage = display_stage(deal)
    stage = known_stage or "its stage"
    since = "" if from_stage_change else " (counted from creation)"
    return InsightDraft(
        key=f"stuck:{deal.id}:{known_stage or 'unknown'}",
        type="risk" if critical else "warning",
        priority="critical" if critical else "medium",
        title=f"Stuck in {stage}: {title}",
        description=f"'{title}' has been in {stage} for {format_days(days)}{since}",
        confidence=0.9 if from_stage_change else 0.6,
        data={
            "stage": known_stage,
            "days_in_stage": days,
            "threshold": STUCK_CRITICAL_DAYS if critical else STUCK_DAYS,
            "value": deal.value,
        },
        actions=[
            f"Identify what blocks the move out of {stage}",
            "Agree a dated next step with the buyer",
        ],
        deal_id=deal.id,
    )


def _close_date_passed(deal: DealRecord, today: date) -> InsightDraft | None:
    close = deal.close_date
    if close is None or close >= today:
        return None
    overdue = (today - close).days
    title = display_title(deal)
    return InsightDraft(
        key=f"overdue:{deal.id}:{close.isoformat()}",
        type="risk",
        priority="critical" if overdue > OVERDUE_CRITICAL_DAYS else "high",
        title=f"Close date passed: {title}",
        description=(
            f"'{title}' was due to close on {close.isoformat()}, {format_days(overdue)} ago"
        ),
        confidence=0.95,
        data={
            "close_date": close.isoformat(),
            "days_overdue": overdue,
            "value": deal.value,
        },
        actions=["Confirm the new timeline with the buyer", "Update the close date or close it"],
        deal_id=deal.id,
    )


def _close_date_pushed(deal: DealRecord) -> InsightDraft | None:
    current = deal.close_date
    history = deal.close_date_history
    if current is None or not history:
        return None
    # The oldest entry is the date first committed to; later ones are intermediate slips.
    original = history[0]
    days_pushed = (current - original).days
    if days_pushed < PUSHED_MIN_DAYS:
        return None
    # Count only moves later: pulling a date in is not a slip.
    times_pushed = sum(1 for before, after in pairwise([*history, current]) if after > before)
    high = times_pushed >= PUSHED_HIGH_TIMES or days_pushed >= PUSHED_HIGH_DAYS
    title = display_title(deal)
    times = "once" if times_pushed == 1 else f"{times_pushed} times"
    return InsightDraft(
        key=f"pushed:{deal.id}:{current.isoformat()}",
        type="warning",
        priority="high" if high else "medium",
        title=f"Close date pushed: {title}",
        description=(
            f"'{title}' close date moved from {original.isoformat()} to {current.isoformat()}: "
            f"{format_days(days_pushed)} later, pushed {times}"
        ),
        confidence=0.9,
        data={
            "original_close_date": original.isoformat(),
            "current_close_date": current.isoformat(),
            "days_pushed": days_pushed,
            "times_pushed": times_pushed,
            "threshold": PUSHED_MIN_DAYS,
            "value": deal.value,
        },
        actions=[
            "Ask the buyer what changed and who decides",
            "Re-check the probability against the new date",
        ],
        deal_id=deal.id,
    )


def _low_health(deal: DealRecord, health: DealHealth) -> InsightDraft | None:
    if health.health_score >= LOW_HEALTH_SCORE:
        return None
    title = display_title(deal)
    weakest = health.weakest_components(2)
    # Explanations name their own subject ("in proposal for 70 days"), so they read alone.
    reasons = "; ".join(component.explanation for _, component in weakest)
    completeness = health.components["completeness"].score
    return InsightDraft(
        key=f"low_health:{deal.id}",
        type="risk",
        priority="high" if health.health_score < LOW_HEALTH_HIGH_SCORE else "medium",
        title=f"Low health: {title}",
        description=(
            f"'{title}' scores {health.health_score:.1f}/100 ({health.health_status})"
            + (f"; weakest: {reasons}" if reasons else "")
        ),
        confidence=round(0.5 + 0.4 * completeness / 100.0, 2),
        data={
            "health_score": health.health_score,
            "health_status": health.health_status,
            "threshold": LOW_HEALTH_SCORE,
            "weakest_components": [
                {
                    "component": name,
                    "score": round(component.score, 1),
                    "explanation": component.explanation,
                }
                for name, component in weakest
            ],
            "value": deal.value,
        },
        actions=list(health.advice[:3]) or ["Review the deal's health breakdown"],
        deal_id=deal.id,
    )


def _ready_to_close(deal: DealRecord, now: datetime) -> InsightDraft | None:
    probability = deal.probability
    close = deal.close_date
    # Only a logged activity counts as recent engagement; an edit to the record does not.
    last = deal.last_activity_at
    if probability is None or close is None or last is None:
        return None
    days_until = (close - now.date()).days
    activity_days = whole_days(last, now)
    if (
        probability < READY_PROBABILITY
        or not 0 <= days_until <= READY_WITHIN_DAYS
        or activity_days >= READY_ACTIVITY_DAYS
    ):
        return None
    title = display_title(deal)
    when = "today" if days_until == 0 else f"in {format_days(days_until)}"
    seen = "today" if activity_days == 0 else f"{format_days(activity_days)} ago"
    return InsightDraft(
        key=f"close_soon:{deal.id}:{close.isoformat()}",
        type="opportunity",
        priority="medium",
        title=f"Push to close: {title}",
        description=f"'{title}' is at {probability:g}% and closes {when}; last activity {seen}",
        confidence=0.7,
        data={
            "probability": probability,
            "close_date": close.isoformat(),
            "days_until_close": days_until,
            "days_since_activity": activity_days,
            "value": deal.value,
        },
        actions=["Send the order form or contract", "Confirm the signer and the signing date"],
        deal_id=deal.id,
    )


def _no_next_step(
    deal: DealRecord, median_value: float | None, top_value_floor: float | None
) -> InsightDraft | None:
    if deal.next_step or deal.next_step_due is not None:
        return None
    value = deal.value
    # An unknown stage name counts as not past the first: its place in the funnel is unknown.
    past_first = deal.stage in OPEN_STAGES[1:]
    above_median = median_value is not None and value is not None and value > median_value
    if not (past_first or above_median):
        return None
    late = deal.stage in LATE_STAGES
    big = top_value_floor is not None and value is not None and value >= top_value_floor
    title = display_title(deal)
    known_stage = display_stage(deal)
    where = f" in {known_stage}" if known_stage else ""
    return InsightDraft(
        key=f"no_next_step:{deal.id}:{known_stage or 'unknown'}",
        type="warning",
        priority="high" if late and big else "medium" if late or big else "low",
        title=f"No next step: {title}",
        description=f"Nobody has said what happens next on '{title}'{where}",
        confidence=0.7,
        data={
            "stage": known_stage,
            "value": value,
            "median_value": median_value,
            "late_stage": late,
            "top_quartile_value": big,
        },
        # Short: the detail pane shows actions in half its width.
        actions=[
            "Agree a dated next step with the buyer",
            "If nothing is next, consider closing it",
        ],
        deal_id=deal.id,
    )


def _next_step_overdue(
    deal: DealRecord, today: date, top_value_floor: float | None
) -> InsightDraft | None:
    due = deal.next_step_due
    if due is None or due >= today:
        return None
    days = (today - due).days
    value = deal.value
    late = deal.stage in LATE_STAGES
    big = top_value_floor is not None and value is not None and value >= top_value_floor
    title = display_title(deal)
    step = deal.next_step
    # The step may run to 500 characters; the description is a one-line summary and the
    # whole step is in ``data``.
    shown = step if step is None or len(step) <= STEP_SHOWN else step[: STEP_SHOWN - 1] + "…"
    what = f"'{shown}'" if shown else "(no step written)"
    return InsightDraft(
        key=f"step_overdue:{deal.id}:{due.isoformat()}",
        type="risk",
        priority="high" if late or big or days >= STEP_OVERDUE_HIGH_DAYS else "medium",
        title=f"Next step overdue: {title}",
        description=(
            f"'{title}': next step {what} was due on {due.isoformat()}, {format_days(days)} overdue"
        ),
        confidence=0.9,
        data={
            "next_step": step,
            "next_step_due": due.isoformat(),
            "days_overdue": days,
            "stage": display_stage(deal),
            "value": value,
            "late_stage": late,
            "top_quartile_value": big,
        },
        actions=[
            "Do the step or agree a new date" if step else "Write down what the step is",
            "Once done, set the next step and its date",
        ],
        deal_id=deal.id,
    )


# --------------------------------------------------------------------------- workspace rule


def _derived_contributions(open_deals: Iterable[DealRecord]) -> list[Contribution]:
    """(id, title, value, probability/100) for open deals that have both a value and a
    probability; a deal missing either cannot be placed in the forecast."""
    rows: list[Contribution] = []
    for deal in open_deals:
        if deal.value is None or deal.probability is None:
            continue
        rows.append((deal.id, display_title(deal), deal.value, deal.probability / 100.0))
    return rows


def _forecast_concentration(
    contributions: Sequence[Contribution], *, derived: bool
) -> InsightDraft | None:
    # A deal's share of the forecast's variance: a Bernoulli(p) win of value v has variance
    # v²p(1-p), and independent deals' variances add.
    rows = []
    for deal_id, title, raw_value, raw_p in contributions:
        value = float(raw_value or 0.0)
        p = min(1.0, max(0.0, float(raw_p)))
        label = str(title or "").strip() or "Untitled deal"
        rows.append((str(deal_id), label, value, p, value * value * p * (1.0 - p)))
    total = sum(row[4] for row in rows)
    if len(rows) < CONCENTRATION_MIN_DEALS or not total > 0 or not math.isfinite(total):
        return None
    rows.sort(key=lambda row: (-row[4], row[0]))
    top = rows[:CONCENTRATION_TOP_N]
    top_share = sum(row[4] for row in top) / total
    if top_share < CONCENTRATION_SHARE:
        return None
    leader_share = top[0][4] / total
    if leader_share >= CONCENTRATION_SHARE:
        # One deal is enough to trip the rule; listing its near-zero runners-up is noise.
        description = (
            f"'{top[0][1]}' alone carries {leader_share:.0%} of the forecast's variance "
            f"across {len(rows)} deals: the forecast rides on it"
        )
    else:
        named = ", ".join(f"'{row[1]}' {row[4] / total:.0%}" for row in top)
        description = (
            f"{len(top)} of {len(rows)} deals carry {top_share:.0%} of the forecast's "
            f"variance ({named}): the forecast rides on them"
        )
    return InsightDraft(
        key="concentration:workspace",
        type="recommendation",
        priority="high" if top_share >= CONCENTRATION_HIGH_SHARE else "medium",
        title="Forecast depends on a few deals",
        description=description,
        confidence=0.6 if derived else 0.8,
        data={
            "top_deals": [
                {
                    "deal_id": deal_id,
                    "title": title,
                    "value": value,
                    "probability": p,
                    "share": round(variance / total, 4),
                }
                for deal_id, title, value, p, variance in top
            ],
            "top_share": round(top_share, 4),
            # What is at stake, so it ranks among deal insights by value like they do.
            "value": sum(row[2] for row in top),
            "deal_count": len(rows),
            "threshold": CONCENTRATION_SHARE,
            "probabilities": "rep" if derived else "forecast",
        },
        actions=[
            "Review next steps on the top deals first",
            "Build more mid-sized pipeline to spread the risk",
        ],
        deal_id=None,
    )


# --------------------------------------------------------------------------- entry point


def _top_quartile_floor(open_deals: Iterable[DealRecord]) -> float | None:
    """Smallest value still in the top quartile of open deal values (the ceil(n/4) largest).

    Zero and missing values are left out: ranking unpriced deals says nothing about size.
    """
    values = sorted(
        (v for deal in open_deals if (v := deal.value) is not None and v > 0),
        reverse=True,
    )
    if not values:
        return None
    return values[math.ceil(len(values) / 4) - 1]


def _median_value(open_deals: Iterable[DealRecord]) -> float | None:
    """The median of open deal values, zero and missing left out as for the quartile."""
    values = sorted(v for deal in open_deals if (v := deal.value) is not None and v > 0)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def generate_insights(
    deals: Iterable[DealRecord],
    now: datetime,
    *,
    health: Mapping[str, DealHealth] | None = None,
    forecast_contributions: Sequence[Contribution] | None = None,
) -> list[InsightDraft]:
    """All insights for ``deals`` as of ``now`` (aware UTC), most urgent first.

    ``health`` maps deal id to a precomputed :class:`DealHealth`; deals missing from it are
    scored here against the open deals' average value. ``forecast_contributions`` are the
    forecast's ``(deal_id, title, value, p)`` rows; when ``None`` they are derived from the
    open deals with ``p = probability / 100`` (deals missing a value or probability are left
    out). Sorted by priority (critical, high, medium, low), then value (largest first), then
    key, so the order is deterministic.
    """
    now = as_utc(now)
    open_deals = [deal for deal in deals if deal.is_open]
    top_value_floor = _top_quartile_floor(open_deals)
    median_value = _median_value(open_deals)
    average_value = average_open_value(open_deals)
    known_health = health or {}

    found: list[InsightDraft] = []
    for deal in open_deals:
        deal_health = known_health.get(deal.id)
        low_health = None
        # Scored in full (its explanations and advice) only when the rule speaks of it.
        if deal_health is not None or health_total(deal, now, average_value) < LOW_HEALTH_SCORE:
            low_health = _low_health(deal, deal_health or score_deal(deal, now, average_value))
        drafts = (
            _stale_deal(deal, now, top_value_floor),
            _stuck_in_stage(deal, now),
            _close_date_passed(deal, now.date()),
            _close_date_pushed(deal),
            low_health,
            _ready_to_close(deal, now),
            _no_next_step(deal, median_value, top_value_floor),
            _next_step_overdue(deal, now.date(), top_value_floor),
        )
        found.extend(draft for draft in drafts if draft is not None)

    if forecast_contributions is None:
        concentration = _forecast_concentration(_derived_contributions(open_deals), derived=True)
    else:
        concentration = _forecast_concentration(forecast_contributions, derived=False)
    if concentration is not None:
        found.append(concentration)

    # Every draft's data carries the value at stake (None for an unpriced deal).
    found.sort(key=lambda d: (_PRIORITY_RANK[d.priority], -(d.data["value"] or 0.0), d.key))
    return found
