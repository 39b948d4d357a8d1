"""The deployed dialect has no next step and no activity routes: a sync with it sends no
next step, asks for no activity, says once that they stay here, and a pull never clears a
next step or touches a timeline. On SQLite and Postgres, over real HTTP on loopback.

The deployed server (the team's Node service) cannot run here, so the fake of
fake_backends.py stands in for it; like that service, it refuses a body with a field it
does not know (400), so a next step sent by mistake would fail the push."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fake_backends import FakeBackend

from vectoros_tui.store.store import Store
from vectoros_tui.sync.engine import SyncEngine
from vectoros_tui.sync.http import RemoteBackend
from vectoros_tui.sync.reports import SyncReport


@pytest.fixture
def deployed() -> Iterator[FakeBackend]:
    with FakeBackend("deployed") as fake:
        yield fake
    assert not fake.errors, fake.errors


def sync(engine: SyncEngine, workspace: Any, server: FakeBackend) -> SyncReport:
    with RemoteBackend(server.url, server.token, "auto", sleep=lambda _: None) as backend:
        return engine.sync(workspace.id, backend)


def timeline(store: Store, deal_id: Any) -> list[tuple[str, str, bool, str]]:
    return sorted(
        (a.type, a.description, a.done, a.date.isoformat()) for a in store.activities.list(deal_id)
    )


def test_next_steps_and_activities_stay_here_untouched(
    store: Store, workspace: Any, deployed: FakeBackend
) -> None:
    remote_ws = deployed.add_workspace("Team")["id"]
    engine = SyncEngine(store.db)
    engine.link(workspace.id, deployed.url, remote_ws, "deployed")
    deal = store.deals.create(
        workspace.id,
        {"title": "Acme", "stage": "proposal", "next_step": "Call", "next_step_due": "2027-02-01"},
    )
    store.activities.add(
        deal.id, {"type": "meeting", "description": "Demo", "date": "2027-02-03", "done": False}
    )
    store.activities.add(deal.id, {"type": "call", "description": "Intro"})
    before = timeline(store, deal.id)

    report = sync(engine, workspace, deployed)
    assert report.pushed_created == 1 and report.problems == []
    [note] = report.notes
    assert "next steps and activities not synced" in note and "stay here" in note
    assert report.to_api()["notes"] == [note]
    sent = [r.body for r in deployed.requests if isinstance(r.body, dict)]
    assert sent and not any("nextStep" in body or "nextStepDue" in body for body in sent)
    assert not any("activities" in r.path for r in deployed.requests)

    # Someone changes the deal there: the pull takes that, and keeps the next step here.
    deployed.edit_deal(str(deal.id), title="Acme (renewal)", value=5000)
    report = sync(engine, workspace, deployed)
    assert report.pulled_updated == 1 and len(report.notes) == 1
    mine = store.deals.get(deal.id)
    assert (mine.title, mine.value) == ("Acme (renewal)", 5000)
    assert (mine.next_step, mine.next_step_due) == ("Call", date(2027, 2, 1))
    assert timeline(store, deal.id) == before

    # An edit of the next step here goes nowhere, and is lost neither.
    store.deals.update(deal.id, {"next_step": "Send the contract"})
    report = sync(engine, workspace, deployed)
    assert report.problems == [] and report.new_conflicts == 0
    assert store.deals.get(deal.id).next_step == "Send the contract"
    assert "nextStep" not in deployed.deals[str(deal.id)]
    assert timeline(store, deal.id) == before
