"""plain_json.loads: what the standard library reads, by orjson where orjson can, and
what the database engines decode JSON columns with, on SQLite and Postgres."""

from __future__ import annotations

import json
import math
import uuid

from sqlalchemy import text

from vectoros_tui import plain_json
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
