"""Next steps and planned activities on the command line: `deals add/update --next-step
--next-due`, `activity add --due`, `activity done`, `vectoros tasks`; on SQLite and
Postgres. "Me" is set with VECTOROS_USER__EMAIL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import Cli, all_deals, failure, ok, user_error

ME = "me@example.com"
TODAY = datetime.now(UTC).date()  # the CLI's today (UTC) when the tests were collected
PAST = (TODAY - timedelta(days=3)).isoformat()
SOON = (TODAY + timedelta(days=5)).isoformat()
LATER = (TODAY + timedelta(days=20)).isoformat()


@pytest.fixture(autouse=True)
def me(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VECTOROS_USER__EMAIL", ME)
    return ME


def days_since(day: date) -> set[str]:
    """The days from ``day`` to the CLI's today: "today" for a run that crosses midnight."""
    today = datetime.now(UTC).date()
    return {(day + timedelta(days=n)).isoformat() for n in range((today - day).days + 1)}


def add(cli: Cli, title: str, *args: object) -> dict[str, Any]:
    return cli(
        "deals", "add", "-w", "Pipe", "--title", title, "--value", 1000, *args, "--json"
    ).json()


def tasks(cli: Cli, *args: object) -> dict[str, Any]:
    return cli("tasks", "-w", "Pipe", *args, "--json").json()


def stored(cli: Cli, deal_id: str) -> dict[str, Any]:
    return cli("deals", "show", deal_id, "--json").json()


def test_a_deals_next_step_is_set_shown_and_cleared(cli: Cli) -> None:
    ok(cli("workspace", "create", "Pipe"))
    deal = add(cli, "Acme", "--next-step", "Send the proposal", "--next-due", SOON)
    assert (deal["nextStep"], deal["nextStepDue"]) == ("Send the proposal", SOON)
    moved = cli("deals", "update", deal["id"], "--next-step-due", LATER, "--json").json()
    assert (moved["nextStep"], moved["nextStepDue"]) == ("Send the proposal", LATER)
    assert moved["version"] == deal["version"] + 1
    # Other edits keep it; "" clears it.
    kept = cli("deals", "update", deal["id"], "--value", 5, "--json").json()
    assert kept["nextStep"] == "Send the proposal"
    cleared = cli("deals", "update", deal["id"], "--next-step", "", "--json").json()
    assert cleared["nextStep"] is None and cleared["nextStepDue"] == LATER


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--next-due", "someday"), "next_step_due"),
        (("--next-due", "2026-02-30"), "next_step_due"),
        (("--next-due", "0001-01-01"), "next_step_due"),
        (("--next-step", "x" * 501), "next_step"),
        (("--next-step", "bell\x07"), "next_step"),
    ],
)
def test_a_bad_next_step_is_refused_naming_the_field_and_nothing_is_written(
    cli: Cli, args: tuple[str, str], field: str
) -> None:
    ok(cli("workspace", "create", "Pipe"))
    deal = add(cli, "Acme", "--next-step", "Call", "--next-due", SOON)
    assert field in user_error(cli("deals", "add", "-w", "Pipe", "--title", "X", *args)).err
    assert field in user_error(cli("deals", "update", deal["id"], *args)).err
    after = stored(cli, deal["id"])
    assert (after["nextStep"], after["nextStepDue"], after["version"]) == (
        "Call",
        SOON,
        deal["version"],
    )
    assert [d["title"] for d in all_deals(cli, "-w", "Pipe")] == ["Acme"]


def test_planned_activities_and_next_steps_make_the_task_list(cli: Cli) -> None:
    ok(cli("workspace", "create", "Pipe"))
    late = add(cli, "Late", "--next-step", "Chase the PO", "--next-due", PAST)
    soon = add(cli, "Soon", "--next-step", "Demo")
    add(cli, "Silent")  # no next step: counted, not listed
    won = add(cli, "Won", "--next-step", "Kick-off", "--next-due", PAST, "--stage", "won")
    planned = cli(
        "activity",
        "add",
        soon["id"],
        "--type",
        "call",
        "-d",
        "Call the CFO",
        "--due",
        SOON,
        "--json",
    ).json()
    assert planned["done"] is False and planned["date"].startswith(SOON)
    found = tasks(cli)
    assert found["owner"] == ME  # mine by default: I own deals here
    listed = [(t["deal"], t["kind"], t["what"], t["due"], t["overdue"]) for t in found["tasks"]]
    assert listed == [
        ("Late", "next_step", "Chase the PO", PAST, True),
        ("Soon", "activity", "Call the CFO", SOON, False),
        ("Soon", "next_step", "Demo", None, False),  # undated last
    ]
    assert found["openDealsWithoutNextStep"] == 1
    assert won["id"] not in {t["dealId"] for t in found["tasks"]}  # closed deals have no tasks
    overdue = tasks(cli, "--overdue")["tasks"]
    assert [(t["dealId"], t["overdue"]) for t in overdue] == [(late["id"], True)]
    text = ok(cli("tasks", "-w", "Pipe")).out
    assert "OVERDUE" in text and "Chase the PO" in text and "1 open deal has no next step" in text

    # Done: off the list, dated today, and it now counts as contact made.
    done = cli("activity", "done", planned["id"][:8], "--json").json()
    assert done["done"] is True and done["date"][:10] in days_since(TODAY)
    assert planned["id"] not in {t["activityId"] for t in tasks(cli)["tasks"]}
    listing = ok(cli("activity", "list", soon["id"])).out
    assert "done" in listing and "planned" not in listing


