"""A workspace's open-deal records, kept between reads by a long-lived process.

`vectoros serve` answering a forecast, or the app forecasting again, reads a team's open
deals after every change: 14,000 records, where the queries for each deal's last activity
and close-date history and building the records took most of the time. They are kept
here with the workspace's two revisions (read *before* the rows, so the rows are never
older than their label):

* both revisions unchanged: the records are handed back as they are;
* only the deals' revision moved: the deals' own rows are read again (one indexed query)
  and compared with the rows kept. Only the deals whose row differs, or that are new,
  are built again with their history; deals no longer open drop out. A deal's history
  (its close-date slips) is written with the deal's own row, so an unchanged row means
  an unchanged record;
* the activities' revision moved: everything is read again, because an activity changes
  a deal's last contact without changing its row.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.store.kept_results import Revision

# Workspaces kept at once (the most recently read): a server may host many, and a team's
# 13,666 open deals take 26 MB here (records and rows).
KEPT_WORKSPACES = 4
# Past this share of changed open deals, reading them by id costs more than reading all.
REBUILD_SHARE = 0.25


@dataclass(frozen=True)
class KeptOpenDeals:
    revision: Revision
    rows: dict[Any, tuple[Any, ...]]  # raw id -> the deal's row as read
    records: dict[Any, DealRecord]  # raw id -> its record, in the rows' order (by id)

    def changed(self, rows: Sequence[Any]) -> list[Any]:
        """The raw ids of ``rows`` (read now) that are new or differ from those kept."""
        kept = self.rows
        return [row[0] for row in rows if kept.get(row[0]) != tuple(row)]


class OpenRecords:
    """The open-deal records last read per workspace (see the module's docstring). Shared
    by every service of one store, whoever they act as; safe across threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[uuid.UUID, KeptOpenDeals] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, workspace_id: uuid.UUID) -> KeptOpenDeals | None:
        with self._lock:
            return self._kept.get(workspace_id)

    def put(
        self,
        workspace_id: uuid.UUID,
        revision: Revision,
        rows: Sequence[Any],
        records: dict[Any, DealRecord],
    ) -> None:
        kept = KeptOpenDeals(revision, {row[0]: tuple(row) for row in rows}, records)
        with self._lock:
            self._kept[workspace_id] = kept
            self._kept.move_to_end(workspace_id)
            while len(self._kept) > KEPT_WORKSPACES:
                self._kept.popitem(last=False)
