"""RemoteBackend against the fake backends of both dialects, over real HTTP on loopback.

No mocks of httpx: every test talks to a ``ThreadingHTTPServer`` on 127.0.0.1. Retry delays
go to a recording ``sleep`` (nothing really waits), except the one timeout test, whose client
timeout is 0.3 s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import socket
import ssl
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_backends import DEPLOYED, DIALECTS, DOCUMENTED, FakeBackend, Fault

from vectoros_tui import __version__
from vectoros_tui.store.validation import DEAL_FIELDS as STORE_DEAL_FIELDS
from vectoros_tui.sync.deployed_dialect import DeployedDialect
from vectoros_tui.sync.dialects import detect_dialect, dialect_for
from vectoros_tui.sync.documented_dialect import DocumentedDialect
from vectoros_tui.sync.errors import (
    AuthError,
    MalformedResponseError,
    RemoteError,
    RemoteUnavailableError,
    SyncError,
    TLSError,
)
from vectoros_tui.sync.http import RemoteBackend, parse_retry_after
from vectoros_tui.sync.record_json import CAMEL
from vectoros_tui.sync.records import DEAL_FIELDS, RemoteDeal
from vectoros_tui.sync.wire import Reply, error_details

SECRET = "vx-SECRET-token-5f1c2a9e7b"


class Sleeps(list[float]):
    """A ``sleep`` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(params=DIALECTS)
def server(request: pytest.FixtureRequest) -> Iterator[FakeBackend]:
    with FakeBackend(request.param) as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


Connect = Callable[..., RemoteBackend]


