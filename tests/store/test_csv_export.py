"""CSV/JSON export: spreadsheet-safe cells, plain numbers, JSON shape, and round trips
through csv_import (new workspace: equal deals; same workspace: no duplicates)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from vectoros_tui.store.csv_export import CSV_COLUMNS, export_deals, neutralise
from vectoros_tui.store.csv_import import apply_import, plan_import
from vectoros_tui.store.errors import NotFoundError
from vectoros_tui.store.validation import ValidationError, clean_deal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EVIL = "=cmd|' /C calc'!A0"

DEALS = [
    {
        "title": EVIL,
        "company": "+Globex",
        "value": 1200.5,
        "stage": "proposal",
        "probability": 40,
        "contact_name": "@mention",
        "contact_email": "-x@globex.example",
        "close_date": "2026-06-30",
    },
    {"title": "Acme renewal", "company": "Acme, Inc.", "value": 1_000_000, "stage": "lead"},
    {
        "title": "Initech pilot",
        "company": None,
        "value": 0,
        "stage": "won",
        "close_date": "2026-02-01",
    },
    {
        "title": 'Umbrella "big" upsell, phase 2',
        "company": "Umbrella",
        "value": 30000,
        "stage": "closed",
        "outcome": "lost",
        "lost_reason": "-chose competitor",
        "probability": 0,
    },
    {"title": "\tTabbed", "company": "Hooli", "value": 99.99, "stage": "negotiation"},
]


def seed(store, workspace, deals=DEALS) -> list:
    return [
        store.deals.create(workspace.id, deal, now=T0 + timedelta(minutes=i))
        for i, deal in enumerate(deals)
    ]


def export_text(store, workspace, **kwargs) -> str:
    out = io.StringIO()
    export_deals(store, workspace.id, out, **kwargs)
    return out.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def editable(store, workspace_id) -> list[dict]:
    deals = store.deals.list(workspace_id, limit=10_000, sort="created_at", descending=False)
    return sorted((d.editable_fields() for d in deals.deals), key=lambda d: d["title"])


def history(store, workspace_id) -> list[tuple]:
    deals = store.deals.list(workspace_id, limit=10_000).deals
    return sorted((d.title, d.created_at, d.closed_at) for d in deals)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        ("'quoted", "'quoted"),
    ],
)
def test_neutralise(text: str | None, expected: str) -> None:
    assert neutralise(text) == expected


def test_csv_columns_numbers_and_neutralised_cells(store, workspace) -> None:
    created = seed(store, workspace)
    out = io.StringIO()
    assert export_deals(store, workspace.id, out) == 5
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert CSV_COLUMNS == (
        "id",
        "source_id",
        "title",
        "company",
        "value",
        "stage",
        "probability",
        "contact_name",
        "contact_email",
        "close_date",
        "outcome",
        "lost_reason",
        "next_step",
        "next_step_due",
        "created_at",
        "closed_at",
        "updated_at",
    )
    rows = rows_of(text)
    assert [r["id"] for r in rows] == [str(d.id) for d in created]  # creation order
    evil = rows[0]
    assert evil["title"] == "'" + EVIL
    assert evil["company"] == "'+Globex"
    assert evil["contact_name"] == "'@mention"
    assert evil["contact_email"] == "'-x@globex.example"
    assert rows[3]["lost_reason"] == "'-chose competitor"
    assert rows[4]["title"] == "Tabbed"  # validation strips the tab before it is stored
    assert all(not r[c].startswith(("=", "+", "-", "@")) for r in rows for c in CSV_COLUMNS)
    assert [r["value"] for r in rows] == ["1200.5", "1000000", "0", "30000", "99.99"]
    assert [r["probability"] for r in rows] == ["40", "10", "100", "0", "75"]
    assert (evil["stage"], evil["close_date"], evil["outcome"]) == ("proposal", "2026-06-30", "")
    assert (rows[2]["stage"], rows[2]["outcome"]) == ("closed", "won")
    assert rows[0]["source_id"] == str(created[0].id)  # no source id: its own id
    assert rows[0]["created_at"] == "2026-01-05T09:00:00Z"
    assert rows[1]["updated_at"] == "2026-01-05T09:01:00Z"
    assert rows[3]["title"] == 'Umbrella "big" upsell, phase 2'


def test_source_id_column_keeps_imported_ids(store, workspace) -> None:
    plan = plan_import(io.StringIO("CRM ID,Title,Stage\nsf-001,Imported,lead\n"))
    apply_import(store, workspace.id, plan)
    [row] = rows_of(export_text(store, workspace))
    assert row["source_id"] == "sf-001"
    assert row["id"] != "sf-001"


def test_json_shape(store, workspace) -> None:
    created = seed(store, workspace)
    document = json.loads(export_text(store, workspace, fmt="json"))
    assert set(document) == {"deals", "total"}
    assert document["total"] == 5
    assert document["deals"] == [d.to_api() for d in created]
    assert document["deals"][0]["title"] == EVIL  # JSON is data, not a spreadsheet
    assert document["deals"][0]["value"] == 1200.5


def test_empty_workspace(store, workspace) -> None:
    assert export_text(store, workspace) == ",".join(CSV_COLUMNS) + "\n"
    assert json.loads(export_text(store, workspace, fmt="json")) == {"deals": [], "total": 0}


def test_filters(store, workspace) -> None:
    seed(store, workspace)
    titles = [r["title"] for r in rows_of(export_text(store, workspace, stage="lead"))]
    assert titles == ["Acme renewal"]
    assert len(rows_of(export_text(store, workspace, outcome="open"))) == 3
    assert [r["outcome"] for r in rows_of(export_text(store, workspace, outcome="won"))] == ["won"]
    document = json.loads(export_text(store, workspace, fmt="json", outcome="lost"))
    assert document["total"] == 1
    assert document["deals"][0]["lostReason"] == "-chose competitor"
    assert export_text(store, workspace, stage="closed", outcome="open").count("\n") == 1


@pytest.mark.parametrize("kwargs", [{"stage": "sleeping"}, {"outcome": "maybe"}, {"fmt": "xlsx"}])
def test_bad_options_write_nothing(store, workspace, kwargs) -> None:
    seed(store, workspace)
    out = io.StringIO()
    with pytest.raises(ValidationError):
        export_deals(store, workspace.id, out, **kwargs)
    assert out.getvalue() == ""


def test_missing_workspace_writes_nothing(store) -> None:
    out = io.StringIO()
    with pytest.raises(NotFoundError):
        export_deals(store, uuid.uuid4(), out)
    assert out.getvalue() == ""


def test_only_the_workspace_s_deals(store, workspace) -> None:
    other = store.workspaces.create("Other")
    seed(store, workspace)
    store.deals.create(other.id, {"title": "Elsewhere", "stage": "lead"})
    assert export_deals(store, other.id, io.StringIO()) == 1


def test_round_trip_into_a_new_workspace_gives_equal_deals(store, workspace, tmp_path) -> None:
    seed(store, workspace)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        assert export_deals(store, workspace.id, out) == 5
    plan = plan_import(path)
    assert plan.errors == []
    # created_at and closed_at are history the import keeps; the rest is the store's own.
    assert set(plan.ignored_columns) == {"id", "updated_at"}
    fresh = store.workspaces.create("Copy")
    result = apply_import(store, fresh.id, plan)
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    assert editable(store, fresh.id) == editable(store, workspace.id)
    assert editable(store, fresh.id)[0]["title"] == EVIL
    assert history(store, fresh.id) == history(store, workspace.id)
    # Importing the same export again into the copy changes nothing.
    again = apply_import(store, fresh.id, plan_import(path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_round_trip_into_the_same_workspace_gives_no_duplicates(store, workspace) -> None:
    """Exported deals without a source id are matched by their own id (csv_import adopts
    it as their source id before upserting); see the report on DealService.upsert_many."""
    created = seed(store, workspace)
    imported = plan_import(io.StringIO("Record ID,Deal Name,Stage\nhs-9,From HubSpot,lead\n"))
    apply_import(store, workspace.id, imported)
    before = {d.id: d for d in store.deals.list(workspace.id, limit=100).deals}
    text = export_text(store, workspace)

    dry = apply_import(store, workspace.id, plan_import(io.StringIO(text)), dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 0, 6)
    result = apply_import(store, workspace.id, plan_import(io.StringIO(text)))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 6)
    after = {d.id: d for d in store.deals.list(workspace.id, limit=100).deals}
    assert set(after) == set(before)
    assert all(after[k].version == before[k].version for k in after)
    assert all(after[k].updated_at == before[k].updated_at for k in after)

    # An edited export updates the same deal (same id), bumping its version.
    target = created[1]
    edited = text.replace(
        'Acme renewal,"Acme, Inc.",1000000,prospect', 'Acme renewal,"Acme, Inc.",1500000,proposal'
    )
    assert edited != text
    changed = apply_import(store, workspace.id, plan_import(io.StringIO(edited)))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 5)
    deal = store.deals.get(target.id)
    assert (deal.value, deal.stage, deal.version) == (1_500_000.0, "proposal", target.version + 1)
    assert store.deals.list(workspace.id).total == 6


def test_many_deals_are_streamed_in_batches(store, workspace) -> None:
    rows = [
        (f"id-{i}", clean_deal({"title": f"Deal {i:05}", "stage": "prospect", "value": i}))
        for i in range(2_345)
    ]
    store.deals.upsert_many(workspace.id, rows)
    out = io.StringIO()
    assert export_deals(store, workspace.id, out, fmt="json") == 2_345
    document = json.loads(out.getvalue())
    assert document["total"] == len(document["deals"]) == 2_345
    assert len({d["id"] for d in document["deals"]}) == 2_345
    assert export_deals(store, workspace.id, io.StringIO()) == 2_345


def test_dates_survive_the_round_trip(store, workspace) -> None:
    deal = store.deals.create(
        workspace.id, {"title": "Dated", "stage": "lead", "close_date": date(2027, 2, 28)}
    )
    [row] = rows_of(export_text(store, workspace))
    assert row["close_date"] == "2027-02-28"
    plan = plan_import(io.StringIO(export_text(store, workspace)))
    assert plan.rows[0] == (str(deal.id), {**deal.editable_fields(), "created_at": deal.created_at})
