"""Owners at a team's size: a page of one rep's deals, and the forecast by owner.

Run with ``python benchmarks/bench_owners.py [--postgres URL]`` (about a minute). Goals:
a page of 100 of one owner's deals in a 100,000-deal workspace ≤ 20 ms (both databases);
``forecast --by owner`` for 40 reps and 3,000 open deals ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from functools import partial

from vectoros_tui.store.demo import build_demo_rows, create_demo_workspace, write_workspace
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.tables import Activity, Deal, DealEvent, Workspace

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def owned_workspace(
    store: Store, deals: int, owners: int, name: str, seed: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A demo workspace of ``deals`` deals spread at random over ``owners`` members."""
    workspace_id = uuid.uuid4()
    deal_rows, activity_rows, event_rows = build_demo_rows(
        workspace_id, deals, seed, NOW, activities=False
    )
    people = [(f"rep{i:02d}.{seed}@bench.example.com", f"Rep {i:02d}") for i in range(owners)]
    rng = random.Random(seed)
    for row in deal_rows:
        row["owner_email"] = rng.choice(people)[0]
    write_workspace(
        store.db,
        Workspace(id=workspace_id, name=name, created_at=NOW, updated_at=NOW),
        ((Deal, deal_rows), (DealEvent, event_rows), (Activity, activity_rows)),
        people=people,
    )
    return workspace_id, [m.id for m in store.owners.members(workspace_id)]


def timed(action, repeat: int = 7) -> float:
    took = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    missed = []
    with tempfile.TemporaryDirectory() as folder:
        stores = [("SQLite", open_store(f"sqlite:///{folder}/owners.sqlite3"))]
        if args.postgres:
            stores.append(("Postgres", open_store(args.postgres)))
        for label, store in stores:
            ws, ids = owned_workspace(store, 100_000, 40, f"Owners {label}", seed=21)
            listing = partial(store.deals.list, ws, owner_id=ids[7], limit=100, sort="value")
            page = timed(listing)
            deep = timed(partial(listing, offset=2_000))
            store.workspaces.delete(ws)  # a shared database keeps nothing of ours
            for what, seconds in (("first page", page), ("page at offset 2,000", deep)):
                ok = seconds <= 0.020
                missed += [] if ok else [f"{label} owner {what}"]
                print(
                    f"{label}: one owner's deals, {what} of 100 in 100,000: "
                    f"{seconds * 1000:.1f} ms (goal 20 ms: {'met' if ok else 'MISSED'})"
                )
        store = stores[0][1]
        ws, _ = owned_workspace(store, 4_600, 40, "Team of 40", seed=22)
        open_deals = sum(1 for d in store.deals.records(ws) if d.is_open)
        took = timed(
            partial(store.analytics.team_forecast, ws, model="rep", seed=1, now=NOW), repeat=5
        )
        ok = took <= 0.300
        missed += [] if ok else ["forecast by owner"]
        print(
            f"forecast --by owner (rep model), 40 reps, {open_deals:,} open deals, 10,000 runs: "
            f"{took * 1000:.0f} ms (goal 300 ms: {'met' if ok else 'MISSED'})"
        )
        history = create_demo_workspace(
            store.db, name="History team", deals=6_000, seed=3, now=NOW, history_months=18, reps=40
        )
        open_history = sum(1 for d in store.deals.records(history.workspace_id) if d.is_open)
        store.analytics.team_forecast(history.workspace_id, model="history", now=NOW)  # fit kept
        took = timed(
            partial(
                store.analytics.team_forecast,
                history.workspace_id,
                model="history",
                seed=1,
                now=NOW,
            ),
            repeat=5,
        )
        print(
            f"forecast --by owner (history model, fit kept), 40 reps, {open_history:,} open "
            f"deals: {took * 1000:.0f} ms"
        )
        for _, opened in stores:
            opened.close()
    if missed:
        print("Missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
