"""A workspace's deals with their health, loaded in one go for the screens.

The pipeline board, the forecast and the health column all read the same snapshot, so a
workspace is read once per change instead of once per widget. Plain data, no Textual.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from operator import attrgetter
from typing import Any

from vectoros_tui.engine.dates import utc_now
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.funnel import Funnel, funnel_position, stage_funnel
from vectoros_tui.engine.health import DealHealth, average_of, open_value_totals, score_deal
from vectoros_tui.engine.stages import OPEN_STAGES, stage_index
from vectoros_tui.store.board import (
    AGEING_DAYS,
    BOARD_CARDS,
    StageColumn,
    days_in_stage,
    is_overdue,
)
from vectoros_tui.store.owners import Member
from vectoros_tui.store.pausing import paused_slices
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import DealPage, WorkspaceView


@dataclass(frozen=True)
class WorkspaceSnapshot:
    workspace: WorkspaceView
    deals: list[DealRecord]
    health: dict[str, DealHealth]
    loaded_at: datetime
    fingerprint: tuple[Any, ...] = field(default=())
    # (sum, count) of the open deals' values, which health scores compare each deal to;
    # carried from snapshot to snapshot so a save adjusts it instead of re-reading every
    # deal (that re-read was most of a save's main-thread time with 3,000 deals).
    priced_open: tuple[float, int] | None = field(default=None, compare=False, repr=False)
    # The workspace's members: the owners a deal can have, the "one rep" views.
    members: tuple[Member, ...] = field(default=(), compare=False, repr=False)
    # The stage funnel of every deal, carried across a save that leaves it as it was:
    # counting 100,000 deals again was most of a save's forecast on a team's workspace.
    # None: not counted yet (see funnel()).
    counted_funnel: Funnel | None = field(default=None, compare=False, repr=False)
    # How many saves this snapshot carries since its last full load, which kept the
    # fingerprint: with it, (fingerprint, edits) tells one state of the deals from another.
    edits: int = field(default=0, compare=False)

    def funnel(self) -> Funnel:
        return self.counted_funnel or stage_funnel(self.deals)

    def member(self, user_id: str | None) -> Member | None:
        return next((m for m in self.members if str(m.id) == user_id), None)

    def with_deal(self, deal: DealRecord) -> WorkspaceSnapshot:
        """This snapshot with one deal replaced (or added), ``deal`` being the store's
        record of it (:meth:`DealService.records`, which derives its history fields): what
        the screens need the moment a rep saves, without re-reading the workspace."""
        old = self.deal(deal.id)
        deals = [deal if d.id == deal.id else d for d in self.deals]
        if old is None:
            # In id order, as the store reads them: a reload then finds the same list.
            bisect.insort(deals, deal, key=lambda d: d.id)
        priced = _priced_open_change(self.open_value_totals(), old, deal)
        health = dict(self.health)
        health.pop(deal.id, None)
        if deal.is_open:
            # Only this deal is rescored; the others' value component moves with the
            # workspace average by a hair, and the next full load rescores them.
            health[deal.id] = score_deal(deal, self.loaded_at, average_of(priced))
        kept = self.counted_funnel
        if old is None or funnel_position(old) != funnel_position(deal):
            kept = None
        found = self._edited(deals, health, priced, kept)
        opened = self.__dict__.get("open_deals")
        if opened is not None and old is not None and old.is_open:
            # Carried rather than picked out of every deal again (a tenth of a second for
            # 100,000 deals, after every save); a deal that opens falls back to that.
            if deal.is_open:
                found.__dict__["open_deals"] = [deal if d.id == deal.id else d for d in opened]
            else:
                found.__dict__["open_deals"] = [d for d in opened if d.id != deal.id]
        elif opened is not None and old is not None and not deal.is_open:
            found.__dict__["open_deals"] = opened  # closed before and after: not among them
        return found

    def without_deal(self, deal_id: str) -> WorkspaceSnapshot:
        health = {k: v for k, v in self.health.items() if k != deal_id}
        deals = [d for d in self.deals if d.id != deal_id]
        priced = _priced_open_change(self.open_value_totals(), self.deal(deal_id), None)
        return self._edited(deals, health, priced, None)

    def _edited(
        self,
        deals: list[DealRecord],
        health: dict[str, DealHealth],
        priced: tuple[float, int],
        funnel: Funnel | None,
    ) -> WorkspaceSnapshot:
        return replace(
            self,
            deals=deals,
            health=health,
            priced_open=priced,
            counted_funnel=funnel,
            edits=self.edits + 1,
        )

    def open_value_totals(self) -> tuple[float, int]:
        """(sum, count) of the values of the open deals that have one."""
        if self.priced_open is not None:
            return self.priced_open
        return open_value_totals(self.deals)

    @cached_property
    def open_deals(self) -> list[DealRecord]:
        # Read several times per save (forecast, board, status): once per snapshot.
        return [d for d in self.deals if d.is_open]

    def deal(self, deal_id: str) -> DealRecord | None:
        return next((d for d in self.deals if d.id == deal_id), None)

    def is_overdue(self, deal: DealRecord) -> bool:
        return is_overdue(deal, self.loaded_at)

    def days_in_stage(self, deal: DealRecord) -> int:
        return days_in_stage(deal, self.loaded_at)

    def matching(
        self,
        *,
        stage: str | None = None,
        outcome: str | None = None,
        search: str | None = None,
        owner: str | None = None,
    ) -> list[DealRecord]:
        """The deals :meth:`DealService.list` would find with these filters (``search``
        matches title, company or contact, ignoring case; ``owner`` is a user id), read
        from this snapshot."""
        needle = (search or "").strip().lower()
        found = []
        for deal in self.deals:
            if owner and deal.owner_id != owner:
                continue
            if stage and deal.stage != stage:
                continue
            if outcome == "open" and deal.outcome is not None:
                continue
            if outcome in ("won", "lost") and deal.outcome != outcome:
                continue
            if needle and not any(
                needle in (text or "").lower()
                for text in (deal.title, deal.company, deal.contact_name)
            ):
                continue
            found.append(deal)
        return found

    def board(
        self,
        *,
        search: str | None = None,
        sort: str = "value",
        descending: bool = True,
        owner: str | None = None,
    ) -> list[StageColumn]:
        """Open deals by stage (only those ``search`` finds, of ``owner`` if given),
        ordered by ``sort`` (a deal table column: see :data:`SORT_KEYS`), with the column
        totals."""
        order = _sort_key(sort, self.health)
        found = self.matching(outcome="open", search=search, owner=owner)
        columns = []
        for stage in OPEN_STAGES:
            in_stage = [d for d in found if d.stage == stage]
            present = sorted(
                (d for d in in_stage if order(d) is not None),
                key=order,
                reverse=descending,
            )
            # Deals without the sorted field (no close date, say) come last either way.
            deals = present + [d for d in in_stage if order(d) is None]
            columns.append(
                StageColumn(
                    stage=stage,
                    deals=deals,
                    count=len(deals),
                    total_value=sum(d.value or 0 for d in deals),
                    weighted_value=sum(d.weighted_value for d in deals),
                    ageing=sum(1 for d in deals if self.days_in_stage(d) >= AGEING_DAYS),
                    overdue=sum(1 for d in deals if self.is_overdue(d)),
                )
            )
        return columns


def _sort_key(sort: str, health: dict[str, DealHealth]) -> Callable[[DealRecord], Any]:
    """How the board orders a column by one of the deal table's sort columns: None for a
    deal without the field, else a value comparable with the other deals' ones."""
    if sort == "health":
        return lambda d: h.health_score if (h := health.get(d.id)) else None
    if sort == "stage":
        return lambda d: stage_index(d.stage)
    if sort in ("title", "company"):
        return lambda d: (getattr(d, sort) or "").lower() or None
    field = sort if sort in SORT_FIELDS else "value"
    return lambda d: getattr(d, field)