@pytest.fixture
def connect(server: FakeBackend, sleeps: Sleeps) -> Iterator[Connect]:
    """Make clients of ``server`` (its dialect, its token, recorded sleeps) and close them."""
    made: list[RemoteBackend] = []

    def make(**options: Any) -> RemoteBackend:
        options.setdefault("dialect", server.dialect)
        options.setdefault("sleep", sleeps)
        url = options.pop("url", server.url)
        client = RemoteBackend(url, options.pop("token", server.token), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(connect: Connect) -> RemoteBackend:
    return connect()


@pytest.fixture
def workspace(server: FakeBackend) -> str:
    return server.add_workspace("Acme")["id"]


def local(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "title": "Northwind renewal",
        "company": "Northwind",
        "value": 12000.0,
        "stage": "proposal",
        "outcome": None,
        "probability": 50,
        "contact_name": "Ana Lima",
        "contact_email": "ana@northwind.test",
        "close_date": dt.date(2025, 3, 31),
        "lost_reason": None,
    }
    record.update(overrides)
    return record


def wire_stage(dialect: str, stage: str, outcome: str | None) -> str:
    if dialect == DOCUMENTED:
        return f"closed_{outcome}" if stage == "closed" else stage
    if stage == "closed":
        return str(outcome)
    return "lead" if stage == "prospect" else stage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -------------------------------------------------------------------------------------------
# The API on both dialects


def test_health_and_workspaces(server: FakeBackend, client: RemoteBackend, workspace: str) -> None:
    server.add_workspace("Globex")
    health = client.health()
    assert health["status"] in ("ok", "healthy")
    workspaces = client.list_workspaces()
    assert (workspaces[0].id, workspaces[0].name) == (workspace, "Acme")
    assert {w.name for w in workspaces} == {"Acme", "Globex"}


def test_create_get_update_delete(
    server: FakeBackend, client: RemoteBackend, workspace: str
) -> None:
    record = local()
    created = client.create_deal(workspace, record)
    assert created.id == record["id"]
    assert created.workspace_id == workspace
    assert created.to_record() == {name: record[name] for name in DEAL_FIELDS}
    assert created.updated_at is not None and created.updated_at.tzinfo == dt.UTC

    stored = server.deals[record["id"]]
    assert stored["contactEmail"] == "ana@northwind.test"
    assert stored["closeDate"] == "2025-03-31"
    create = [r for r in server.requests if r.method == "POST"][-1]
    if server.dialect == DOCUMENTED:
        assert create.path == "/api/v1/deals"
        assert create.body["workspaceId"] == workspace
    else:
        assert create.path == f"/api/v1/workspaces/{workspace}/deals"
        assert "workspaceId" not in create.body and "outcome" not in create.body

    assert client.get_deal(record["id"]) == created

    changes = {"title": "Northwind renewal (3 years)", "value": 36000.0}
    full = {**record, **changes}
    updated = client.update_deal(record["id"], changes, full)
    assert updated.title == "Northwind renewal (3 years)"
    assert updated.value == 36000.0
    assert updated.company == "Northwind"
    assert updated.updated_at is not None and updated.updated_at > created.updated_at
    sent = server.requests[-1]
    if server.dialect == DOCUMENTED:
        assert sent.method == "PUT"
        assert set(sent.body) == {"id", *CAMEL.values()}
    else:
        assert sent.method == "PATCH"
        assert sent.body == {"title": "Northwind renewal (3 years)", "value": 36000.0}

    client.delete_deal(record["id"])
    assert record["id"] not in server.deals
    client.delete_deal(record["id"])  # gone already: 404 counts as deleted
    assert client.get_deal(record["id"]) is None
    assert server.count("DELETE") == 2


def test_patch_sends_stage_with_its_outcome(
    server: FakeBackend, client: RemoteBackend, workspace: str
) -> None:
    record = local(stage="negotiation", probability=75)
    client.create_deal(workspace, record)
    changes = {"stage": "closed", "outcome": "lost", "lost_reason": "Budget cut"}
    updated = client.update_deal(record["id"], changes, {**record, **changes})
    assert (updated.stage, updated.outcome, updated.lost_reason) == ("closed", "lost", "Budget cut")
    sent = server.requests[-1].body
    if server.dialect == DEPLOYED:
        assert sent == {"stage": "lost", "lostReason": "Budget cut"}
    else:
        assert (sent["stage"], sent["outcome"], sent["lostReason"]) == (
            "closed_lost",
            "lost",
            "Budget cut",
        )


@pytest.mark.parametrize("page_size", [100, 500])
def test_list_reads_every_page(
    server: FakeBackend, connect: Connect, workspace: str, page_size: int
) -> None:
    ids = [server.add_deal(workspace, title=f"Deal {i}")["id"] for i in range(250)]
    other = server.add_workspace("Other")["id"]
    server.add_deal(other, title="Not mine")
    deals = connect(page_size=page_size).list_deals(workspace)
    assert [d.id for d in deals] == ids  # oldest first, each once
    lists = [r for r in server.requests if r.path.endswith("/deals")]
    assert len(lists) == 3  # the server caps pages at 100
    if server.dialect == DOCUMENTED:
        assert [r.query["offset"] for r in lists] == ["0", "100", "200"]
    else:
        assert [r.query["page"] for r in lists] == ["1", "2", "3"]
        assert {(r.query["sortBy"], r.query["sortOrder"]) for r in lists} == {("createdAt", "asc")}


def test_empty_workspace_lists_nothing(client: RemoteBackend, workspace: str) -> None:
    assert client.list_deals(workspace) == []


STAGE_CASES = [
    ("prospect", None),
    ("qualified", None),
    ("proposal", None),
    ("negotiation", None),
    ("closed", "won"),
    ("closed", "lost"),
]


@pytest.mark.parametrize(("stage", "outcome"), STAGE_CASES)
def test_stages_map_both_ways(
    server: FakeBackend, client: RemoteBackend, workspace: str, stage: str, outcome: str | None
) -> None:
    record = local(stage=stage, outcome=outcome)
    client.create_deal(workspace, record)
    expected = wire_stage(server.dialect, stage, outcome)
    assert server.deals[record["id"]]["stage"] == expected
    # ...and a deal another client stored with that wire stage reads back as local.
    theirs = server.add_deal(workspace, stage=expected)
    fetched = client.get_deal(theirs["id"])
    assert fetched is not None
    assert (fetched.stage, fetched.outcome) == (stage, outcome)


def test_deployed_nulls_stay_none() -> None:
    with FakeBackend(DEPLOYED) as server:
        workspace = server.add_workspace()["id"]
        deal = server.add_deal(workspace, stage="lead", value=None, probability=None)
        with RemoteBackend(server.url, server.token, "deployed") as client:
            [listed] = client.list_deals(workspace)
            assert (listed.value, listed.probability, listed.stage) == (None, None, "prospect")
            record = local(value=None, probability=None)
            created = client.create_deal(workspace, record)
            assert (created.value, created.probability) == (None, None)
            assert server.deals[record["id"]]["value"] is None
            updated = client.update_deal(deal["id"], {"value": 5000.0}, {})
            assert (updated.value, updated.probability) == (5000.0, None)
            client.update_deal(deal["id"], {"value": None}, {})
            assert server.requests[-1].body == {"value": None}
            assert server.deals[deal["id"]]["value"] is None


def test_documented_reads_closed_plus_outcome_like_deal_view() -> None:
    dialect = DocumentedDialect()
    base = {"id": "d1", "workspaceId": "w1", "title": "T", "stage": "closed", "outcome": "won"}
    deal = dialect.from_remote(base)
    assert (deal.stage, deal.outcome, deal.value, deal.company) == ("closed", "won", None, None)
    assert dialect.from_remote({**base, "stage": "closed_lost", "outcome": None}).outcome == "lost"
    with pytest.raises(MalformedResponseError, match="outcome"):
        dialect.from_remote({**base, "stage": "closed_won", "outcome": "lost"})
    with pytest.raises(MalformedResponseError, match="needs an outcome"):
        dialect.from_remote({**base, "outcome": None})
    with pytest.raises(MalformedResponseError, match="open stage"):
        dialect.from_remote({**base, "stage": "proposal"})


def test_dates_and_times_are_read_strictly_and_in_utc() -> None:
    dialect = DeployedDialect()
    base = {"id": "d1", "workspaceId": "w1", "title": "T", "stage": "Lead"}
    deal = dialect.from_remote(
        {
            **base,
            "closeDate": "2025-06-30T00:00:00.000Z",  # Prisma sends dates as datetimes
            "updatedAt": "2025-06-01T14:30:00+02:00",
        }
    )
    assert deal.stage == "prospect"
    assert deal.close_date == dt.date(2025, 6, 30)
    assert deal.updated_at == dt.datetime(2025, 6, 1, 12, 30, tzinfo=dt.UTC)
    naive = dialect.from_remote({**base, "updatedAt": "2025-06-01T12:30:00"})
    assert naive.updated_at == dt.datetime(2025, 6, 1, 12, 30, tzinfo=dt.UTC)
    for key, value in [
        ("closeDate", "30/06/2025"),
        ("closeDate", 20250630),
        ("updatedAt", "2025-06-01"),
        ("updatedAt", "yesterday"),
        ("value", "12000"),
        ("value", True),
        ("probability", 50.5),
        ("probability", 150),
        ("company", 7),
        ("title", None),
    ]:
        with pytest.raises(MalformedResponseError) as caught:
            dialect.from_remote({**base, key: value}, field="data")
        assert caught.value.field == f"data.{key}"


def test_to_remote_checks_local_records() -> None:
    documented, deployed = dialect_for("documented"), dialect_for("deployed")
    assert deployed.to_remote({"stage": "lead", "outcome": None}) == {"stage": "lead"}
    assert documented.to_remote({"stage": "won", "outcome": None}) == {
        "stage": "closed_won",
        "outcome": "won",
    }
    assert documented.to_remote({"contact_name": "Ana", "close_date": None}) == {
        "contactName": "Ana",
        "closeDate": None,
    }
    for bad in (
        {"nickname": "x"},
        {"stage": "closed", "outcome": None},
        {"stage": "proposal", "outcome": "won"},
        {"outcome": "won"},
        {"value": "12"},
        {"title": ""},
    ):
        with pytest.raises(ValueError):
            deployed.to_remote(bad)
    with pytest.raises(ValueError, match="unknown dialect"):
        dialect_for("graphql")


# -------------------------------------------------------------------------------------------
# Dialect detection


def test_auto_detects_the_dialect(server: FakeBackend, connect: Connect, workspace: str) -> None:
    client = connect(dialect="auto")
    assert repr(client).endswith("dialect='auto')")
    server.add_deal(workspace)
    assert len(client.list_deals(workspace)) == 1
    assert client.dialect_name == server.dialect
    client.health()
    assert server.count("GET", "/health") == 2  # once to detect, once asked for


def test_health_first_detects_without_a_second_request(
    server: FakeBackend, connect: Connect
) -> None:
    client = connect(dialect="auto")
    client.health()
    client.list_workspaces()
    assert client.dialect_name == server.dialect
    assert server.count("GET", "/health") == 1


def test_detection_rule() -> None:
    def reply(text: str) -> Reply:
        return Reply("GET", "/health", 200, text)

    assert detect_dialect(reply('{"success": true, "data": {"status": "ok"}}')) == "deployed"
    assert detect_dialect(reply('{"success": true, "data": null}')) == "deployed"
    assert detect_dialect(reply('{"status": "ok"}')) == "documented"
    assert detect_dialect(reply('{"success": "yes", "data": 1}')) == "documented"
    assert detect_dialect(reply("OK")) == "documented"


# -------------------------------------------------------------------------------------------
# Retries


@pytest.mark.parametrize(
    "fault",
    [Fault.error(500), Fault.error(502), Fault.error(503), Fault.error(429), Fault.drop()],
    ids=["500", "502", "503", "429", "dropped-connection"],
)
def test_transient_failures_are_retried(
    server: FakeBackend, client: RemoteBackend, workspace: str, sleeps: Sleeps, fault: Fault
) -> None:
    server.add_deal(workspace)
    server.faults += [dataclasses.replace(fault), dataclasses.replace(fault)]
    assert len(client.list_deals(workspace)) == 1
    assert server.count("GET", "/api/v1/workspaces/") == 3
    assert len(sleeps) == 2
    assert server.faults == []


def test_timeout_is_retried(
    server: FakeBackend, connect: Connect, workspace: str, sleeps: Sleeps
) -> None:
    client = connect(timeout=0.3)
    server.faults.append(Fault.delay(3.0))
    started = time.monotonic()
    assert client.list_deals(workspace) == []
    assert time.monotonic() - started < 2.0
    assert server.count("GET") == 2
    assert len(sleeps) == 1


def test_backoff_grows_exponentially_and_is_capped(
    server: FakeBackend, connect: Connect, sleeps: Sleeps
) -> None:
    client = connect(retries=6, backoff=0.25, max_backoff=2.0, jitter=lambda: 1.0)
    server.faults += [Fault.error(500) for _ in range(6)]
    client.list_workspaces()
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_backoff_uses_full_jitter(server: FakeBackend, connect: Connect, sleeps: Sleeps) -> None:
    client = connect(retries=4, backoff=1.0, max_backoff=100.0)
    server.faults += [Fault.error(500) for _ in range(4)]
    client.list_workspaces()
    ceilings = [1.0, 2.0, 4.0, 8.0]
    assert all(0.0 <= delay <= ceiling for delay, ceiling in zip(sleeps, ceilings, strict=True))
    assert len(set(sleeps)) > 1


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(503, "3", 3.0), (429, "1.5", 1.5), (429, "60", 8.0), (503, "0", 0.0)],
)
def test_retry_after_is_honoured_and_capped(
    server: FakeBackend,
    client: RemoteBackend,
    sleeps: Sleeps,
    status: int,
    retry_after: str,
    expected: float,
) -> None:
    server.faults.append(Fault.error(status, retry_after=retry_after))
    client.list_workspaces()
    assert sleeps == [expected]


