"""Deal, workspace, activity and insight services, on SQLite and on Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlmodel import func, select

from vectoros_tui.engine.insights import InsightDraft
from vectoros_tui.store.deals import SORTABLE
from vectoros_tui.store.errors import AmbiguousError, ConflictError, NotFoundError
from vectoros_tui.store.store import Store, open_store
from vectoros_tui.store.tables import Activity, Deal, DealEvent, Insight
from vectoros_tui.store.validation import ValidationError, clean_deal
from vectoros_tui.store.views import DealView, WorkspaceView

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours)


def new_deal(
    store: Store, workspace: WorkspaceView, *, now: datetime | None = None, **fields: Any
) -> DealView:
    data: dict[str, Any] = {"title": "Acme renewal", "stage": "prospect", "value": 1000}
    data.update(fields)
    return store.deals.create(workspace.id, data, now=now or NOW)


def count(store: Store, table: type, *where: Any) -> int:
    with store.db.read() as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def draft(key: str, priority: str = "medium", **overrides: Any) -> InsightDraft:
    values: dict[str, Any] = {
        "key": key,
        "type": "risk",
        "priority": priority,
        "title": f"Insight {key}",
        "description": f"About {key}",
        "confidence": 0.5,
        "data": {"value": 100},
        "actions": ["Call them"],
        "deal_id": None,
    }
    values.update(overrides)
    return InsightDraft(**values)


# =========================================================================== deals: CRUD


def test_create_returns_the_stored_deal(store: Store, workspace: WorkspaceView) -> None:
    created = store.deals.create(
        workspace.id,
        {
            "title": "Globex expansion",
            "company": "Globex",
            "value": "$25,000",
            "stage": "lead",
            "probability": "30%",
            "contact_name": "Hank Scorpio",
            "contact_email": "hank@globex.example",
            "close_date": "2026-06-30",
        },
        now=NOW,
    )
    assert created.version == 1
    assert created.stage == "prospect"
    assert created.value == 25_000.0
    assert created.probability == 30
    assert created.close_date == date(2026, 6, 30)
    assert created.outcome is None and created.closed_at is None
    assert created.created_at == created.updated_at == created.stage_changed_at == NOW
    fetched = store.deals.get(created.id)
    assert fetched == created


def test_create_closed_deal_sets_closed_at(store: Store, workspace: WorkspaceView) -> None:
    created = new_deal(store, workspace, stage="won")
    assert (created.stage, created.outcome) == ("closed", "won")
    assert store.deals.get(created.id).closed_at == NOW


def test_create_rejects_invalid_input_and_writes_nothing(
    store: Store, workspace: WorkspaceView
) -> None:
    with pytest.raises(ValidationError) as info:
        store.deals.create(workspace.id, {"title": "", "stage": "nowhere", "value": -3})
    assert {e.field for e in info.value.errors} == {"title", "stage", "value"}
    assert count(store, Deal) == 0


def test_create_in_an_unknown_workspace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.deals.create(uuid.uuid4(), {"title": "x", "stage": "prospect"})


def test_get_unknown_deal_is_not_found(store: Store, workspace: WorkspaceView) -> None:
    with pytest.raises(NotFoundError):
        store.deals.get(uuid.uuid4())


def test_update_changes_fields_and_bumps_version(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    updated = store.deals.update(
        deal.id, {"title": "Acme renewal 2027", "value": "1 500"}, now=at(1)
    )
    assert updated.title == "Acme renewal 2027"
    assert updated.value == 1500.0
    assert updated.version == 2
    assert updated.updated_at == at(1)
    assert updated.created_at == NOW
    assert store.deals.get(deal.id) == updated


def test_update_by_id_prefix(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    updated = store.deals.update(str(deal.id)[:8], {"probability": 55})
    assert updated.probability == 55


def test_update_rejects_invalid_changes_and_writes_nothing(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    with pytest.raises(ValidationError) as info:
        store.deals.update(deal.id, {"value": -5, "contact_email": "nope"})
    assert {e.field for e in info.value.errors} == {"value", "contact_email"}
    with pytest.raises(ValidationError) as info:
        store.deals.update(deal.id, {"colour": "red"})
    assert info.value.errors[0].field == "colour"
    assert store.deals.get(deal.id) == deal


def test_update_unknown_deal_is_not_found(store: Store, workspace: WorkspaceView) -> None:
    with pytest.raises(NotFoundError):
        store.deals.update(uuid.uuid4(), {"title": "x"})


def test_delete_removes_the_deal(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    store.deals.delete(deal.id)
    with pytest.raises(NotFoundError):
        store.deals.get(deal.id)
    assert store.deals.list(workspace.id).total == 0


def test_deleting_a_deleted_deal_is_not_found(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    store.deals.delete(deal.id)
    with pytest.raises(NotFoundError) as info:
        store.deals.delete(deal.id)
    assert str(deal.id) in str(info.value)


def test_delete_with_stale_version_is_a_conflict(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    store.deals.update(deal.id, {"title": "Changed"})
    with pytest.raises(ConflictError) as info:
        store.deals.delete(deal.id, expected_version=1)
    assert info.value.current.version == 2
    assert store.deals.get(deal.id).title == "Changed"


def test_delete_cascades_to_activities_events_and_insights(
    store: Store, workspace: WorkspaceView
) -> None:
    doomed = new_deal(store, workspace, title="Doomed")
    kept = new_deal(store, workspace, title="Kept")
    for deal in (doomed, kept):
        store.deals.update(deal.id, {"stage": "qualified", "close_date": "2026-05-01"})
        store.activities.add(deal.id, {"type": "call", "description": "Hello"})
        store.activities.add(deal.id, {"type": "email", "description": "Follow up"})
    store.insights.replace_generated(
        workspace.id,
        [draft("stale:doomed", deal_id=str(doomed.id)), draft("stale:kept", deal_id=str(kept.id))],
        NOW,
    )
    assert count(store, Activity, Activity.deal_id == doomed.id) == 2
    assert count(store, DealEvent, DealEvent.deal_id == doomed.id) == 3

    store.deals.delete(doomed.id)

    assert count(store, Activity, Activity.deal_id == doomed.id) == 0
    assert count(store, DealEvent, DealEvent.deal_id == doomed.id) == 0
    assert count(store, Insight, Insight.deal_id == doomed.id) == 0
    assert count(store, Activity, Activity.deal_id == kept.id) == 2
    assert count(store, DealEvent, DealEvent.deal_id == kept.id) == 3
    assert [i.rule_key for i in store.insights.list(workspace.id)] == ["stale:kept"]


# =========================================================================== deals: listing


@pytest.fixture
def pipeline(store: Store, workspace: WorkspaceView) -> dict[str, DealView]:
    specs: dict[str, dict[str, Any]] = {
        "acme": {"title": "Acme renewal", "company": "Acme Corp", "stage": "proposal"},
        "globex": {
            "title": "Globex expansion",
            "company": "Globex",
            "stage": "negotiation",
            "contact_name": "Hank Scorpio",
        },
        "initech": {"title": "Initech seats", "company": "Initech", "stage": "lead"},
        "percent": {"title": "100% uplift", "company": "Umbrella", "stage": "qualified"},
        "thousand": {"title": "1000 uplift", "company": "Umbrella", "stage": "qualified"},
        "underscore": {"title": "a_b pilot", "stage": "prospect"},
        "axb": {"title": "axb pilot", "stage": "prospect"},
        "won": {"title": "Hooli deal", "company": "Hooli", "stage": "won"},
        "lost": {
            "title": "Soylent deal",
            "company": "Soylent",
            "stage": "lost",
            "lost_reason": "Budget",
            "contact_name": "Acme Reseller",
        },
    }
    return {
        name: new_deal(store, workspace, now=at(hours=i), **spec)
        for i, (name, spec) in enumerate(specs.items())
    }


def ids(page: Any) -> set[uuid.UUID]:
    return {d.id for d in page.deals}


def test_list_filters_by_stage(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    page = store.deals.list(workspace.id, stage="qualified")
    assert ids(page) == {pipeline["percent"].id, pipeline["thousand"].id}
    assert page.total == 2
    # Aliases work as filters too.
    assert ids(store.deals.list(workspace.id, stage="lead")) == {
        pipeline["initech"].id,
        pipeline["underscore"].id,
        pipeline["axb"].id,
    }
    assert ids(store.deals.list(workspace.id, stage="closed")) == {
        pipeline["won"].id,
        pipeline["lost"].id,
    }


def test_list_filters_by_outcome(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    assert ids(store.deals.list(workspace.id, outcome="won")) == {pipeline["won"].id}
    assert ids(store.deals.list(workspace.id, outcome="lost")) == {pipeline["lost"].id}
    open_page = store.deals.list(workspace.id, outcome="open")
    assert ids(open_page) == {d.id for n, d in pipeline.items() if n not in ("won", "lost")}
    assert open_page.total == 7
    assert store.deals.list(workspace.id).total == 9


def test_list_search_is_case_insensitive_across_title_company_and_contact(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    # "acme" is in one title+company and in another deal's contact name.
    assert ids(store.deals.list(workspace.id, search="ACME")) == {
        pipeline["acme"].id,
        pipeline["lost"].id,
    }
    assert ids(store.deals.list(workspace.id, search="scorpio")) == {pipeline["globex"].id}
    assert ids(store.deals.list(workspace.id, search="  hooli ")) == {pipeline["won"].id}
    assert ids(store.deals.list(workspace.id, search="INITECH SEATS")) == {pipeline["initech"].id}
    assert store.deals.list(workspace.id, search="nothing like this").total == 0
    assert store.deals.list(workspace.id, search="   ").total == 9


def test_list_search_treats_percent_and_underscore_literally(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    assert ids(store.deals.list(workspace.id, search="0%")) == {pipeline["percent"].id}
    assert ids(store.deals.list(workspace.id, search="a_b")) == {pipeline["underscore"].id}
    assert ids(store.deals.list(workspace.id, search="%")) == {pipeline["percent"].id}
    assert ids(store.deals.list(workspace.id, search="_")) == {pipeline["underscore"].id}


def test_list_search_combines_with_filters(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    page = store.deals.list(workspace.id, search="uplift", stage="qualified", outcome="open")
    assert ids(page) == {pipeline["percent"].id, pipeline["thousand"].id}
    assert store.deals.list(workspace.id, search="acme", outcome="lost").total == 1


def test_list_only_sees_its_workspace(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    other = store.workspaces.create("Other")
    new_deal(store, other, title="Acme elsewhere")
    assert store.deals.list(workspace.id, search="acme").total == 2
    assert store.deals.list(other.id).total == 1


def test_list_total_counts_all_matches_not_the_page(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    page = store.deals.list(workspace.id, limit=2)
    assert len(page.deals) == 2
    assert page.total == 9
    beyond = store.deals.list(workspace.id, limit=5, offset=50)
    assert beyond.deals == []
    assert beyond.total == 9
    assert page.to_api()["total"] == 9


def test_list_default_is_most_recently_updated_first(
    store: Store, workspace: WorkspaceView, pipeline: dict[str, DealView]
) -> None:
    page = store.deals.list(workspace.id)
    assert [d.id for d in page.deals][:2] == [pipeline["lost"].id, pipeline["won"].id]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"sort": "nope"}, "sort"),
        ({"sort": "id; DROP TABLE deals"}, "sort"),
        ({"outcome": "maybe"}, "outcome"),
        ({"stage": "pitching"}, "stage"),
    ],
)
def test_list_rejects_bad_arguments(
    store: Store, workspace: WorkspaceView, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        store.deals.list(workspace.id, **kwargs)
    assert [e.field for e in info.value.errors] == [field]
    assert info.value.for_field(field)


def test_list_reports_every_bad_argument_at_once(store: Store, workspace: WorkspaceView) -> None:
    with pytest.raises(ValidationError) as info:
        store.deals.list(workspace.id, sort="nope", limit=0, offset=-1)
    assert {e.field for e in info.value.errors} == {"sort", "limit", "offset"}
    assert "title" in (info.value.for_field("sort") or "")


def test_list_accepts_the_page_size_limits(store: Store, workspace: WorkspaceView) -> None:
    assert store.deals.list(workspace.id, limit=1).limit == 1
    assert store.deals.list(workspace.id, limit=10_000).limit == 10_000


SORT_ROWS: list[dict[str, Any]] = [
    # Ties and empty values on purpose: paging must still be stable.
    {"title": "delta", "company": "kilo", "value": 500, "probability": 10, "day": 0},
    {"title": "alpha", "company": None, "value": 500, "probability": 10, "day": 0},
    {"title": "charlie", "company": "lima", "value": 9000, "probability": 90, "day": 1},
    {"title": "bravo", "company": "kilo", "value": 75, "probability": 50, "day": 1},
    {"title": "echo", "company": "mike", "value": 12000, "probability": 50, "day": 2},
    {"title": "alpha", "company": "lima", "value": 0, "probability": 0, "day": 2},
    {"title": "foxtrot", "company": None, "value": 500, "probability": 30, "day": 3},
    {"title": "golf", "company": "mike", "value": 100000, "probability": 100, "day": 3},
    {"title": "hotel", "company": "kilo", "value": 75, "probability": 70, "day": 4},
    {"title": "india", "company": "oscar", "value": 1, "probability": 20, "day": 4},
    {"title": "juliet", "company": None, "value": 333, "probability": 40, "day": 5},
    {"title": "bravo", "company": "lima", "value": 500, "probability": 60, "day": 5},
    {"title": "kilo", "company": "papa", "value": 42, "probability": 5, "day": 6},
]
SORT_STAGES = ["prospect", "qualified", "proposal", "negotiation", "won", "lost"]
SORT_CONTACTS = ["Zed", None, "Amy", "Bob", None, "Amy"]
SORT_CLOSE = ["2026-04-01", None, "2026-05-01", "2026-04-01", None, "2026-03-15", "2026-07-01"]


@pytest.fixture
def sortable(store: Store, workspace: WorkspaceView) -> list[DealView]:
    deals = []
    for i, row in enumerate(SORT_ROWS):
        fields = {k: v for k, v in row.items() if k != "day"}
        deals.append(
            new_deal(
                store,
                workspace,
                now=at(days=row["day"]),
                stage=SORT_STAGES[i % len(SORT_STAGES)],
                contact_name=SORT_CONTACTS[i % len(SORT_CONTACTS)],
                close_date=SORT_CLOSE[i % len(SORT_CLOSE)],
                **fields,
            )
        )
    return deals


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", sorted(SORTABLE))
def test_sorting_pages_are_stable_and_complete(
    store: Store,
    workspace: WorkspaceView,
    sortable: list[DealView],
    sort: str,
    descending: bool,
) -> None:
    pages = []
    for offset in range(0, 16, 4):
        page = store.deals.list(
            workspace.id, sort=sort, descending=descending, limit=4, offset=offset
        )
        assert page.total == len(SORT_ROWS)
        pages.extend(page.deals)
    seen = [d.id for d in pages]
    assert len(seen) == len(set(seen)), "a deal appeared on two pages"
    assert set(seen) == {d.id for d in sortable}, "a deal appeared on no page"
    whole = store.deals.list(workspace.id, sort=sort, descending=descending, limit=100)
    assert [d.id for d in whole.deals] == seen
    # Asking again gives the same order (ties are broken deterministically).
    again = store.deals.list(workspace.id, sort=sort, descending=descending, limit=100)
    assert [d.id for d in again.deals] == seen

    keys = [getattr(d, sort) for d in pages]
    present = [k for k in keys if k is not None]
    if sort == "stage":
        # Equal stages are together, whatever order the stages themselves come in.
        groups = [k for i, k in enumerate(present) if i == 0 or present[i - 1] != k]
        assert len(groups) == len(set(groups))
    else:
        assert present == sorted(present, reverse=descending)
    # Empty values are all together at one end, not scattered among the others.
    flags = [k is None for k in keys]
    assert flags in (sorted(flags), sorted(flags, reverse=True))


def test_sort_by_value_is_numeric(
    store: Store, workspace: WorkspaceView, sortable: list[DealView]
) -> None:
    page = store.deals.list(workspace.id, sort="value", descending=True, limit=3)
    assert [d.value for d in page.deals] == [100000, 12000, 9000]


def test_stage_sort_reverses_between_directions(
    store: Store, workspace: WorkspaceView, sortable: list[DealView]
) -> None:
    def order(descending: bool) -> list[str]:
        stages = [
            d.stage
            for d in store.deals.list(
                workspace.id, sort="stage", descending=descending, limit=100
            ).deals
        ]
        return [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]

    assert order(True) == list(reversed(order(False)))


# =========================================================================== optimistic concurrency


def test_stale_expected_version_is_a_conflict_carrying_the_stored_deal(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    stored = store.deals.update(deal.id, {"title": "Renamed by Bob"}, expected_version=1)
    assert stored.version == 2
    events_before = store.deals.history(deal.id)

    with pytest.raises(ConflictError) as info:
        store.deals.update(
            deal.id, {"title": "Renamed by Ann", "stage": "proposal"}, expected_version=1
        )
    error = info.value
    assert isinstance(error.current, DealView)
    assert error.current.version == 2
    assert error.current.title == "Renamed by Bob"
    assert "Renamed by Bob" in str(error)
    after = store.deals.get(deal.id)
    assert after == stored
    assert store.deals.history(deal.id) == events_before


def test_matching_expected_version_applies(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    one = store.deals.update(deal.id, {"value": 2000}, expected_version=1)
    two = store.deals.update(deal.id, {"value": 3000}, expected_version=one.version)
    assert (one.version, two.version) == (2, 3)
    assert store.deals.get(deal.id).value == 3000


@pytest.fixture
def second_client(database_url: str) -> Iterator[Store]:
    other = open_store(database_url, upgrade=False)
    yield other
    other.close()


def test_two_clients_editing_the_same_version_cannot_lose_an_update(
    store: Store, second_client: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    ann_read = store.deals.get(deal.id)
    bob_read = second_client.deals.get(deal.id)
    assert ann_read.version == bob_read.version == 1

    store.deals.update(deal.id, {"value": 5000}, expected_version=ann_read.version)
    with pytest.raises(ConflictError) as info:
        second_client.deals.update(deal.id, {"probability": 80}, expected_version=bob_read.version)
    assert info.value.current.value == 5000
    assert info.value.current.version == 2

    final = second_client.deals.get(deal.id)
    assert (final.value, final.probability, final.version) == (5000, deal.probability, 2)


def test_version_only_increments_on_a_real_change(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, close_date="2026-06-30", company="Acme")
    same = store.deals.update(
        deal.id,
        {
            "title": " Acme renewal ",
            "value": "$1,000",
            "stage": "Prospect",
            "close_date": "06/30/2026",
            "company": "Acme",
        },
        expected_version=1,
        now=at(5),
    )
    assert same.version == 1
    assert same.updated_at == NOW
    assert store.deals.get(deal.id) == deal
    assert len(store.deals.history(deal.id)) == 1

    changed = store.deals.update(deal.id, {"probability": 33}, now=at(6))
    assert changed.version == 2
    assert changed.updated_at == at(6)
    assert store.deals.update(deal.id, {"probability": "33%"}).version == 2


def test_interleaved_writers_cannot_lose_an_update_on_postgres(
    store: Store,
    second_client: Store,
    workspace: WorkspaceView,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both clients pass the expected-version check (both read version 1), then the first
    commits while the second is between its read and its write. On SQLite BEGIN IMMEDIATE
    makes this interleaving impossible; on Postgres the version column must catch it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this interleaving cannot occur")
    deal = new_deal(store, workspace)
    original_apply = second_client.deals._apply

    def apply_after_someone_else_commits(session: Any, row: Any, *args: Any) -> None:
        store.deals.update(deal.id, {"value": 5000}, expected_version=1)
        original_apply(session, row, *args)

    monkeypatch.setattr(second_client.deals, "_apply", apply_after_someone_else_commits)
    with pytest.raises(ConflictError) as info:
        second_client.deals.update(deal.id, {"probability": 80}, expected_version=1)
    assert info.value.current.version == 2
    assert info.value.current.value == 5000
    final = store.deals.get(deal.id)
    assert (final.value, final.probability, final.version) == (5000, deal.probability, 2)


def test_no_op_update_with_stale_version_is_still_a_conflict(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    store.deals.update(deal.id, {"title": "B"})
    with pytest.raises(ConflictError):
        store.deals.update(deal.id, {"title": "B"}, expected_version=1)


# =========================================================================== history


def test_stage_change_writes_an_event_and_moves_stage_changed_at(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    store.deals.update(deal.id, {"stage": "proposal"}, now=at(2))
    store.deals.update(deal.id, {"title": "Other title"}, now=at(3))

    stored = store.deals.get(deal.id)
    assert stored.stage_changed_at == at(2)
    assert stored.updated_at == at(3)
    history = store.deals.history(deal.id)
    assert [(h["field"], h["from"], h["to"]) for h in history] == [
        ("stage", None, "prospect"),
        ("stage", "prospect", "proposal"),
    ]
    assert history[1]["changedAt"] == "2026-03-03T12:00:00Z"
    assert store.deals.records(workspace.id)[0].stage_changed_at == at(2)


def test_close_date_changes_are_recorded_for_the_engine(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, close_date="2026-03-31")
    store.deals.update(deal.id, {"close_date": "2026-04-30"}, now=at(1))
    store.deals.update(deal.id, {"close_date": "May 31 2026"}, now=at(2))
    store.deals.update(deal.id, {"value": 99}, now=at(3))

    history = [h for h in store.deals.history(deal.id) if h["field"] == "close_date"]
    assert [(h["from"], h["to"]) for h in history] == [
        ("2026-03-31", "2026-04-30"),
        ("2026-04-30", "2026-05-31"),
    ]
    (record,) = store.deals.records(workspace.id)
    assert record.close_date_history == (date(2026, 3, 31), date(2026, 4, 30))
    assert record.close_date == date(2026, 5, 31)


def test_setting_a_first_close_date_is_not_a_slip(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    store.deals.update(deal.id, {"close_date": "2026-04-30"}, now=at(1))
    (record,) = store.deals.records(workspace.id)
    assert record.close_date_history == ()
    assert record.close_date == date(2026, 4, 30)


def test_records_last_activity_is_the_latest_activity(
    store: Store, workspace: WorkspaceView
) -> None:
    busy = new_deal(store, workspace, title="Busy")
    quiet = new_deal(store, workspace, title="Quiet")
    store.activities.add(busy.id, {"type": "call", "description": "a", "date": "2026-03-05T09:30Z"})
    store.activities.add(busy.id, {"type": "note", "description": "b", "date": "2026-03-01T10:00Z"})
    store.activities.add(
        busy.id, {"type": "email", "description": "c", "date": "2026-03-04T23:00:00-02:00"}
    )
    by_title = {d.title: d for d in store.deals.records(workspace.id)}
    assert by_title["Busy"].last_activity_at == datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    assert by_title["Quiet"].last_activity_at is None
    assert by_title["Quiet"].id == str(quiet.id)


def test_records_only_covers_the_workspace(store: Store, workspace: WorkspaceView) -> None:
    other = store.workspaces.create("Other")
    mine = new_deal(store, workspace, close_date="2026-04-01")
    theirs = new_deal(store, other, close_date="2026-04-01")
    store.deals.update(theirs.id, {"close_date": "2026-05-01"})
    store.activities.add(theirs.id, {"type": "call", "description": "x"})
    (record,) = store.deals.records(workspace.id)
    assert record.id == str(mine.id)
    assert record.close_date_history == ()
    assert record.last_activity_at is None


# =========================================================================== won / lost / reopen


def test_mark_won(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="negotiation", probability=70)
    before = datetime.now(UTC)
    won = store.deals.mark_won(deal.id, expected_version=1)
    assert (won.stage, won.outcome, won.probability, won.lost_reason) == (
        "closed",
        "won",
        100,
        None,
    )
    stored = store.deals.get(deal.id)
    assert stored.closed_at is not None
    assert before - timedelta(seconds=1) <= stored.closed_at <= datetime.now(UTC)
    assert stored.version == 2
    assert not stored.is_open


def test_mark_lost_keeps_the_reason(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="proposal", probability=40)
    lost = store.deals.mark_lost(deal.id, "  Chose a competitor  ")
    stored = store.deals.get(deal.id)
    assert stored == lost
    assert (stored.stage, stored.outcome, stored.probability) == ("closed", "lost", 0)
    assert stored.lost_reason == "Chose a competitor"
    assert stored.closed_at is not None


def test_mark_lost_with_stale_version_is_a_conflict(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    store.deals.update(deal.id, {"value": 1})
    with pytest.raises(ConflictError):
        store.deals.mark_lost(deal.id, "x", expected_version=1)
    assert store.deals.get(deal.id).is_open


def test_won_deal_can_be_marked_lost(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="won")
    lost = store.deals.mark_lost(deal.id, "Contract cancelled")
    assert (lost.outcome, lost.lost_reason) == ("lost", "Contract cancelled")


@pytest.mark.parametrize(
    ("target", "stage"),
    [
        ("negotiation", "negotiation"),
        ("Qualified", "qualified"),
        ("lead", "prospect"),
        ("discovery", "qualified"),
        ("negotiating", "negotiation"),
    ],
)
def test_moving_a_closed_deal_to_an_open_stage_reopens_it(
    store: Store, workspace: WorkspaceView, target: str, stage: str
) -> None:
    deal = new_deal(store, workspace, stage="proposal")
    store.deals.mark_lost(deal.id, "Budget")
    reopened = store.deals.update(deal.id, {"stage": target}, now=at(4))
    assert reopened.stage == stage
    assert reopened.outcome is None
    assert reopened.lost_reason is None
    assert reopened.closed_at is None
    assert reopened.is_open
    assert reopened.stage_changed_at == at(4)
    assert store.deals.get(deal.id) == reopened


def test_reopening_a_won_deal(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="won")
    reopened = store.deals.update(deal.id, {"stage": "proposal"})
    assert (reopened.stage, reopened.outcome, reopened.closed_at) == ("proposal", None, None)


def test_stage_alias_won_turns_a_lost_deal_into_a_won_one(
    store: Store, workspace: WorkspaceView
) -> None:
    """The rep only gave a stage; the alias says the outcome. The stored outcome (and the
    lost reason that went with it) must not turn that into a contradiction error."""
    deal = new_deal(store, workspace, stage="proposal")
    store.deals.mark_lost(deal.id, "Budget")
    won = store.deals.update(deal.id, {"stage": "won"})
    assert (won.stage, won.outcome, won.lost_reason) == ("closed", "won", None)


def test_stage_alias_lost_turns_a_won_deal_into_a_lost_one(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, stage="won")
    lost = store.deals.update(deal.id, {"stage": "closed_lost"})
    assert (lost.stage, lost.outcome) == ("closed", "lost")


# =========================================================================== move_stage


def test_move_stage_forward_and_back(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    assert store.deals.move_stage(deal.id, +1).stage == "qualified"
    assert store.deals.move_stage(deal.id, +1).stage == "proposal"
    assert store.deals.move_stage(deal.id, -1).stage == "qualified"
    assert store.deals.get(deal.id).version == 4
    stages = [(h["from"], h["to"]) for h in store.deals.history(deal.id)]
    assert stages[1:] == [
        ("prospect", "qualified"),
        ("qualified", "proposal"),
        ("proposal", "qualified"),
    ]


def test_move_stage_back_from_the_first_stage_is_refused(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    with pytest.raises(ValidationError) as info:
        store.deals.move_stage(deal.id, -1)
    assert info.value.for_field("stage") == "prospect is the first stage"
    assert store.deals.get(deal.id).version == 1


def test_move_stage_past_the_last_open_stage_is_refused(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace, stage="negotiation")
    with pytest.raises(ValidationError) as info:
        store.deals.move_stage(deal.id, +1)
    message = info.value.for_field("stage") or ""
    assert "negotiation is the last open stage" in message
    assert "won or lost" in message
    assert store.deals.get(deal.id).stage == "negotiation"


def test_move_stage_of_a_closed_deal_is_refused(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, stage="won")
    with pytest.raises(ValidationError) as info:
        store.deals.move_stage(deal.id, -1)
    assert "closed" in (info.value.for_field("stage") or "")


def test_move_stage_with_stale_version_is_a_conflict(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    store.deals.update(deal.id, {"value": 7})
    with pytest.raises(ConflictError):
        store.deals.move_stage(deal.id, +1, expected_version=1)
    assert store.deals.get(deal.id).stage == "prospect"


# =========================================================================== upsert_many


def test_a_bulk_load_refreshes_the_planner_statistics(
    store: Store, workspace: WorkspaceView
) -> None:
    """Postgres: right after a 1,000-deal import the planner knows the table's size (it
    would otherwise wait for autovacuum and plan every page as if the table were empty)."""
    from vectoros_tui.store.database import BULK_LOAD_ROWS

    def planner_rows() -> float:
        with store.db.read() as session:
            return float(
                session.connection()
                .exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'deals'::regclass")
                .scalar_one()
            )

    rows = [
        (f"bulk-{n}", clean_deal({"title": f"Deal {n}", "stage": "prospect", "value": n}))
        for n in range(BULK_LOAD_ROWS)
    ]
    small = [(f"small-{n}", clean) for n, (_, clean) in enumerate(rows[:10])]
    if store.db.is_sqlite:
        assert store.deals.upsert_many(workspace.id, rows)["created"] == BULK_LOAD_ROWS
        return  # nothing to refresh; the load must simply work
    with store.db.engine.begin() as connection:  # a known start: statistics of no rows
        connection.exec_driver_sql("ANALYZE deals")
    assert planner_rows() <= 0
    store.deals.upsert_many(workspace.id, small)
    assert planner_rows() <= 0  # a small load leaves it to autovacuum
    store.deals.upsert_many(workspace.id, rows)
    assert planner_rows() == BULK_LOAD_ROWS + len(small)


def test_upsert_many_creates_then_updates_by_source_id(
    store: Store, workspace: WorkspaceView
) -> None:
    first = [
        ("crm-1", clean_deal({"title": "One", "stage": "prospect", "value": 100})),
        ("crm-2", clean_deal({"title": "Two", "stage": "proposal", "value": 200})),
    ]
    assert store.deals.upsert_many(workspace.id, first, now=NOW) == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    second = [
        ("crm-1", clean_deal({"title": "One", "stage": "qualified", "value": 150})),
        ("crm-2", clean_deal({"title": "Two", "stage": "proposal", "value": 200})),
        ("crm-3", clean_deal({"title": "Three", "stage": "won", "value": 300})),
    ]
    assert store.deals.upsert_many(workspace.id, second, now=at(1)) == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
    }
    page = store.deals.list(workspace.id, sort="title", descending=False)
    assert page.total == 3
    by_source = {d.source_id: d for d in page.deals}
    assert set(by_source) == {"crm-1", "crm-2", "crm-3"}
    one = by_source["crm-1"]
    assert (one.stage, one.value, one.version) == ("qualified", 150, 2)
    assert one.stage_changed_at == at(1)
    assert one.created_at == NOW
    stage_moves = [
        (h["from"], h["to"]) for h in store.deals.history(one.id) if h["field"] == "stage"
    ]
    assert stage_moves == [(None, "prospect"), ("prospect", "qualified")]
    assert by_source["crm-2"].version == 1
    assert by_source["crm-3"].outcome == "won"

    # The same file again changes nothing.
    assert store.deals.upsert_many(workspace.id, second, now=at(2)) == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
    }
    assert store.deals.list(workspace.id).total == 3


def test_upsert_many_source_ids_are_per_workspace(store: Store, workspace: WorkspaceView) -> None:
    other = store.workspaces.create("Other")
    row = [("crm-1", clean_deal({"title": "One", "stage": "prospect"}))]
    store.deals.upsert_many(workspace.id, row)
    assert store.deals.upsert_many(other.id, row)["created"] == 1
    assert store.deals.list(workspace.id).total == 1
    assert store.deals.list(other.id).total == 1


def test_upsert_many_takes_a_repeated_source_id_as_an_update(
    store: Store, workspace: WorkspaceView
) -> None:
    rows = [
        ("crm-1", clean_deal({"title": "First", "stage": "prospect", "value": 100})),
        ("crm-2", clean_deal({"title": "Other", "stage": "prospect"})),
        ("crm-1", clean_deal({"title": "First", "stage": "proposal", "value": 250})),
        ("crm-2", clean_deal({"title": "Other", "stage": "prospect"})),  # the same again
    ]
    assert store.deals.upsert_many(workspace.id, rows) == {
        "created": 2,
        "updated": 1,
        "unchanged": 1,
    }
    deals = {d.source_id: d for d in store.deals.list(workspace.id).deals}
    assert set(deals) == {"crm-1", "crm-2"}
    assert (deals["crm-1"].stage, deals["crm-1"].value, deals["crm-1"].version) == (
        "proposal",
        250,
        2,
    )
    with store.db.read() as session:
        events = session.exec(select(DealEvent).where(DealEvent.deal_id == deals["crm-1"].id)).all()
    assert sorted(e.new_value for e in events if e.field == "stage") == ["proposal", "prospect"]


def test_bulk_created_deals_are_noted_for_the_next_push(
    store: Store, workspace: WorkspaceView
) -> None:
    from vectoros_tui.store.tables import SyncOutbox
    from vectoros_tui.sync.engine import SyncEngine

    SyncEngine(store.db).link(workspace.id, "http://127.0.0.1:9", "remote-ws", "documented")
    rows = [(f"crm-{n}", clean_deal({"title": f"D{n}", "stage": "lead"})) for n in range(30)]
    store.deals.upsert_many(workspace.id, rows)
    with store.db.read() as session:
        noted = session.exec(select(SyncOutbox).where(SyncOutbox.workspace_id == workspace.id))
        ops = [row.op for row in noted]
    assert ops == ["upsert"] * 30


def test_upsert_many_into_unknown_workspace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.deals.upsert_many(uuid.uuid4(), [("x", clean_deal({"title": "x", "stage": "lead"}))])


# =========================================================================== resolve_id


def test_resolve_id_by_full_id_and_prefix(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    full = str(deal.id)
    assert store.deals.resolve_id(full) == deal.id
    assert store.deals.resolve_id(full.upper()) == deal.id
    assert store.deals.resolve_id(f"  {full[:8]} ") == deal.id
    assert store.deals.resolve_id(full[:8].upper()) == deal.id
    assert store.deals.resolve_id(full[:8], workspace.id) == deal.id
    assert store.deals.get(full[:8]) == deal


def test_resolve_id_unknown_prefix_is_not_found(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    other_first = "0" if str(deal.id)[0] != "0" else "1"
    unknown = other_first + str(deal.id)[1:8]
    with pytest.raises(NotFoundError) as info:
        store.deals.resolve_id(unknown)
    assert unknown in str(info.value)
    with pytest.raises(NotFoundError):
        store.deals.resolve_id(str(deal.id)[:8], uuid.uuid4())


@pytest.mark.parametrize("ref", ["abc", "", "not-a-deal-id", "1234567"])
def test_resolve_id_refuses_what_is_not_an_id(
    store: Store, workspace: WorkspaceView, ref: str
) -> None:
    with pytest.raises(NotFoundError) as info:
        store.deals.resolve_id(ref)
    assert "first 8 characters" in str(info.value)


def _insert_with_id(store: Store, workspace: WorkspaceView, deal_id: str) -> uuid.UUID:
    key = uuid.UUID(deal_id)
    with store.db.write() as session:
        session.add(
            Deal(
                id=key,
                workspace_id=workspace.id,
                title=f"Deal {deal_id[:13]}",
                stage="prospect",
            )
        )
    return key


def test_resolve_id_shared_prefix_is_ambiguous(store: Store, workspace: WorkspaceView) -> None:
    _insert_with_id(store, workspace, "abcdef12-3456-4000-8000-000000000001")
    _insert_with_id(store, workspace, "abcdef12-9999-4000-8000-000000000002")
    with pytest.raises(AmbiguousError) as info:
        store.deals.resolve_id("abcdef12")
    assert "abcdef12" in str(info.value)
    full = "abcdef12-3456-4000-8000-000000000001"
    assert store.deals.resolve_id(full) == uuid.UUID(full)


# =========================================================================== time zones


def test_timestamps_round_trip_as_aware_utc(store: Store, workspace: WorkspaceView) -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=paris)
    deal = new_deal(store, workspace, now=moment, stage="won")
    activity = store.activities.add(
        deal.id, {"type": "call", "description": "x", "date": "2026-03-01T09:00:00-05:00"}
    )
    stored = store.deals.get(deal.id)
    for value in (stored.created_at, stored.updated_at, stored.stage_changed_at, stored.closed_at):
        assert value is not None
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)
        assert value == moment
    (listed,) = store.activities.list(deal.id)
    assert listed.id == activity.id
    assert listed.date == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert listed.date.utcoffset() == timedelta(0)
    assert listed.created_at.tzinfo is not None
    (record,) = store.deals.records(workspace.id)
    assert record.created_at == datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert record.last_activity_at == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert record.last_activity_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_taken_as_utc(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace, now=datetime(2026, 3, 1, 8, 0))
    assert store.deals.get(deal.id).created_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


# =========================================================================== workspaces


def test_workspace_create_and_list(store: Store) -> None:
    beta = store.workspaces.create("  Beta ")
    alpha = store.workspaces.create("Alpha")
    new_deal(store, beta)
    new_deal(store, beta)
    listed = store.workspaces.list()
    assert [(w.name, w.deal_count) for w in listed] == [("Alpha", 0), ("Beta", 2)]
    assert {w.id for w in listed} == {alpha.id, beta.id}
    assert beta.created_at.tzinfo is not None


def test_deleting_a_workspace_removes_everything_in_it(
    store: Store, workspace: WorkspaceView
) -> None:
    deal = new_deal(store, workspace)
    store.activities.add(deal.id, {"type": "call", "description": "x"})
    store.insights.replace_generated(workspace.id, [draft("k", deal_id=str(deal.id))], NOW)
    store.workspaces.add_member(workspace.id, "ann@example.com")
    store.workspaces.delete(workspace.id)
    assert store.workspaces.list() == []
    for table in (Deal, Activity, DealEvent, Insight):
        assert count(store, table) == 0
    with pytest.raises(NotFoundError):
        store.workspaces.delete(workspace.id)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_workspace_bad_name_is_refused(store: Store, name: str) -> None:
    with pytest.raises(ValidationError) as info:
        store.workspaces.create(name)
    assert info.value.errors[0].field == "name"


def test_resolve_workspace_by_name_case_insensitively(store: Store) -> None:
    acme = store.workspaces.create("Acme Sales")
    store.workspaces.create("Globex")
    assert store.workspaces.resolve("acme sales").id == acme.id
    assert store.workspaces.resolve("  ACME SALES ").id == acme.id


def test_resolve_workspace_by_id(store: Store) -> None:
    acme = store.workspaces.create("Acme")
    store.workspaces.create("Globex")
    assert store.workspaces.resolve(str(acme.id)).id == acme.id


def test_resolve_workspace_none_with_exactly_one(store: Store) -> None:
    only = store.workspaces.create("Only")
    assert store.workspaces.resolve(None).id == only.id
    assert store.workspaces.resolve("  ").id == only.id


def test_resolve_workspace_none_with_several_lists_the_names(store: Store) -> None:
    store.workspaces.create("Acme")
    store.workspaces.create("Globex")
    with pytest.raises(AmbiguousError) as info:
        store.workspaces.resolve(None)
    assert "Acme" in str(info.value) and "Globex" in str(info.value)
    assert "--workspace" in str(info.value)


def test_resolve_workspace_none_with_none_says_how_to_make_one(store: Store) -> None:
    with pytest.raises(NotFoundError) as info:
        store.workspaces.resolve(None)
    assert "vectoros workspace create" in str(info.value)


def test_resolve_missing_workspace_lists_the_names(store: Store) -> None:
    store.workspaces.create("Acme")
    store.workspaces.create("Globex")
    with pytest.raises(NotFoundError) as info:
        store.workspaces.resolve("Initech")
    message = str(info.value)
    assert "'Initech'" in message and "Acme" in message and "Globex" in message
    with pytest.raises(NotFoundError):
        store.workspaces.resolve(str(uuid.uuid4()))


def test_resolve_duplicate_names_is_ambiguous_listing_ids(store: Store) -> None:
    one = store.workspaces.create("Sales")
    with pytest.raises(ValidationError, match="a workspace named 'Sales' exists already"):
        store.workspaces.create("sales")
    assert [w.name for w in store.workspaces.list()] == ["Sales"]
    # Two of one name still happen (a team server's, or made by an earlier version).
    two = store.workspaces.create("sales", unique=False)
    with pytest.raises(AmbiguousError) as info:
        store.workspaces.resolve("SALES")
    assert str(one.id) in str(info.value) and str(two.id) in str(info.value)
    assert store.workspaces.resolve(str(two.id)).id == two.id


def test_workspace_members(store: Store, workspace: WorkspaceView) -> None:
    added = store.workspaces.add_member(workspace.id, "  Ann@Example.COM ", "owner")
    assert added["email"] == "ann@example.com"
    assert added["role"] == "owner"
    store.workspaces.add_member(workspace.id, "bob@example.com", "Admin")
    store.workspaces.add_member(workspace.id, "cat@example.com")
    assert store.workspaces.members(workspace.id) == [
        {"email": "ann@example.com", "name": None, "role": "owner"},
        {"email": "bob@example.com", "name": None, "role": "admin"},
        {"email": "cat@example.com", "name": None, "role": "member"},
    ]
    # Adding again changes the role, never duplicates.
    store.workspaces.add_member(workspace.id, "CAT@example.com", "admin")
    members = store.workspaces.members(workspace.id)
    assert len(members) == 3
    assert members[2] == {"email": "cat@example.com", "name": None, "role": "admin"}

    store.workspaces.remove_member(workspace.id, "Bob@Example.com")
    assert [m["email"] for m in store.workspaces.members(workspace.id)] == [
        "ann@example.com",
        "cat@example.com",
    ]
    with pytest.raises(NotFoundError) as info:
        store.workspaces.remove_member(workspace.id, "bob@example.com")
    assert "bob@example.com" in str(info.value)


def test_one_user_in_two_workspaces(store: Store, workspace: WorkspaceView) -> None:
    other = store.workspaces.create("Other")
    store.workspaces.add_member(workspace.id, "ann@example.com", "owner")
    store.workspaces.add_member(other.id, "ann@example.com", "member")
    assert store.workspaces.members(workspace.id)[0]["role"] == "owner"
    assert store.workspaces.members(other.id)[0]["role"] == "member"


def test_workspace_created_with_owner(store: Store) -> None:
    ws = store.workspaces.create("Owned", owner_email="Boss@Example.com")
    assert store.workspaces.members(ws.id) == [
        {"email": "boss@example.com", "name": None, "role": "owner"}
    ]


@pytest.mark.parametrize("role", ["boss", "", "viewer"])
def test_invalid_role_is_refused(store: Store, workspace: WorkspaceView, role: str) -> None:
    with pytest.raises(ValidationError) as info:
        store.workspaces.add_member(workspace.id, "ann@example.com", role)
    message = info.value.for_field("role") or ""
    assert "owner" in message and "admin" in message and "member" in message
    assert store.workspaces.members(workspace.id) == []


@pytest.mark.parametrize("email", ["ann", "ann@", "ann@example", "a b@example.com", ""])
def test_invalid_member_email_is_refused(
    store: Store, workspace: WorkspaceView, email: str
) -> None:
    with pytest.raises(ValidationError) as info:
        store.workspaces.add_member(workspace.id, email)
    assert info.value.errors[0].field == "email"
    assert store.workspaces.members(workspace.id) == []


def test_member_of_unknown_workspace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.workspaces.add_member(uuid.uuid4(), "ann@example.com")


# =========================================================================== activities


def test_activities_add_list_update_delete(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    old = store.activities.add(
        deal.id, {"type": "call", "description": "Intro", "date": "2026-02-01"}
    )
    new = store.activities.add(
        deal.id, {"type": "Meeting", "description": "Demo", "date": "2026-02-10T15:00Z"}
    )
    middle = store.activities.add(
        deal.id, {"type": "email", "description": "Recap", "date": "2026-02-05T08:00Z"}
    )
    assert new.type == "meeting"
    assert [a.id for a in store.activities.list(deal.id)] == [new.id, middle.id, old.id]

    updated = store.activities.update(old.id, {"description": "Intro call", "date": "2026-02-20"})
    assert updated.description == "Intro call"
    assert updated.type == "call"
    assert updated.date == datetime(2026, 2, 20, tzinfo=UTC)
    assert [a.id for a in store.activities.list(deal.id)] == [old.id, new.id, middle.id]

    store.activities.delete(middle.id)
    assert [a.id for a in store.activities.list(deal.id)] == [old.id, new.id]
    with pytest.raises(NotFoundError):
        store.activities.delete(middle.id)
    with pytest.raises(NotFoundError):
        store.activities.update(middle.id, {"description": "x"})


def test_activity_validation_errors(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    with pytest.raises(ValidationError) as info:
        store.activities.add(deal.id, {"type": "fax", "description": ""})
    assert {e.field for e in info.value.errors} == {"type", "description"}
    assert store.activities.list(deal.id) == []

    kept = store.activities.add(deal.id, {"type": "note", "description": "Keep me"})
    with pytest.raises(ValidationError) as info:
        store.activities.update(kept.id, {"date": "someday"})
    assert info.value.for_field("date")
    (stored,) = store.activities.list(deal.id)
    assert stored == kept


def test_activity_on_unknown_deal_is_not_found(store: Store, workspace: WorkspaceView) -> None:
    with pytest.raises(NotFoundError):
        store.activities.add(uuid.uuid4(), {"type": "call", "description": "x"})


# =========================================================================== insights


def test_replace_generated_adds_updates_and_removes(store: Store, workspace: WorkspaceView) -> None:
    deal = new_deal(store, workspace)
    first = store.insights.replace_generated(
        workspace.id,
        [
            draft("stale:a", "high", deal_id=str(deal.id), data={"value": 100, "days": 20}),
            draft("stale:b", "low"),
            draft("concentration", "medium"),
        ],
        NOW,
    )
    assert (first.added, first.updated, first.removed) == (3, 0, 0)
    listed = {i.rule_key: i for i in store.insights.list(workspace.id)}
    assert listed["stale:a"].deal_id == deal.id
    store.insights.mark_read(listed["stale:a"].id)
    store.insights.dismiss(listed["concentration"].id)

    second = store.insights.replace_generated(
        workspace.id,
        [
            draft(
                "stale:a",
                "critical",
                deal_id=str(deal.id),
                title="Now 30 days",
                confidence=0.9,
                data={"value": 100, "days": 30},
                actions=["Email", "Call"],
            ),
            draft("concentration", "medium", confidence=0.7),
            draft("new:c", "high"),
        ],
        at(1),
    )
    assert (second.added, second.updated, second.removed) == (1, 2, 1)
    everything = {i.rule_key: i for i in store.insights.list(workspace.id, include_dismissed=True)}
    assert set(everything) == {"stale:a", "concentration", "new:c"}
    a = everything["stale:a"]
    assert a.id == listed["stale:a"].id
    assert (a.priority, a.title, a.confidence) == ("critical", "Now 30 days", 0.9)
    assert a.data == {"value": 100, "days": 30}
    assert a.actions == ["Email", "Call"]
    assert a.is_read is True and a.is_dismissed is False
    assert a.created_at == NOW and a.updated_at == at(1)
    concentration = everything["concentration"]
    assert concentration.is_dismissed is True and concentration.is_read is True
    assert concentration.confidence == 0.7
    assert everything["new:c"].is_read is False
    assert count(store, Insight) == 3

    # Regenerating the same drafts again never duplicates.
    store.insights.replace_generated(
        workspace.id, [draft("stale:a"), draft("concentration"), draft("new:c")], at(2)
    )
    assert count(store, Insight) == 3


def test_replace_generated_leaves_other_workspaces_alone(
    store: Store, workspace: WorkspaceView
) -> None:
    other = store.workspaces.create("Other")
    store.insights.replace_generated(other.id, [draft("same-key")], NOW)
    store.insights.replace_generated(workspace.id, [draft("same-key")], NOW)
    result = store.insights.replace_generated(workspace.id, [], at(1))
    assert result.removed == 1
    assert [i.rule_key for i in store.insights.list(other.id)] == ["same-key"]
    assert store.insights.list(workspace.id) == []


def test_insight_list_hides_dismissed_and_sorts_by_priority(
    store: Store, workspace: WorkspaceView
) -> None:
    store.insights.replace_generated(
        workspace.id,
        [
            draft("l", "low"),
            draft("c", "critical"),
            draft("m", "medium"),
            draft("h", "high"),
            draft("h2", "high", data={"value": 5000}),
            draft("gone", "critical"),
        ],
        NOW,
    )
    gone = next(i for i in store.insights.list(workspace.id) if i.rule_key == "gone")
    store.insights.dismiss(gone.id)
    listed = store.insights.list(workspace.id)
    assert [i.rule_key for i in listed] == ["c", "h2", "h", "m", "l"]
    assert [i.priority for i in listed] == ["critical", "high", "high", "medium", "low"]
    with_dismissed = store.insights.list(workspace.id, include_dismissed=True)
    assert [i.rule_key for i in with_dismissed][:2] in (["c", "gone"], ["gone", "c"])
    assert len(with_dismissed) == 6

    store.insights.mark_read(listed[0].id)
    assert "c" not in {i.rule_key for i in store.insights.list(workspace.id, unread_only=True)}
    store.insights.mark_read(listed[0].id, read=False)
    assert "c" in {i.rule_key for i in store.insights.list(workspace.id, unread_only=True)}


def test_mark_unknown_insight_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.insights.mark_read(uuid.uuid4())