# The deal table's sort columns a record has as a field of the same name.
SORT_FIELDS = ("value", "probability", "close_date", "outcome", "updated_at")


def load_board_preview(store: Store, workspace: WorkspaceView, now: datetime) -> list[StageColumn]:
    """The board's columns straight from SQL (totals plus the top deals of each stage):
    what the pipeline paints first, before the full snapshot is loaded and scored."""
    return [
        StageColumn(
            stage=c["stage"],
            deals=c["deals"],
            count=c["count"],
            total_value=c["total_value"],
            weighted_value=c["weighted_value"],
            ageing=c["ageing"],
            overdue=c["overdue"],
        )
        for c in store.deals.board_preview(
            workspace.id, now, per_stage=BOARD_CARDS, ageing_days=AGEING_DAYS
        )
    ]


def _priced_open_change(
    totals: tuple[float, int], old: DealRecord | None, new: DealRecord | None
) -> tuple[float, int]:
    """``totals`` (see :func:`open_value_totals`) with one deal's old version taken out
    and its new one put in."""
    total, count = totals
    for deal, sign in ((old, -1), (new, 1)):
        if deal is not None and deal.is_open and (value := deal.value) is not None:
            total += sign * value
            count += sign
    return total, count


# Open deals scored between two calls of a load's ``pause``.
_SCORE_CHUNK = 2_000