def test_parse_retry_after() -> None:
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_gives_up_after_the_retries(
    server: FakeBackend, connect: Connect, sleeps: Sleeps, workspace: str
) -> None:
    client = connect(retries=2)
    server.faults += [Fault.error(503) for _ in range(5)]
    with pytest.raises(RemoteUnavailableError) as caught:
        client.list_deals(workspace)
    assert caught.value.attempts == 3
    assert server.count("GET") == 3
    assert len(sleeps) == 2
    message = str(caught.value)
    assert "HTTP 503" in message and "3 times" in message and "local changes are kept" in message
    assert f"GET /api/v1/workspaces/{workspace}/deals" in message


def test_nothing_listening_is_unavailable(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = RemoteBackend(url, "token-123", "documented", retries=2, sleep=sleeps)
    with client, pytest.raises(RemoteUnavailableError, match="could not connect"):
        client.list_workspaces()
    assert len(sleeps) == 2


# -------------------------------------------------------------------------------------------
# Errors that are not retried


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_client_errors_carry_the_server_message(
    server: FakeBackend, client: RemoteBackend, sleeps: Sleeps, status: int
) -> None:
    message = "title must be at most 200 characters"
    body = json.dumps(server.error_payload(status, "VALIDATION_ERROR", message))
    server.faults.append(Fault.error(status, body=body))
    with pytest.raises(RemoteError) as caught:
        client.list_workspaces()
    error = caught.value
    assert (error.status, error.server_message) == (status, message)
    assert message in str(error)
    assert server.count() == 1
    assert sleeps == []


def test_real_not_found_from_the_server(server: FakeBackend, client: RemoteBackend) -> None:
    with pytest.raises(RemoteError) as caught:
        client.list_deals("no-such-workspace")
    assert caught.value.status == 404
    assert "Workspace no-such-workspace not found" in str(caught.value)
    with pytest.raises(RemoteError, match="404"):
        client.update_deal("no-such-deal", {"title": "x"}, local())


def test_plain_text_error_body_is_cut_to_200_characters(
    server: FakeBackend, client: RemoteBackend
) -> None:
    page = "<html><body><h1>Bad Request</h1>" + "x" * 1000 + "</body></html>"
    server.faults.append(Fault.error(400, body=page, content_type="text/html"))
    with pytest.raises(RemoteError) as caught:
        client.list_workspaces()
    assert caught.value.server_message.startswith("<html><body><h1>Bad Request</h1>")
    assert len(caught.value.server_message) == 200


def test_error_shapes() -> None:
    assert error_details('{"success": false, "error": {"code": "C", "message": "M"}}') == ("C", "M")
    assert error_details('{"error": "Bad Request", "message": "M"}') == ("Bad Request", "M")
    assert error_details('{"message": "M"}') == (None, "M")
    assert error_details('{"detail": [{"loc": ["body", "title"], "msg": "required"}]}') == (
        None,
        "body.title: required",
    )
    assert error_details("Service down") == (None, "Service down")
    assert error_details("") == (None, "(empty body)")


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_tell_the_rep_to_log_in(
    server: FakeBackend, client: RemoteBackend, sleeps: Sleeps, status: int
) -> None:
    server.faults.append(Fault.error(status))
    with pytest.raises(AuthError) as caught:
        client.list_workspaces()
    assert caught.value.status == status
    assert "vectoros login" in str(caught.value)
    assert isinstance(caught.value, SyncError)
    assert server.count() == 1 and sleeps == []


def test_wrong_token_is_an_auth_error(server: FakeBackend, connect: Connect) -> None:
    with pytest.raises(AuthError, match="vectoros login"):
        connect(token="expired-token").list_workspaces()


def test_redirect_is_reported_not_followed(server: FakeBackend, client: RemoteBackend) -> None:
    server.faults.append(Fault.error(301, body=""))
    with pytest.raises(RemoteError, match="redirect"):
        client.list_workspaces()


# -------------------------------------------------------------------------------------------
# Malformed answers


def _deal_json(dialect: str, **overrides: Any) -> dict[str, Any]:
    deal = {
        "id": "d1",
        "workspaceId": "WS",
        "title": "T",
        "company": None,
        "value": 10.0,
        "stage": "proposal",
        "probability": 50,
        "contactName": None,
        "contactEmail": None,
        "closeDate": None,
        "lostReason": None,
        "updatedAt": "2025-01-01T00:00:00.000Z",
    }
    if dialect == DOCUMENTED:
        deal["outcome"] = None
    deal.update(overrides)
    return deal


def _list_body(dialect: str, items: Any, pagination: Any = None) -> str:
    if dialect == DOCUMENTED:
        return json.dumps({"deals": items, "total": len(items) if isinstance(items, list) else 1})
    if pagination is None:
        pagination = {
            "page": 1,
            "limit": 100,
            "total": 1,
            "totalPages": 1,
            "hasNext": False,
            "hasPrev": False,
        }
    return json.dumps({"success": True, "data": {"items": items, "pagination": pagination}})


MALFORMED: list[tuple[str, Callable[[str], str], str]] = [
    ("html", lambda d: "<!DOCTYPE html><html><body>Login</body></html>", "not JSON"),
    ("invalid-json", lambda d: '{"deals": [', "not JSON"),
    ("empty", lambda d: "", "empty"),
    ("a-list", lambda d: "[]", "expected"),
    ("items-not-a-list", lambda d: _list_body(d, "oops"), "expected an array"),
    ("value-a-string", lambda d: _list_body(d, [_deal_json(d, value="12")]), "].value"),
    ("title-missing", lambda d: _list_body(d, [{"id": "d1", "stage": "qualified"}]), "].title"),
    ("unknown-stage", lambda d: _list_body(d, [_deal_json(d, stage="won-ish")]), "].stage"),
    ("bad-close-date", lambda d: _list_body(d, [_deal_json(d, closeDate="31.12.")]), "closeDate"),
    ("bad-updated-at", lambda d: _list_body(d, [_deal_json(d, updatedAt=12)]), "updatedAt"),
    ("other-workspace", lambda d: _list_body(d, [_deal_json(d, workspaceId="X")]), "workspaceId"),
]


@pytest.mark.parametrize(
    ("body", "expected"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_answers_are_rejected_whole(
    server: FakeBackend,
    client: RemoteBackend,
    sleeps: Sleeps,
    body: Callable[[str], str],
    expected: str,
) -> None:
    workspace = server.add_workspace(id="WS")["id"]
    server.faults.append(Fault.raw(body(server.dialect), match="GET /api/v1/workspaces/WS"))
    with pytest.raises(MalformedResponseError) as caught:
        client.list_deals(workspace)
    message = str(caught.value)
    assert expected in message
    assert "GET /api/v1/workspaces/WS/deals" in message
    assert server.count() == 1 and sleeps == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"success": True, "data": {"items": "oops"}}, "data.items"),
        ({"items": []}, "envelope"),
        ({"success": "true", "data": {}}, "success"),
        ({"success": True}, "data: is missing"),
        ({"success": True, "data": {"items": []}}, "data.pagination: is missing"),
        (
            {
                "success": True,
                "data": {"items": [], "pagination": {"page": 1, "total": 0, "hasNext": False}},
            },
            "data.pagination.totalPages",
        ),
        ({"success": False, "error": {"code": "X", "message": "nope"}}, None),
    ],
)
def test_deployed_envelope_is_checked(data: dict[str, Any], expected: str | None) -> None:
    with FakeBackend(DEPLOYED) as server:
        workspace = server.add_workspace()["id"]
        server.faults.append(Fault.raw(json.dumps(data), match="GET /api/v1/workspaces/"))
        with RemoteBackend(server.url, server.token, "deployed") as client:
            if expected is None:  # success: false with a 200 is still the server's error
                with pytest.raises(RemoteError, match="nope"):
                    client.list_deals(workspace)
            else:
                with pytest.raises(MalformedResponseError, match=expected):
                    client.list_deals(workspace)


