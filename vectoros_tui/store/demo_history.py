"""A workspace with a past: deals born, worked, won, lost or left to go stale, month by month.

Where :mod:`vectoros_tui.store.demo` draws today's pipeline, this plays out a sales
process over many months and keeps every change as the app would have kept it (stage,
outcome, close date, value and probability events; activities), so an as-of view, the
history model and a backtest have something true to work on. What a real CRM's history
shows, and a forecast must cope with:

* deals advance stage by stage, or are lost, or go stale: no more moves, close dates left
  in the past, cleaned up as lost (went silent) months later or never;
* close dates slip while a deal is alive; reps enter optimistic probabilities, each rep
  by their own amount, and reps differ in how often they win;
* months differ: a market factor per month moves every deal's odds together, and wins
  bunch up in the last month of a quarter.

Deterministic for a seed and a ``now``. Only the rows are built here; the demo
(``create_demo_workspace(history_months=...)``) writes them.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from vectoros_tui.engine.stages import DEFAULT_PROBABILITY, OPEN_STAGES
from vectoros_tui.store.deals import tracked_text
from vectoros_tui.store.demo_ids import demo_id
from vectoros_tui.store.demo_vocabulary import (
    ACTIVITY_TEXT,
    DEAL_KINDS,
    FIRST,
    INDUSTRIES,
    LAST,
    LOST_REASONS,
)

DAYS_PER_MONTH = 30.4
# Mean days in each stage before something happens, and what happens then:
# (lost, goes stale); the rest advance (from negotiation: won).
DWELL_DAYS = {"prospect": 12.0, "qualified": 18.0, "proposal": 21.0, "negotiation": 16.0}
STEP_ODDS = {
    "prospect": (0.30, 0.15),
    "qualified": (0.25, 0.10),
    "proposal": (0.25, 0.08),
    "negotiation": (0.25, 0.05),
}
# Stale deals: the chance per day someone cleans one up (lost, went silent).
CLEANUP_PER_DAY = 1 / 200
# A win due in the first or second month of a quarter is pushed to its end this often.
QUARTER_PUSH = {1: 0.40, 2: 0.25, 3: 0.0}


@dataclass(frozen=True)
class Rep:
    name: str
    skill: float  # odds multiplier for advancing
    optimism: int  # points added to the stage's usual probability

    @property
    def email(self) -> str:
        """A demo address (example.com is reserved for examples)."""
        local = self.name.casefold().replace(" ", ".").replace("ü", "u")
        return f"{local}@demo.example.com"


@dataclass
class _Deal:
    id: uuid.UUID
    title: str
    company: str
    contact: str
    email: str
    rep: Rep
    created: datetime
    value: float
    stage: str = "prospect"
    probability: int = 0
    close_date: date | None = None
    outcome: str | None = None
    lost_reason: str | None = None
    closed_at: datetime | None = None
    stage_changed_at: datetime | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    activities: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryRows:
    deals: list[dict[str, Any]]
    events: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    reps: tuple[Rep, ...]


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _quarter_month(moment: datetime) -> int:
    return (moment.month - 1) % 3 + 1


def _quarter_end(moment: datetime) -> datetime:
    last_month = moment.month + 3 - _quarter_month(moment)
    year = moment.year
    first_after = datetime(year + (last_month == 12), last_month % 12 + 1, 1, tzinfo=UTC)
    return first_after - timedelta(seconds=1)


class _Process:
    def __init__(
        self,
        workspace_id: uuid.UUID,
        rng: random.Random,
        start: datetime,
        now: datetime,
        reps: int,
    ) -> None:
        self.workspace_id = workspace_id
        self.rng = rng
        self.start = start
        self.now = now
        names = [f"{first} {last}" for first in FIRST for last in LAST]
        self.reps = tuple(
            Rep(
                name,
                skill=math.exp(rng.gauss(0.0, 0.35)),
                optimism=rng.randint(0, 20),
            )
            for name in rng.sample(names, reps)
        )
        self.market: dict[tuple[int, int], float] = {}

    def market_factor(self, moment: datetime) -> float:
        key = (moment.year, moment.month)
        if key not in self.market:
            self.market[key] = math.exp(self.rng.gauss(0.0, 0.3))
        return self.market[key]

    def event(self, deal: _Deal, name: str, old: Any, new: Any, at: datetime) -> None:
        if at > self.now or old == new:
            return
        deal.events.append(
            {
                "id": demo_id(self.rng, self.workspace_id),
                "deal_id": deal.id,
                "field": name,
                "old_value": tracked_text(old),
                "new_value": tracked_text(new),
                "changed_at": at,
            }
        )

    def set(self, deal: _Deal, name: str, new: Any, at: datetime) -> None:
        if at > self.now:
            return
        self.event(deal, name, getattr(deal, name), new, at)
        setattr(deal, name, new)

    def rep_probability(self, deal: _Deal, stage: str) -> int:
        guess = DEFAULT_PROBABILITY[stage] + deal.rep.optimism + self.rng.randint(-5, 5)
        return max(5, min(95, guess))

    def play(self, deal: _Deal) -> None:
        rng, now = self.rng, self.now
        t = deal.created
        deal.stage_changed_at = t
        self.event(deal, "stage", None, "prospect", t)
        deal.probability = self.rep_probability(deal, "prospect")
        expected = t + timedelta(days=rng.gammavariate(3.0, 70.0 / 3.0))
        deal.close_date = expected.date()
        stale_since: datetime | None = None
        while True:
            stage = deal.stage
            dwell = rng.gammavariate(2.0, DWELL_DAYS[stage] / 2.0 / math.sqrt(deal.rep.skill))
            self._work(deal, t, t + timedelta(days=dwell))
            t = t + timedelta(days=dwell)
            if t > now:
                return
            lost, stale = STEP_ODDS[stage]
            advance = 1.0 - lost - stale
            if stage == "negotiation":
                advance *= self.market_factor(t)
            odds = advance * deal.rep.skill / (lost + stale)
            advance = odds / (1.0 + odds) * (1.0 - stale)
            roll = rng.random()
            if roll < stale:
                stale_since = t
                break
            if roll < stale + advance:
                if stage == "negotiation":
                    push = QUARTER_PUSH[_quarter_month(t)]
                    if rng.random() < push:
                        end = _quarter_end(t)
                        t = end - timedelta(days=rng.uniform(0, 20))
                        self._work(deal, t - timedelta(days=20), t)
                    self._close(deal, "won", t)
                    return
                next_stage = OPEN_STAGES[OPEN_STAGES.index(stage) + 1]
                self.set(deal, "stage", next_stage, t)
                deal.stage_changed_at = t if t <= now else deal.stage_changed_at
                self.set(deal, "probability", self.rep_probability(deal, next_stage), t)
                if next_stage == "proposal" and rng.random() < 0.3:
                    repriced = round(deal.value * rng.uniform(0.8, 1.15) / 100) * 100 or 500
                    self.set(deal, "value", float(repriced), t)
                continue
            self._close(deal, "lost", t)
            return
        # Stale: the odd activity, the close date left where it was, maybe a clean-up.
        assert stale_since is not None
        cleanup = stale_since + timedelta(days=rng.expovariate(CLEANUP_PER_DAY))
        for _ in range(rng.choice([0, 0, 1, 2])):
            when = stale_since + timedelta(days=rng.uniform(0, 90))
            if when <= min(now, cleanup):
                deal.activities.append(when)
        if cleanup <= now:
            self._close(deal, "lost", cleanup, reason="Went silent")

    def _work(self, deal: _Deal, start: datetime, end: datetime) -> None:
        """Activities while the deal is alive, and close dates moved when they pass."""
        rng = self.rng
        t = start
        while True:
            t += timedelta(days=rng.expovariate(1 / 6.0))
            if t >= end or t > self.now:
                break
            deal.activities.append(t)
        if deal.close_date is None:
            return
        due = datetime(deal.close_date.year, deal.close_date.month, deal.close_date.day, tzinfo=UTC)
        while due < end:
            noticed = due + timedelta(days=rng.uniform(0, 7))
            if noticed > min(end, self.now):
                break
            moved = (noticed + timedelta(days=rng.uniform(14, 45))).date()
            self.set(deal, "close_date", moved, noticed)
            due = datetime(moved.year, moved.month, moved.day, tzinfo=UTC)

    def _close(self, deal: _Deal, outcome: str, at: datetime, reason: str | None = None) -> None:
        if at > self.now:
            return
        self.set(deal, "stage", "closed", at)
        deal.stage_changed_at = at
        self.set(deal, "outcome", outcome, at)
        self.set(deal, "probability", 100 if outcome == "won" else 0, at)
        self.set(deal, "close_date", at.date(), at)
        deal.closed_at = at
        if outcome == "lost":
            deal.lost_reason = (
                reason
                or self.rng.choices(
                    [r for r, _ in LOST_REASONS], weights=[w for _, w in LOST_REASONS]
                )[0]
            )


def build_history_rows(
    workspace_id: uuid.UUID,
    *,
    months: int,
    deals_per_month: float,
    seed: int,
    now: datetime,
    reps: int = 8,
) -> HistoryRows:
    """The rows of a workspace whose ``deals_per_month * months`` deals were created over
    the last ``months`` months, each played out until ``now``."""
    rng = random.Random(seed)
    start = now - timedelta(days=months * DAYS_PER_MONTH)
    process = _Process(workspace_id, rng, start, now, reps)
    industries = list(INDUSTRIES)
    deals: list[_Deal] = []
    # Arrivals of a steady process, conditioned on their number: uniform over the span.
    span = (now - start).total_seconds()
    count = round(deals_per_month * months)
    arrivals = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
    for t in arrivals:
        stems, suffixes, size = INDUSTRIES[rng.choice(industries)]
        company = (
            f"{rng.choice(stems)}{rng.choice(['', 'ly', 'io', 'era', 'on'])} {rng.choice(suffixes)}"
        )
        kind, scale = rng.choice(DEAL_KINDS)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        deal = _Deal(
            id=demo_id(rng, workspace_id),
            title=f"{company} — {kind}",
            company=company,
            contact=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}@{company.lower().replace(' ', '')}.com".replace(
                "ü", "u"
            ),
            rep=rng.choice(process.reps),
            created=t,
            value=float(round(rng.lognormvariate(0, 0.55) * size * scale / 100) * 100 or 500),
        )
        process.play(deal)
        deals.append(deal)
    return _rows(workspace_id, deals, process, seed)


def _rows(workspace_id: uuid.UUID, deals: list[_Deal], process: _Process, seed: int) -> HistoryRows:
    rng = process.rng
    deal_rows, event_rows, activity_rows = [], [], []
    for index, deal in enumerate(deals):
        moments = [deal.created, *(e["changed_at"] for e in deal.events)]
        for when in sorted(deal.activities):
            kind = rng.choices(list(ACTIVITY_TEXT), [35, 30, 20, 15])[0]
            activity_rows.append(
                {
                    "id": demo_id(rng, workspace_id),
                    "deal_id": deal.id,
                    "type": kind,
                    "description": rng.choice(ACTIVITY_TEXT[kind]),
                    "date": when,
                    "created_at": when,
                    "updated_at": when,
                }
            )
            moments.append(when)
        event_rows += deal.events
        deal_rows.append(
            {
                "id": deal.id,
                "workspace_id": workspace_id,
                "title": deal.title,
                "company": deal.company,
                "value": deal.value,
                "stage": deal.stage,
                "probability": deal.probability,
                "contact_name": deal.contact,
                "contact_email": deal.email,
                "close_date": deal.close_date,
                "outcome": deal.outcome,
                "lost_reason": deal.lost_reason,
                "closed_at": deal.closed_at,
                "created_at": deal.created,
                "updated_at": max(moments),
                "stage_changed_at": deal.stage_changed_at or deal.created,
                "source_id": f"history-{seed}-{index}",
                "owner_email": deal.rep.email,
                "version": 1,
            }
        )
    return HistoryRows(deal_rows, event_rows, activity_rows, process.reps)