def load_snapshot(
    store: Store,
    workspace: WorkspaceView,
    now: datetime | None = None,
    on_open: Callable[[list[DealRecord]], None] | None = None,
    pause: Callable[[], None] | None = None,
) -> WorkspaceSnapshot:
    """The whole workspace, its open deals scored. With ``on_open``, the open deals are
    read first and handed to it before the closed ones are read: a team's workspace is
    mostly closed deals, and the forecast needs only the open ones, so it need not wait
    for (or read again) what the rest of the load reads. ``pause``: called between chunks
    of the reading (see DealService.records)."""
    moment = now or utc_now()
    # Before the deals: a change landing while they are read moves the revisions past
    # this, so the next poll reads again (read after, the change could pass unseen).
    fingerprint = store.deals.fingerprint(workspace.id)
    if on_open is None:
        deals = store.deals.records(workspace.id, pause=pause)
    else:
        open_deals = store.deals.records(workspace.id, open_only=True, pause=pause)
        on_open(open_deals)
        closed = store.deals.records(workspace.id, closed_only=True, pause=pause)
        # Both come ordered by id: the merge is one linear pass of Python's sort.
        deals = sorted([*open_deals, *closed], key=attrgetter("id"))
    priced = open_value_totals(deals)
    average = average_of(priced)
    # Scoring 14,000 open deals is ~0.4 s of the interpreter.
    scored = [d for d in deals if d.is_open]
    health = {
        d.id: score_deal(d, moment, average)
        for part in paused_slices(scored, _SCORE_CHUNK, pause)
        for d in part
    }
    if pause is not None:
        pause()
    funnel = stage_funnel(deals)  # a pass over every deal, closed ones too
    return WorkspaceSnapshot(
        workspace,
        deals,
        health,
        moment,
        fingerprint,
        priced_open=priced,
        members=tuple(store.owners.members(workspace.id)),
        counted_funnel=funnel,
    )


def page_by_health(
    store: Store,
    snapshot: WorkspaceSnapshot,
    *,
    stage: str | None = None,
    outcome: str | None = None,
    search: str | None = None,
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    owner_id: uuid.UUID | None = None,
) -> DealPage:
    """A page of the deals :meth:`DealService.list` would show, ordered by the health
    score this snapshot holds (scores are computed, not stored, so SQL cannot sort by
    them). Closed deals have no score: they come after every scored deal either way."""
    ids = store.deals.matching_ids(
        snapshot.workspace.id, stage=stage, outcome=outcome, search=search, owner_id=owner_id
    )
    health = snapshot.health
    direction = -1.0 if descending else 1.0

    def key(deal_id: uuid.UUID) -> tuple[bool, float, str]:
        scored = health.get(str(deal_id))
        if scored is None:
            return True, 0.0, str(deal_id)
        return False, direction * scored.health_score, str(deal_id)

    ordered = sorted(ids, key=key)
    return DealPage(store.deals.get_many(ordered[offset : offset + limit]), len(ids), limit, offset)


def open_deals_snapshot(
    store: Store,
    workspace: WorkspaceView,
    now: datetime,
    deals: list[DealRecord] | None = None,
) -> WorkspaceSnapshot:
    """A snapshot of the workspace's open deals alone, not yet scored: what the forecast
    needs, read in a fraction of the time of the whole workspace (a team's is mostly
    closed deals), so the forecast shows while the full snapshot is still loading.
    ``deals``: the open deals, when the loading snapshot has read them already."""
    if deals is None:
        deals = store.deals.records(workspace.id, open_only=True)
    return WorkspaceSnapshot(workspace, deals, {}, now, priced_open=open_value_totals(deals))
