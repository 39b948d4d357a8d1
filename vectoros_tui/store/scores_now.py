"""Today's health scores of a workspace computed with the database driver alone, and kept.

`vectoros score --json` after a deal changed used to mean the whole CLI: importing
SQLAlchemy and SQLModel (about a third of the command on a team's workspace) to read the
open deals. Scoring needs only the open deals' own columns, each one's last activity and
how many deals there are, which the driver reads as well; the engine's scoring is plain
Python. The result is kept as store.analytics.Analytics.score keeps it, so the app, the
server and the next command find it.

Unlike the forecast (store.forecast_update), nothing is taken from an earlier result:
every score reads the workspace's average open value and is aged at the moment of
computing, so all are computed again, at this moment, as the full path would.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.health import score_workspace
from vectoros_tui.plain_json import dumps
from vectoros_tui.store.driver_reads import Write, update_database
from vectoros_tui.store.driver_values import OPEN_RECORDS, REVISIONS, record_from_row
from vectoros_tui.store.kept_answer import SCORE, KeptAnswer, Reading, WorkspaceRefs
from vectoros_tui.store.kept_payload import params_key
from vectoros_tui.store.kept_writes import kept_result_writes, written_at

# Each open deal's last activity done (a call planned for next week is not contact made).
_LAST_ACTIVITIES = """
    SELECT a.deal_id, max(a.date) FROM activities AS a JOIN deals AS d ON d.id = a.deal_id
    WHERE d.workspace_id = :workspace AND d.outcome IS NULL AND d.stage != 'closed'
        AND a.done = :done
    GROUP BY a.deal_id
"""


def compute_kept_scores(url: str, refs: WorkspaceRefs, today: date) -> KeptAnswer | None:
    """The answer to a plain `score --json`, computed and kept; None where the full path
    must answer (no single workspace, a schema to migrate, a database busy or failing)."""
    return update_database(
        url, lambda rows, write, postgres: _scores(Reading(rows, postgres, today), write, refs)
    )


def _scores(reading: Reading, write: Write, refs: WorkspaceRefs) -> KeptAnswer | None:
    chosen = reading.workspace(refs)
    if chosen is None:
        return None
    rows, workspace = reading.rows, reading.id(chosen)
    where = {"workspace": workspace}
    # The revisions before anything they label is read (see store.kept_results).
    revision = rows(REVISIONS, where)[0]
    deals = rows(OPEN_RECORDS, where)
    last_activity: dict[Any, Any] = dict(rows(_LAST_ACTIVITIES, {**where, "done": True}))
    total = int(rows("SELECT count(*) FROM deals WHERE workspace_id = :workspace", where)[0][0])
    moment = utc_now()
    if moment.date() != reading.today:
        return None  # midnight passed: the full path scores for the new day
    records = [record_from_row(row, last_activity.get(row[0])) for row in deals]
    result: dict[str, Any] = score_workspace(records, moment, total_deals=total)
    text = dumps(result)
    key = params_key({})
    write(kept_result_writes(reading, workspace, SCORE, key, revision, text, written_at(reading)))
    return KeptAnswer(uuid.UUID(chosen.id), result)