def test_a_planned_activity_is_not_contact_made(cli: Cli, database_url: str) -> None:
    """Health reads the last activity; a call planned for next week is not one, until done."""
    from vectoros_tui.store.store import open_store

    ok(cli("workspace", "create", "Pipe"))
    deal = add(cli, "Acme")
    planned = cli(
        "activity", "add", deal["id"], "--type", "call", "-d", "Later", "--due", LATER, "--json"
    ).json()
    store = open_store(database_url, upgrade=False)
    try:
        workspace = store.workspaces.resolve("Pipe").id
        [record] = store.deals.records(workspace)
        assert record.last_activity_at is None
        ok(cli("activity", "done", planned["id"]))
        [record] = store.deals.records(workspace)
        assert record.last_activity_at is not None
        assert record.last_activity_at.date().isoformat() in days_since(TODAY)
    finally:
        store.close()


def test_bad_activity_input_exits_2_and_writes_nothing(cli: Cli) -> None:
    ok(cli("workspace", "create", "Pipe"))
    deal = add(cli, "Acme")
    for args in (
        ("--due", "next tuesday"),
        ("--due", "2026-13-01"),
        ("--due", "0001-01-01"),
        ("--due", SOON, "--date", SOON),
    ):
        result = user_error(cli("activity", "add", deal["id"], "--type", "call", "-d", "X", *args))
        assert "--due" in result.err or "--date" in result.err
    assert stored(cli, deal["id"])["activities"] == []
    assert user_error(cli("activity", "done", "ffffffff")).err


def test_tasks_per_owner_and_roles(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(cli("workspace", "create", "Pipe"))
    ok(cli("workspace", "add-member", "ann@example.com", "-w", "Pipe"))
    add(cli, "Mine", "--next-step", "Mine next", "--next-due", SOON)
    theirs = add(cli, "Ann's", "--owner", "ann@example.com", "--next-step", "Ann next")
    everyone = tasks(cli, "--owner", "all")
    assert everyone["owner"] is None and len(everyone["tasks"]) == 2
    anns = tasks(cli, "--owner", "ann@example.com")["tasks"]
    assert [t["what"] for t in anns] == ["Ann next"]
    assert "owner" in user_error(cli("tasks", "-w", "Pipe", "--owner", "zelda")).err

    # Ann, a member, plans a call on her deal; she may not mark mine done or plan on it.
    monkeypatch.setenv("VECTOROS_USER__EMAIL", "ann@example.com")
    assert [t["what"] for t in tasks(cli)["tasks"]] == ["Ann next"]  # hers by default
    ok(cli("activity", "add", theirs["id"], "--type", "email", "-d", "Send deck", "--due", SOON))
    mine = next(d for d in all_deals(cli, "-w", "Pipe") if d["title"] == "Mine")
    refused = failure(
        cli("activity", "add", mine["id"], "--type", "call", "-d", "X", "--due", SOON)
    )
    assert "only its owner (me@example.com)" in refused.err
    monkeypatch.setenv("VECTOROS_USER__EMAIL", ME)
    planned = next(t for t in tasks(cli, "--owner", "all")["tasks"] if t["kind"] == "activity")
    monkeypatch.setenv("VECTOROS_USER__EMAIL", "ann@example.com")
    ok(cli("activity", "done", planned["activityId"]))


def test_next_steps_travel_through_export_and_a_crm_import(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Pipe"))
    add(cli, "Acme", "--next-step", 'Send "the" proposal, today', "--next-due", SOON)
    exported = ok(cli("export", "-w", "Pipe", "--format", "csv")).out
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert (rows[0]["next_step"], rows[0]["next_step_due"]) == ('Send "the" proposal, today', SOON)
    # A CRM's "Next Step" column becomes the next step.
    path = tmp_path / "crm.csv"
    path.write_text(
        "Opportunity Name,Amount,Stage,Next Step,Next Step Date\n"
        f"Beta,10,Proposal,Book the demo,{LATER}\n"
    )
    ok(cli("import", path, "-w", "Pipe"))
    beta = next(d for d in all_deals(cli, "-w", "Pipe") if d["title"] == "Beta")
    assert (beta["nextStep"], beta["nextStepDue"]) == ("Book the demo", LATER)
    # Re-importing the export changes nothing.
    again = tmp_path / "again.csv"
    again.write_text(exported)
    summary = cli("import", again, "-w", "Pipe", "--json").json()
    assert summary["unchanged"] == 1 and summary["updated"] == 0
