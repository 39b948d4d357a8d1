"""plain_json: what the standard library reads, by orjson where orjson can; what the
database engines decode JSON columns with and write them as, on SQLite and Postgres."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from vectoros_tui import plain_json
from vectoros_tui.engine.insights import InsightDraft
from vectoros_tui.store.store import Store


def test_reads_what_the_standard_library_reads() -> None:
    document = {"value": 1.5, "names": ["Ana", "Żaneta"], "nested": {"n": None, "ok": True}}
    written = json.dumps(document)
    assert plain_json.loads(written) == document
    assert plain_json.loads(written.encode()) == document
    assert plain_json.loads(memoryview(written.encode())) == document


def test_what_orjson_refuses_takes_the_standard_librarys_path() -> None:
    assert math.isnan(plain_json.loads('{"value": NaN}')["value"])
    assert plain_json.loads(memoryview(b"[Infinity]")) == [math.inf]
    for big in (2**70 + 1, -(2**63) - 1, 10**20 + 1):
        (read,) = plain_json.loads(json.dumps({"n": big}).encode()).values()
        assert type(read) is int and read == big
    assert plain_json.loads('{"n": 2.5e-7, "m": 12345678901234567}') == {
        "n": 2.5e-7,
        "m": 12345678901234567,
    }


def test_the_engine_reads_json_columns_with_it(store: Store, workspace) -> None:
    key = uuid.uuid4()
    as_json = ":data" if store.db.is_sqlite else "CAST(:data AS json)"
    data = {"value": 1234.5, "names": ["Żaneta"]}
    with store.db.write() as session:
        session.execute(
            text(
                "INSERT INTO insights (id, workspace_id, type, priority, title, description, "
                "confidence, data, actions, is_read, is_dismissed, created_at, updated_at) "
                f"VALUES (:id, :ws, 'stale', 'high', 'T', 'D', 0.5, {as_json}, '[]', false, false, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ).bindparams(
                id=key.hex if store.db.is_sqlite else key,
                ws=workspace.id.hex if store.db.is_sqlite else workspace.id,
                data=json.dumps(data),
            )
        )
    (listed,) = store.insights.list_api(workspace.id)
    assert listed["data"] == data
    assert store.db.engine.dialect._json_deserializer is plain_json.loads


def test_column_text_is_json_the_standard_library_reads_back() -> None:
    document = {"value": 1234.5, "names": ["Żaneta", "O'Brien"], "nested": {"n": None}}
    assert json.loads(plain_json.column_text(document)) == document
    assert plain_json.column_text(["a", 2]) == '["a",2]'
    # JSON has no NaN: it is written null (the standard library wrote NaN, which
    # Postgres's json type refuses).
    assert json.loads(plain_json.column_text({"v": math.nan})) == {"v": None}
    big = {"n": 2**70 + 1}
    assert json.loads(plain_json.column_text(big)) == big


def test_unchanged_insights_are_not_rewritten(store: Store, workspace) -> None:
    """Regenerating the same insights compares each one's stored JSON text with the text
    it would be written as: none differs, so nothing is rewritten."""
    drafts = [
        InsightDraft(
            key=f"stale:{n}",
            type="risk",
            priority="high",
            title=f"Deal {n}",
            description="Quiet for 30 days",
            confidence=0.8,
            data={"value": 1234.5 + n, "names": ["Żaneta"], "days": 30, "nested": {"n": None}},
            actions=["Call them", "Email"],
            deal_id=None,
        )
        for n in range(3)
    ]
    first = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert store.insights.replace_generated(workspace.id, drafts, first).added == 3
    again = store.insights.replace_generated(workspace.id, drafts, first + timedelta(days=1))
    assert (again.added, again.updated, again.removed) == (0, 3, 0)  # all still apply
    # ... and none was written again: a rewritten one's update time is the second run's.
    assert {i.updated_at for i in store.insights.list(workspace.id)} == {first}
    # Written by another serializer (the standard library's spacing, an earlier
    # version's): the same documents, still not rewritten.
    with store.db.write() as session:
        session.execute(
            text("UPDATE insights SET data = :data").bindparams(data=json.dumps(drafts[0].data))
            if store.db.is_sqlite
            else text("UPDATE insights SET data = CAST(:data AS json)").bindparams(
                data=json.dumps(drafts[0].data)
            )
        )
    store.insights.replace_generated(workspace.id, drafts, first + timedelta(days=2))
    updated = {i.rule_key: i.updated_at for i in store.insights.list(workspace.id)}
    assert updated == {
        "stale:0": first,
        "stale:1": first + timedelta(days=2),  # their data differed: rewritten
        "stale:2": first + timedelta(days=2),
    }
    assert store.db.engine.dialect._json_serializer is plain_json.column_text
