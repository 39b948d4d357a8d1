"""The writes of store.kept_results.KeptResults.keep, as SQL for the database driver
(store.driver_reads.update_database): the quick answers that compute a result keep it
the way the full path does, so that the app, the server and the next command find it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vectoros_tui.store.driver_reads import SQLITE_TIMESTAMP
from vectoros_tui.store.kept_answer import Reading
from vectoros_tui.store.kept_payload import pack


def written_at(reading: Reading) -> Any:
    """This moment, as the store writes a timestamp (naive UTC text on SQLite)."""
    now = datetime.now(UTC)
    return now if reading.postgres else now.replace(tzinfo=None).strftime(SQLITE_TIMESTAMP)


def kept_result_writes(
    reading: Reading,
    workspace: Any,
    kind: str,
    key: str,
    revision: tuple[Any, ...],
    text: bytes,
    at: Any,
) -> list[tuple[str, dict[str, Any]]]:
    """Keep ``text`` (the result's JSON) for today at ``revision``, and drop the results of
    this kind that no longer hold."""
    common = {
        "workspace": workspace,
        "kind": kind,
        "day": reading.day,
        "deals": revision[0],
        "activities": revision[1],
    }
    return [
        (
            """
            DELETE FROM kept_results WHERE workspace_id = :workspace AND kind = :kind
                AND (computed_for != :day OR deals_revision != :deals
                    OR activities_revision != :activities)
            """,
            common,
        ),
        (
            """
            INSERT INTO kept_results (workspace_id, kind, params, deals_revision,
                activities_revision, computed_for, computed_at, payload)
            VALUES (:workspace, :kind, :params, :deals, :activities, :day, :at, :payload)
            ON CONFLICT (workspace_id, kind, params) DO UPDATE SET
                deals_revision = excluded.deals_revision,
                activities_revision = excluded.activities_revision,
                computed_for = excluded.computed_for, computed_at = excluded.computed_at,
                payload = excluded.payload
            """,
            {**common, "params": key, "at": at, "payload": pack(text)},
        ),
    ]
