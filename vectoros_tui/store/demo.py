"""A realistic, deterministic demo pipeline.

The same ``seed`` and ``now`` always give the same workspace: deals across every stage and
age, won/lost history with lost reasons, activity timelines (some going stale), close dates
that slipped, and companies from several industries. Dates are relative to ``now`` so the
demo always looks current.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import SQLModel

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.stages import OPEN_STAGES
from vectoros_tui.store.database import Database
from vectoros_tui.store.demo_ids import demo_id
from vectoros_tui.store.demo_vocabulary import (
    ACTIVITY_TEXT,
    DEAL_KINDS,
    FIRST,
    INDUSTRIES,
    LAST,
    LOST_REASONS,
    NEXT_STEPS,
)
from vectoros_tui.store.roles import ensure_member
from vectoros_tui.store.tables import Activity, Deal, DealEvent, Workspace

PROBABILITY_BY_STAGE = {
    "prospect": (10, 25),
    "qualified": (25, 45),
    "proposal": (40, 65),
    "negotiation": (60, 90),
}
# What `vectoros demo` and the welcome screen load: enough history for the history model
# and a track record on first run.
DEMO_DEALS = 1_000
DEMO_HISTORY_MONTHS = 18


@dataclass(frozen=True)
class DemoSummary:
    workspace_id: uuid.UUID
    deals: int
    open_deals: int
    activities: int


def _weighted(rng: random.Random, options: list[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def build_demo_rows(
    workspace_id: uuid.UUID, deals: int, seed: int, now: datetime, *, activities: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for the deals, activities and deal_events tables (no database needed)."""
    rng = random.Random(seed)
    deal_rows: list[dict[str, Any]] = []
    activity_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    industries = list(INDUSTRIES)
    for index in range(deals):
        industry = rng.choice(industries)
        stems, suffixes, size = INDUSTRIES[industry]
        company = (
            f"{rng.choice(stems)}{rng.choice(['', 'ly', 'io', 'era', 'on'])} {rng.choice(suffixes)}"
        )
        kind, scale = rng.choice(DEAL_KINDS)
        value = round(rng.lognormvariate(0, 0.55) * size * scale / 100) * 100 or 500
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = company.lower().replace(" ", "") + ".com"
        closed = rng.random() < 0.35
        # Closed deals span the last eight months; open ones are mostly a few weeks old,
        # with a long tail of old deals that never moved.
        age_days = rng.uniform(20, 240) if closed else min(1 + rng.expovariate(1 / 40), 240)
        created = now - timedelta(days=age_days)
        deal_id = demo_id(rng, workspace_id)
        path = ["prospect"]
        if closed:
            reached = rng.randint(1, 3)
            path += [*OPEN_STAGES[1 : reached + 1], "closed"]
        else:
            path += list(OPEN_STAGES[1 : rng.choices([0, 1, 2, 3], [30, 28, 24, 18])[0] + 1])
        # Spread the stage changes over the deal's life; the last one is "time in stage".
        # Open deals mostly entered their stage recently (a few weeks, exponentially
        # distributed); earlier stage changes spread over the time before that.
        last_change_age = age_days if len(path) == 1 else min(age_days, rng.expovariate(1 / 18))
        if closed:
            last_change_age = rng.uniform(0, age_days)
        entered = now - timedelta(days=last_change_age)
        middle = sorted(created + (entered - created) * rng.random() for _ in path[1:-1])
        moments = [created, *middle, entered] if len(path) > 1 else [created]
        for step, (stage, moment) in enumerate(zip(path, moments, strict=True)):
            event_rows.append(
                {
                    "id": demo_id(rng, workspace_id),
                    "deal_id": deal_id,
                    "field": "stage",
                    "old_value": path[step - 1] if step else None,
                    "new_value": stage,
                    "changed_at": moment,
                }
            )
        stage = path[-1]
        outcome = lost_reason = closed_at = None
        if closed:
            won = rng.random() < 0.45 + 0.1 * (len(path) - 3)
            outcome = "won" if won else "lost"
            lost_reason = None if won else _weighted(rng, LOST_REASONS)
            closed_at = moments[-1]
            probability = 100 if won else 0
            close_date = closed_at.date()
        else:
            low, high = PROBABILITY_BY_STAGE[stage]
            probability = rng.randint(low, high)
            close_date = (now + timedelta(days=rng.randint(-20, 120))).date()
            if rng.random() < 0.08:
                close_date = None
            if close_date and rng.random() < 0.2:
                # A slipped close date: record the earlier target(s).
                earlier = close_date - timedelta(days=rng.randint(7, 45))
                event_rows.append(
                    {
                        "id": demo_id(rng, workspace_id),
                        "deal_id": deal_id,
                        "field": "close_date",
                        "old_value": earlier.isoformat(),
                        "new_value": close_date.isoformat(),
                        "changed_at": moments[-1] + (now - moments[-1]) / 2,
                    }
                )
        last_touch = created
        if activities:
            # Most deals are worked regularly; about a fifth have gone quiet.
            quiet_since = now - timedelta(days=rng.uniform(15, 60)) if rng.random() < 0.2 else now
            for _ in range(rng.choices([0, 1, 2, 3, 4, 6, 8], [5, 10, 20, 25, 20, 12, 8])[0]):
                span_end = min(quiet_since, closed_at or now)
                if span_end <= created:
                    break
                when = created + (span_end - created) * rng.random()
                kind_name = rng.choices(list(ACTIVITY_TEXT), [35, 30, 20, 15])[0]
                activity_rows.append(
                    {
                        "id": demo_id(rng, workspace_id),
                        "deal_id": deal_id,
                        "type": kind_name,
                        "description": rng.choice(ACTIVITY_TEXT[kind_name]),
                        "date": when,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                last_touch = max(last_touch, when)
            if not closed and quiet_since == now and rng.random() < 0.85:
                when = now - timedelta(days=rng.uniform(0, 10))
                activity_rows.append(
                    {
                        "id": demo_id(rng, workspace_id),
                        "deal_id": deal_id,
                        "type": "email",
                        "description": rng.choice(ACTIVITY_TEXT["email"]),
                        "date": when,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                last_touch = max(last_touch, when)
        deal_rows.append(
            {
                "id": deal_id,
                "workspace_id": workspace_id,
                "title": f"{company} — {kind}",
                "company": company,
                "value": float(value),
                "stage": stage,
                "probability": probability,
                "contact_name": f"{first} {last}" if rng.random() > 0.05 else None,
                "contact_email": f"{first.lower()}.{last.lower()}@{domain}".replace("ü", "u")
                if rng.random() > 0.1
                else None,
                "close_date": close_date,
                "outcome": outcome,
                "lost_reason": lost_reason,
                "closed_at": closed_at,
                "created_at": created,
                "updated_at": max(last_touch, moments[-1]),
                "stage_changed_at": moments[-1],
                "source_id": f"demo-{seed}-{index}",
                "version": 1,
            }
        )
    return deal_rows, activity_rows, event_rows


def create_demo_workspace(
    db: Database,
    *,
    name: str = "Demo",
    deals: int = 200,
    seed: int = 7,
    now: datetime | None = None,
    activities: bool = True,
    batch_size: int = 5_000,
    history_months: int = 0,
    reps: int = 8,
) -> DemoSummary:
    """Create a workspace named ``name`` filled with demo data, in one transaction.

    With ``history_months`` the ``deals`` are spread over that many months and played out
    by :mod:`vectoros_tui.store.demo_history`, so the workspace has a past to learn from;
    without, they are today's pipeline and a recent past drawn directly."""
    moment = now or utc_now()
    workspace_id = uuid.UUID(int=random.Random(f"ws-{seed}-{name}").getrandbits(128), version=4)
    if history_months:
        from vectoros_tui.store.demo_history import build_history_rows

        history = build_history_rows(
            workspace_id,
            months=history_months,
            deals_per_month=deals / history_months,
            seed=seed,
            now=moment,
            reps=reps,
        )
        deal_rows, activity_rows, event_rows = history.deals, history.activities, history.events
        people = [(rep.email, rep.name) for rep in history.reps]
    else:
        deal_rows, activity_rows, event_rows = build_demo_rows(
            workspace_id, deals, seed, moment, activities=activities
        )
        people = []
    _plan_next_steps(deal_rows, seed, moment)
    write_workspace(
        db,
        Workspace(id=workspace_id, name=name, created_at=moment, updated_at=moment),
        ((Deal, deal_rows), (DealEvent, event_rows), (Activity, activity_rows)),
        batch_size,
        people,
    )
    open_deals = sum(1 for row in deal_rows if row["outcome"] is None)
    return DemoSummary(workspace_id, len(deal_rows), open_deals, len(activity_rows))


def _plan_next_steps(deal_rows: list[dict[str, Any]], seed: int, now: datetime) -> None:
    """Most open deals have a next step, due around now (some overdue); some have none.
    A stream of its own, so the rest of the demo is the same with or without them."""
    rng = random.Random(f"next-steps-{seed}")
    stages = {"prospect": 0, "qualified": 1, "proposal": 2, "negotiation": 3}
    for row in deal_rows:
        row["next_step"] = row["next_step_due"] = None
        if row["outcome"] is not None:
            continue
        step = rng.random()
        # Later stages are worked more closely: fewer deals without a plan.
        if step < 0.35 - 0.08 * stages.get(row["stage"], 0):
            continue
        row["next_step"] = rng.choice(NEXT_STEPS[row["stage"]])
        if rng.random() < 0.9:
            row["next_step_due"] = (now + timedelta(days=rng.randint(-12, 21))).date()


def write_workspace(
    db: Database,
    workspace: Workspace,
    tables: Iterable[tuple[type[SQLModel], list[dict[str, Any]]]],
    batch_size: int = 5_000,
    people: Iterable[tuple[str, str]] = (),
) -> None:
    """A new workspace and its rows, in one transaction. ``people`` (email, name) become
    its members, and a deal row's ``owner_email`` its owner."""
    deals = 0
    with db.write() as session:
        session.add(workspace)
        session.flush()
        owners = {
            email: ensure_member(session, workspace.id, email, name) for email, name in people
        }
        for table, rows in tables:
            if table is Deal:
                rows = [
                    {
                        **{k: v for k, v in row.items() if k != "owner_email"},
                        "owner_id": owners.get(row.get("owner_email", "")),
                    }
                    for row in rows
                ]
                deals += len(rows)
            for start in range(0, len(rows), batch_size):
                session.execute(insert(table), rows[start : start + batch_size])
    db.bulk_loaded(deals)
