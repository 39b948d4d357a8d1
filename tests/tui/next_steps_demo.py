"""Next steps on a seeded demo's open deals, the same on every run: some due ahead, some
overdue, some missing, so the screens that mark them have each kind to show."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pilot_helpers import FIXED_NOW

from vectoros_tui.store.store import Store

STEPS = ("Send the proposal", "Call the CFO", "Book the demo", "Agree the pilot's scope")


def give_next_steps(store: Store, workspace_id: uuid.UUID) -> dict[str, list[str]]:
    """Deal ids by kind (``due``, ``overdue``, ``missing``): of the open deals, most
    valuable first, the second of every four has no next step and the fourth is overdue;
    the rest are due within ten days. Written as of FIXED_NOW."""
    today = FIXED_NOW.date()
    deals = store.deals.list(
        workspace_id, outcome="open", sort="value", descending=True, limit=10_000
    ).deals
    kinds: dict[str, list[str]] = {"due": [], "overdue": [], "missing": []}
    for index, deal in enumerate(sorted(deals, key=lambda d: (-d.value, str(d.id)))):
        # Every kind written here, whatever the demo seeded itself.
        if index % 4 == 1:
            step, due, kind = None, None, "missing"
        elif index % 4 == 3:
            step, kind = STEPS[index % len(STEPS)], "overdue"
            due = today - timedelta(days=index % 5 + 1)
        else:
            step, kind = STEPS[index % len(STEPS)], "due"
            due = today + timedelta(days=index % 9 + 1)
        store.deals.update(deal.id, {"next_step": step, "next_step_due": due}, now=FIXED_NOW)
        kinds[kind].append(str(deal.id))
    return kinds