def test_a_bad_later_page_gives_no_partial_result(
    server: FakeBackend, client: RemoteBackend, workspace: str
) -> None:
    for i in range(150):
        server.add_deal(workspace, title=f"Deal {i}")
    bad = dataclasses.replace(
        Fault.raw("<html>Gateway hiccup</html>", match="GET /api/v1/workspaces/"), skip=1
    )
    server.faults.append(bad)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        client.list_deals(workspace)
    assert server.count("GET") == 2


def test_a_page_that_does_not_advance_is_caught() -> None:
    # A server ignoring offset would repeat page one forever.
    with FakeBackend(DOCUMENTED) as server:
        workspace = server.add_workspace(id="WS")["id"]
        page = _list_body(DOCUMENTED, [_deal_json(DOCUMENTED)])
        page = json.dumps({**json.loads(page), "total": 5})
        server.faults += [Fault.raw(page), Fault.raw(page)]
        client = RemoteBackend(server.url, server.token, "documented")
        with client, pytest.raises(MalformedResponseError, match="paging does not advance"):
            client.list_deals(workspace)


# -------------------------------------------------------------------------------------------
# Idempotent creates


@pytest.mark.parametrize("duplicate", ["conflict", "return"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_retried_create_makes_no_duplicate(dialect: str, duplicate: str) -> None:
    sleeps = Sleeps()
    with FakeBackend(dialect, duplicate_create=duplicate) as server:
        workspace = server.add_workspace()["id"]
        # The server commits the create, then the connection drops before the answer.
        server.faults.append(Fault.commit_then_drop(match="POST "))
        with RemoteBackend(server.url, server.token, dialect, sleep=sleeps) as client:
            record = local()
            created = client.create_deal(workspace, record)
        assert len(server.deals_in(workspace)) == 1
        assert created.id == record["id"]
        assert created.to_record() == {name: record[name] for name in DEAL_FIELDS}
        assert server.count("POST") == 2
        assert server.count("GET", "/api/v1/deals/") == (1 if duplicate == "conflict" else 0)
        assert len(sleeps) == 1
        assert server.errors == []


def test_an_id_taken_in_another_workspace_is_a_real_conflict(
    server: FakeBackend, client: RemoteBackend, workspace: str
) -> None:
    other = server.add_workspace("Other")["id"]
    record = local()
    server.add_deal(other, id=record["id"])
    with pytest.raises(RemoteError) as caught:
        client.create_deal(workspace, record)
    assert caught.value.status == 409
    assert "already exists" in str(caught.value)


def test_a_retried_delete_counts_as_done(
    server: FakeBackend, client: RemoteBackend, workspace: str
) -> None:
    deal = server.add_deal(workspace)
    server.faults.append(Fault.commit_then_drop(match="DELETE "))
    client.delete_deal(deal["id"])
    assert server.deals == {}
    assert server.count("DELETE") == 2


# -------------------------------------------------------------------------------------------
# The token, the headers, TLS


def _leaks(exc: BaseException) -> bool:
    text = str(exc) + repr(exc) + "".join(traceback.format_exception(exc))
    return SECRET in text


def test_the_token_never_appears_in_errors_reprs_or_logs(
    caplog: pytest.LogCaptureFixture, sleeps: Sleeps
) -> None:
    caplog.set_level(logging.DEBUG)
    raised: list[BaseException] = []
    with FakeBackend(DEPLOYED, token=SECRET) as server:
        workspace = server.add_workspace(id="WS")["id"]
        client = RemoteBackend(server.url, SECRET, "auto", retries=1, sleep=sleeps)
        assert client.list_workspaces()[0].id == workspace
        sent = server.requests[-1].headers
        assert sent["authorization"] == f"Bearer {SECRET}"
        assert sent["user-agent"] == f"vectoros-tui/{__version__}"
        assert SECRET not in repr(client) and SECRET not in repr(client._client.headers)

        echo = f'{{"success": false, "error": {{"code": "BAD", "message": "token {SECRET}"}}}}'
        page = f"<html>Authorization: Bearer {SECRET}</html>"
        scenarios: list[tuple[Fault | None, type[SyncError]]] = [
            (Fault.error(400, body=echo), RemoteError),
            (Fault.error(401, body=echo), AuthError),
            (Fault.raw(page), MalformedResponseError),
            (Fault.error(503, body=page), RemoteUnavailableError),
        ]
        for fault, kind in scenarios:
            server.faults += [fault, dataclasses.replace(fault)] if fault else []
            with pytest.raises(kind) as caught:
                client.list_deals(workspace)
            raised.append(caught.value)
            server.faults.clear()
        client.close()
    with RemoteBackend(f"http://127.0.0.1:{free_port()}", SECRET, retries=0) as dead:
        with pytest.raises(RemoteUnavailableError) as caught:
            dead.health()
        raised.append(caught.value)
    for exc in raised:
        assert not _leaks(exc), repr(exc)
        # No chained httpx exception (it would hold the request and its headers).
        assert exc.__cause__ is None
        assert exc.__context__ is None or exc.__suppress_context__
    assert "[redacted]" in raised[0].server_message
    assert caplog.records and SECRET not in caplog.text


def test_bad_arguments_are_rejected_without_echoing_the_token() -> None:
    with pytest.raises(ValueError) as caught:
        RemoteBackend("http://127.0.0.1:1", SECRET + "\n")
    assert SECRET not in str(caught.value)
    for url in ("ftp://example.com", "example.com", "", "https://user:pw@example.com"):
        with pytest.raises(ValueError, match="URL"):
            RemoteBackend(url, SECRET)
    with pytest.raises(ValueError, match="dialect"):
        RemoteBackend("http://127.0.0.1:1", SECRET, "soap")
    with pytest.raises(ValueError, match="id"):
        RemoteBackend("http://127.0.0.1:1", SECRET).create_deal("w", {"title": "x"})


def test_tls_is_verified_by_default(sleeps: Sleeps) -> None:
    client = RemoteBackend("https://127.0.0.1:1", SECRET)
    assert client.verify is True
    context = client._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    client.close()


def test_https_to_a_plain_http_server_fails_clearly(server: FakeBackend, sleeps: Sleeps) -> None:
    url = server.url.replace("http://", "https://")
    with RemoteBackend(url, SECRET, sleep=sleeps) as client, pytest.raises(TLSError) as caught:
        client.health()
    assert "secure connection" in str(caught.value)
    assert sleeps == []  # not retried
    assert not _leaks(caught.value)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vectoros test")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_private_ca_needs_its_bundle(tmp_path: Path, sleeps: Sleeps) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FakeBackend(DOCUMENTED, tls=context) as server:
        client = RemoteBackend(server.url, server.token, sleep=sleeps)
        with client, pytest.raises(TLSError, match=r"(?i)certificate"):
            client.health()
        assert sleeps == []
        with RemoteBackend(server.url, server.token, verify=cert) as trusted:
            assert trusted.health()["status"] == "ok"
            assert trusted.dialect_name == "documented"


def test_remote_deal_record_uses_local_names() -> None:
    deal = RemoteDeal(
        id="d",
        workspace_id="w",
        title="T",
        company=None,
        value=None,
        stage="closed",
        outcome="won",
        probability=None,
        contact_name=None,
        contact_email=None,
        close_date=None,
        lost_reason=None,
        updated_at=None,
    )
    assert tuple(deal.to_record()) == DEAL_FIELDS
    assert set(DEAL_FIELDS) == set(STORE_DEAL_FIELDS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        deal.title = "other"  # type: ignore[misc]


def test_optional_pagination_fields_may_be_absent() -> None:
    pagination = {"page": 2, "total": 3, "totalPages": 2, "hasNext": False}
    assert DeployedDialect._page({"items": [{"id": "x"}], "pagination": pagination}, 2) == (
        [{"id": "x"}],
        False,
    )
    with pytest.raises(MalformedResponseError, match=r"data.pagination.limit: must be a whole"):
        DeployedDialect._page({"items": [], "pagination": {**pagination, "limit": None}}, 2)


def test_conditional_writes_only_when_health_promises_them(
    server: FakeBackend, client: RemoteBackend
) -> None:
    """The fake (like the Node service) does not promise If-Match; a /health that fails
    means no promise either, and never a failed sync."""
    assert client.conditional_writes is False
    assert server.count("GET", "/health") == 1
    assert client.conditional_writes is False  # asked once
    assert server.count("GET", "/health") == 1


def test_a_broken_health_means_no_conditional_writes(server: FakeBackend, connect: Connect) -> None:
    server.faults.append(Fault.error(404, match="GET /health"))
    assert connect().conditional_writes is False
