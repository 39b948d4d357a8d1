"""A workspace as it stood at a past moment, rebuilt from what the store keeps.

Open at T means created by T and not closed by T. The tracked fields (stage, outcome,
close date, value, probability) take the value their history gives at T: the last change
made by T, else the value the first later change replaced, else today's value (it never
changed). Later outcomes, changes and activities are not used, so a forecast of these
records knows only what was known at T.

A deal imported already closed (its history starts with its close) says nothing about
its open life: while it was open its stage, probability and close date are unknown, not
those it ended with; its value is today's (amounts are rarely re-priced at the close).
The same holds for any deal before the store first saw it (``observed_at``: an import of
a deal created earlier), open or closed today: an export gives each field as it was on
the day it was made. Reading today's stage of the deals still open back into the past,
while the closed ones' were unknown, would tell a past forecast which deals were never
going to close (an open stage) and which were (unknown); its forecasts near the export
date would then come out far too low, and the rest too sure.
Where the workspace's amounts are filled in at the close (lost deals at 0, see
:mod:`vectoros_tui.engine.unpriced`), an amount tells how the deal ended: the value of a
deal before the store saw it is unknown too, as its stage is.
The owner is the one the history says (a reassignment after T is a later fact). Fields
no history keeps (title, company, contacts) are today's.

The history is held as arrays, each deal's changes of a field side by side in the order
they were made, so a moment is rebuilt for every deal at once: a model's training asks
for 17 monthly moments of a 100,000-deal workspace, and a record per deal and moment
(what this was first) took a minute. Records are built only for what a caller reads as
records (an as-of forecast's open deals, a backtest's).
"""

from __future__ import annotations

import dataclasses
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import BigInteger, ColumnElement, Connection, Select, String, cast, extract, true
from sqlalchemy import select as sa_select
from sqlmodel import col, func, select

from vectoros_tui.engine.dates import as_utc
from vectoros_tui.engine.deal_record import DealRecord
from vectoros_tui.engine.unpriced import amounts_at_close
from vectoros_tui.engine.win_features import DealColumns, stage_feature
from vectoros_tui.store.database import Database
from vectoros_tui.store.record_rows import raw
from vectoros_tui.store.tables import Activity, Deal, DealEvent

_TRACKED = ("stage", "outcome", "close_date", "value", "probability")
# Read with them: who owned the deal then (a reassignment is a later fact).
_READ = (*_TRACKED, "owner")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# A record's fields in order (as its constructor takes them), and where those rebuilt are.
_FIELD_NAMES: Final = tuple(f.name for f in dataclasses.fields(DealRecord) if f.init)
assert len(_FIELD_NAMES) == len(dataclasses.fields(DealRecord)), "records are built from all"
_ALL_FIELDS: Final = attrgetter(*_FIELD_NAMES)
(
    _OWNER,
    _STAGE,
    _OUTCOME,
    _VALUE,
    _PROBABILITY,
    _CLOSE_DATE,
    _LOST_REASON,
    _UPDATED_AT,
    _STAGE_CHANGED_AT,
    _CLOSED_AT,
    _LAST_ACTIVITY_AT,
    _CLOSE_DATE_HISTORY,
    _LAST_OPEN_STAGE,
) = (
    _FIELD_NAMES.index(name)
    for name in (
        "owner_id",
        "stage",
        "outcome",
        "value",
        "probability",
        "close_date",
        "lost_reason",
        "updated_at",
        "stage_changed_at",
        "closed_at",
        "last_activity_at",
        "close_date_history",
        "last_open_stage",
    )
)
_MICROSECOND: Final = timedelta(microseconds=1)
# A deal created at no known moment never existed as far as any moment is concerned.
_NEVER: Final = np.iinfo(np.int64).max
# The code of no text at all (None); "" has a code of its own, as the history tells them apart.
_NONE: Final = -1
_EMPTY, _CLOSED, _WON = 0, 1, 2
# On SQLite, a workspace with this share of the database's deals has its changes read in
# one pass over the table rather than deal by deal through the index.
_SCAN_SHARE: Final = 0.6
_RECENT_WINS: Final = 30
# Changes as (deal id, field, old text, new text, moment, change id), ids and moments as
# the driver gives them (see record_rows.raw).
EventRow = tuple[Any, str, str | None, str | None, Any, Any]
ActivityRow = tuple[Any, Any]
# What a field is while an imported-closed deal was open and its history says nothing.
_UNKNOWN_OPEN: Final[dict[str, Any]] = {"stage": _NONE, "close_date": 0, "probability": np.nan}


def micros(moment: datetime) -> int:
    """``moment`` in whole microseconds since the epoch (naive: UTC)."""
    return (as_utc(moment) - _EPOCH) // _MICROSECOND


def _moment(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def earliest_created(db: Database, workspace_id: uuid.UUID) -> datetime | None:
    """When the workspace's first deal was created (None: it has no deals)."""
    with db.read() as session:
        first = session.exec(
            select(func.min(Deal.created_at)).where(Deal.workspace_id == workspace_id)
        ).one()
    if isinstance(first, str):  # SQLite returns aggregates untyped
        first = datetime.fromisoformat(first)
    return as_utc(first) if first is not None else None


def records_as_of(
    db: Database, workspace_id: uuid.UUID, current: Sequence[DealRecord], moment: datetime
) -> list[DealRecord]:
    """``current`` (the workspace's records today, as the store reads them) as they stood
    at ``moment``: the deals created by then, each with its fields of then."""
    return WorkspaceHistory.load(db, workspace_id, current).at(moment)


class _Texts:
    """Codes of the texts the history holds (stages, outcomes, owner ids): arrays compare
    and index small integers, not strings."""

    def __init__(self) -> None:
        self.texts: list[str] = ["", "closed", "won"]
        self.codes: dict[str, int] = {text: i for i, text in enumerate(self.texts)}

    def code(self, text: str | None) -> int:
        if text is None:
            return _NONE
        found = self.codes.get(text)
        if found is None:
            found = self.codes[text] = len(self.texts)
            self.texts.append(text)
        return found

    def codes_of(self, texts: Sequence[str | None]) -> NDArray[np.int64]:
        codes = {text: self.code(text) for text in set(texts)}
        return np.fromiter(map(codes.__getitem__, texts), dtype=np.int64, count=len(texts))


@dataclass(frozen=True)
class _Times:
    """Moments (microseconds) grouped by deal, each deal's in order: one field's changes
    or the activities."""

    at: NDArray[np.int64]
    first: NDArray[np.int64]  # per deal, where its moments start
    count: NDArray[np.int64]  # per deal, how many there are

    @classmethod
    def of(cls, deal: NDArray[np.int64], at: NDArray[np.int64], deals: int) -> _Times:
        """Moments in any order, grouped by deal and put in order."""
        order = np.lexsort((at, deal))
        count = np.bincount(deal, minlength=deals).astype(np.int64)
        return cls(at[order], np.cumsum(count) - count, count)

    def made_by(self, moment: int) -> NDArray[np.int64]:
        """Per deal, how many of its moments are at or before ``moment``."""
        done = np.zeros(len(self.at) + 1, dtype=np.int64)
        np.cumsum(self.at <= moment, out=done[1:])
        return done[self.first + self.count] - done[self.first]

    def last(self, made: NDArray[np.int64], today: NDArray[np.int64]) -> NDArray[np.int64]:
        """Per deal, its last moment of the ``made`` ones, else ``today``'s."""
        found = today.copy()
        known = made > 0
        found[known] = self.at[(self.first + made - 1)[known]]
        return found


@dataclass(frozen=True)
class _Changes(_Times):
    """One field's changes: what each replaced and what it became, in the field's own
    terms (text codes, numbers, day ordinals)."""

    old: NDArray[Any]
    new: NDArray[Any]

    def then(
        self, made: NDArray[np.int64], today: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        """(per deal the field at the moment ``made`` counts changes by, whether the history
        says so): the last change by then, else what the first later change replaced,
        else today's."""
        value = today.copy()
        said = self.count > 0
        value[said] = self.old[self.first[said]]
        known = made > 0
        value[known] = self.new[(self.first + made - 1)[known]]
        return value, said


@dataclass(frozen=True)
class _Then:
    """Every deal at one moment, as arrays (codes of texts, NaN or 0 for none)."""

    moment: int
    exists: NDArray[np.bool_]
    closed: NDArray[np.bool_]
    recorded: NDArray[np.bool_]  # whether its outcome history says it was closed or open
    outcome: NDArray[np.int64]  # what the outcome history says (closed: else today's)
    closed_at: NDArray[np.int64]
    has_closed_at: NDArray[np.bool_]  # closed, at a known moment
    closing_known: NDArray[np.bool_]  # closed_at is that of its last closing change by then


@dataclass(frozen=True)
class _Fields:
    """The tracked fields of deals at a moment, for the deals asked about."""

    stage: NDArray[np.int64]
    value: NDArray[np.float64]
    probability: NDArray[np.float64]
    close_day: NDArray[np.int64]  # proleptic ordinal; 0: none
    owner: NDArray[np.int64]
    stage_changed: NDArray[np.int64]
    last_activity: NDArray[np.int64]
    has_activity: NDArray[np.bool_]


@dataclass(frozen=True)
class Closings:
    """The deals that closed in a span, as they stood at its end, in ``current``'s order."""

    position: NDArray[np.int64]  # in the history's ``current``
    won: NDArray[np.bool_]
    closed_at: NDArray[np.int64]  # microseconds
    value: NDArray[np.float64]  # NaN: none
    owner: list[str | None]


class WorkspaceHistory:
    """A workspace's records and their history, read once: as many past moments as a
    backtest or a model's training asks for are rebuilt in memory."""

    def __init__(
        self,
        current: Sequence[DealRecord],
        events: Sequence[EventRow],
        activities: Sequence[ActivityRow],
        observed: Sequence[tuple[Any, Any]] = (),
    ) -> None:
        """``events`` and ``activities`` in any order: each deal's changes of a field are
        put in the order made, by moment, then by id (changes made at one moment are
        rare, and the order the per-deal rebuilding read them in). ``observed``: (deal
        id, moment) of the deals the store first saw after their creation."""
        self.current = current
        deals = len(current)
        texts = self._texts = _Texts()
        fields_of = attrgetter(
            "id",
            "created_at",
            "closed_at",
            "stage",
            "outcome",
            "owner_id",
            "value",
            "probability",
            "close_date",
            "last_open_stage",
        )
        records = _columns(list(map(fields_of, current)), 10)
        ids = records[0]
        self._created = np.array(
            [_NEVER if at is None else (at - _EPOCH) // _MICROSECOND for at in records[1]],
            dtype=np.int64,
        )
        self._has_closed_at = np.array([at is not None for at in records[2]], dtype=np.bool_)
        self._closed_at = np.array(
            [0 if at is None else (at - _EPOCH) // _MICROSECOND for at in records[2]],
            dtype=np.int64,
        )
        today: dict[str, NDArray[Any]] = {
            "stage": texts.codes_of(records[3]),
            "outcome": texts.codes_of(records[4]),
            "owner": texts.codes_of(records[5]),
            "value": _numbers(records[6]),
            "probability": _numbers(records[7]),
            "close_date": _days(records[8]),
        }
        self._today = today
        self._last_open = texts.codes_of(records[9])
        # How the source records amounts, not any deal's outcome: read from today's deals.
        self.amounts_at_close = amounts_at_close(records[4], records[6])
        self._unknown_open = dict(_UNKNOWN_OPEN)
        if self.amounts_at_close:
            self._unknown_open["value"] = np.nan

        rows = _columns(events, 5)
        activity_rows = _columns(activities, 2)
        observed_rows = _columns(observed, 2)
        index = _index([*rows[0][:1], *activity_rows[0][:1], *observed_rows[0][:1]], ids)
        # 0 (the epoch): seen from its creation, every moment of it after that.
        self._observed = np.zeros(deals, dtype=np.int64)
        seen = _positions(observed_rows[0], index)
        self._observed[seen[seen >= 0]] = _micros_column(observed_rows[1])[seen >= 0]
        deal = _positions(rows[0], index)
        number = {name: i for i, name in enumerate(_READ)}
        field = _codes(rows[1], number)
        at = _micros_column(rows[4])
        # Each distinct text once: what it is as a number, a day and a text code, read by
        # the fields of each kind (a few thousand texts for 700,000 changes).
        distinct = list({*rows[2], *rows[3]})
        code_of = {text: i for i, text in enumerate(distinct)}
        olds, news = _codes(rows[2], code_of), _codes(rows[3], code_of)
        parsed = {"value": _numbers(distinct), "close_date": _days(distinct)}
        parsed |= {"probability": parsed["value"], "": texts.codes_of(distinct)}
        # Each deal's changes of a field together, in the order made.
        kept = np.flatnonzero((deal >= 0) & (field >= 0))
        group = deal * len(_READ) + field
        order = kept[np.lexsort((at[kept], group[kept]))]
        order = _ties_by_id(order, group, at, events)
        in_order = field[order]
        self._changes: dict[str, _Changes] = {}
        for code, name in enumerate(_READ):
            chosen = order[in_order == code]
            count = np.bincount(deal[chosen], minlength=deals).astype(np.int64)
            first = np.cumsum(count) - count
            meaning = parsed.get(name, parsed[""])
            self._changes[name] = _Changes(
                at[chosen], first, count, meaning[olds[chosen]], meaning[news[chosen]]
            )
        self._truthy = np.array([bool(text) for text in texts.texts] + [False])
        self._text_or_none: list[str | None] = [*texts.texts, None]  # code -1: None
        self._feature = np.array(
            [stage_feature(text) for text in texts.texts] + [stage_feature(None)],
            dtype=np.intp,
        )
        stage = self._changes["stage"]
        has = stage.count > 0
        start = stage.first[has]
        # Imported already closed: the history begins at the close.
        self._born_closed = np.zeros(deals, dtype=np.bool_)
        self._born_closed[has] = (stage.old[start] == _NONE) & (stage.new[start] == _CLOSED)
        outcome = self._changes["outcome"]
        self._closings = _subset(outcome, self._truthy[outcome.new])
        self._into_closed = _subset(stage, stage.new == _CLOSED)

        owner = _positions(activity_rows[0], index)
        known_deal = owner >= 0
        self._activities = _Times.of(
            owner[known_deal], _micros_column(activity_rows[1])[known_deal], deals
        )
        self._last: _Then | None = None
        known = self._created[self._created != _NEVER]
        self.first_created = _moment(int(known.min())) if len(known) else None
        # The first close the store knows of: today's closed deals' and any the history
        # records (a deal closed then and reopened since).
        closes = np.concatenate(
            [
                self._closed_at[self._has_closed_at & self._truthy[today["outcome"]]],
                self._closings.at,
            ]
        )
        self.first_closed = _moment(int(closes.min())) if len(closes) else None

    @classmethod
    def load(
        cls, db: Database, workspace_id: uuid.UUID, current: Sequence[DealRecord]
    ) -> WorkspaceHistory:
        """The history of ``current``, the records of the workspace's deals today."""
        deals = sa_select(col(Deal.id)).where(col(Deal.workspace_id) == workspace_id)
        in_workspace: ColumnElement[bool] = col(DealEvent.deal_id).in_(deals)
        with db.read() as session:
            connection = session.connection()
            if db.is_sqlite:
                everyone = connection.execute(sa_select(func.count()).select_from(Deal)).scalar()
                if len(current) >= _SCAN_SHARE * (everyone or 0):
                    # The workspace is most of the database: one pass over the table reads
                    # its changes in half the time of looking each deal's up in the index
                    # (the others' are left out as they are read).
                    in_workspace = true()
            # Ids and moments as the driver gives them (see record_rows): converting
            # 700,000 of each through their column types was most of a team's load. In
            # no order: sorted in memory, the database's sort took a fifth of the read.
            events = _fetch(
                connection,
                sa_select(
                    _key(db, col(DealEvent.deal_id)),
                    col(DealEvent.field),
                    col(DealEvent.old_value),
                    col(DealEvent.new_value),
                    _microseconds(db, col(DealEvent.changed_at)),
                    raw(col(DealEvent.id)),
                ).where(in_workspace, col(DealEvent.field).in_(_READ)),
            )
            activities = _fetch(
                connection,
                sa_select(
                    _key(db, col(Activity.deal_id)), _microseconds(db, col(Activity.date))
                ).where(col(Activity.deal_id).in_(deals)),
            )
            observed = _fetch(
                connection,
                sa_select(_key(db, col(Deal.id)), _microseconds(db, col(Deal.observed_at))).where(
                    col(Deal.workspace_id) == workspace_id, col(Deal.observed_at).is_not(None)
                ),
            )
        return cls(current, events, activities, observed)

    # --------------------------------------------------------------------- records

    def closed_between(self, start: datetime, end: datetime) -> dict[str, DealRecord]:
        """The deals that closed after ``start`` and by ``end``, as they stood at ``end``
        (how, when and for how much they closed), by id. Read from the history, not from
        today's records: a deal closed then and reopened since still closed then."""
        then = self._then(micros(end))
        chosen = self._closed_in(then, micros(start))
        return {record.id: record for record in self._records(then, chosen)}

    def at(self, moment: datetime, *, open_only: bool = False) -> list[DealRecord]:
        """The deals created by ``moment``, each as it stood then (only those open then,
        with ``open_only``: the rest are not rebuilt at all)."""
        then = self._then(micros(moment))
        chosen = then.exists & ~then.closed if open_only else then.exists
        return self._records(then, np.flatnonzero(chosen))

    # ---------------------------------------------------------------------- arrays

    def closings(self, start: datetime, end: datetime) -> Closings:
        """:meth:`closed_between` as arrays, no record built."""
        then = self._then(micros(end))
        chosen = self._closed_in(then, micros(start))
        fields = self._fields(then, chosen)
        return Closings(
            chosen,
            then.outcome[chosen] == _WON,
            then.closed_at[chosen],
            fields.value,
            [self._text_or_none[code] for code in fields.owner.tolist()],
        )

    def won_amounts(self, moment: datetime) -> NDArray[np.float64]:
        """The amounts of the deals won in the year to ``moment`` (all won by then, when
        that year has fewer than :data:`_RECENT_WINS`): prices drift, and a year is as
        far back as an unknown amount's stand-in reaches while there are enough."""
        for start in (moment - timedelta(days=365), datetime.min.replace(tzinfo=UTC)):
            closed = self.closings(start, moment)
            amounts = closed.value[closed.won]
            if np.count_nonzero(amounts > 0) >= _RECENT_WINS:
                break
        return amounts

    def open_columns(
        self, moment: datetime
    ) -> tuple[NDArray[np.int64], DealColumns, NDArray[np.int64]]:
        """The deals open at ``moment`` (their positions in ``current``), their fields then
        as the features read them, and their owners then (codes: see :meth:`text`)."""
        then = self._then(micros(moment))
        chosen = np.flatnonzero(then.exists & ~then.closed)
        fields = self._fields(then, chosen)
        return (
            chosen,
            DealColumns(
                stage=self._feature[fields.stage],
                created=self._created[chosen].astype(np.float64),
                stage_changed=fields.stage_changed.astype(np.float64),
                value=fields.value,
                close_day=np.where(fields.close_day > 0, fields.close_day, np.nan),
                last_activity=np.where(fields.has_activity, fields.last_activity, np.nan),
                probability=fields.probability,
            ),
            fields.owner,
        )

    def text(self, code: int) -> str | None:
        """The text (an owner's id, a stage) of a code of :meth:`open_columns`' (-1: none)."""
        return self._text_or_none[code]

    @property
    def texts(self) -> int:
        """How many texts there are codes of (0 to this, less one)."""
        return len(self._text_or_none) - 1

    def ended(self, start: datetime, end: datetime) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Per deal of ``current``: (whether it closed after ``start`` and by ``end``, as
        :meth:`closed_between` says, whether it was won)."""
        then = self._then(micros(end))
        closed = np.zeros(len(self.current), dtype=np.bool_)
        closed[self._closed_in(then, micros(start))] = True
        return closed, closed & (then.outcome == _WON)

    # -------------------------------------------------------------------- rebuilding

    def _then(self, moment: int) -> _Then:
        # A training grid's cut-off is the end of the window before it: asked twice.
        last = self._last
        if last is not None and last.moment == moment:
            return last
        found = self._last = self._rebuilt(moment)
        return found

    def _rebuilt(self, moment: int) -> _Then:
        outcome = self._changes["outcome"]
        today = self._today["outcome"]
        said, recorded = outcome.then(outcome.made_by(moment), today)
        # Never changed since it was created, or imported closed: when did it close?
        unrecorded = (today != _NONE) & (~self._has_closed_at | (self._closed_at <= moment))
        closed = np.where(recorded, self._truthy[said], unrecorded)
        # Closed by then through the app: the history says when (today's record forgets
        # it if the deal has been reopened since).
        closing = self._closings
        made = closing.made_by(moment)
        closed_at = self._closed_at.copy()
        has_closed_at = self._has_closed_at.copy()
        known = recorded & (made > 0)
        closed_at[known] = closing.at[(closing.first + made - 1)[known]]
        has_closed_at[known] = True
        return _Then(
            moment,
            self._created <= moment,
            closed,
            recorded,
            # Closed by then: how it closed is not a later fact.
            np.where(closed & (said != _NONE), said, today),
            closed_at,
            has_closed_at & closed,
            known & closed,
        )

    def _closed_in(self, then: _Then, start: int) -> NDArray[np.int64]:
        return np.flatnonzero(
            then.exists
            & then.closed
            & self._truthy[then.outcome]
            & then.has_closed_at
            & (start < then.closed_at)
            & (then.closed_at <= then.moment)
        )

    def _tracked(
        self, name: str, then: _Then, chosen: NDArray[np.int64]
    ) -> tuple[NDArray[Any], NDArray[np.int64]]:
        """(field ``name`` of the ``chosen`` deals then, per deal how many of its changes
        of it were made by then)."""
        changes = self._changes[name]
        made = changes.made_by(then.moment)
        value, said = changes.then(made, self._today[name])
        value = value[chosen]
        if name in self._unknown_open:
            # Open then, and imported closed (only the close is known, not the open life)
            # or not yet seen by the store (see the module's note).
            unknown = ~then.closed[chosen] & (
                (self._born_closed[chosen] & ~said[chosen]) | (then.moment < self._observed[chosen])
            )
            value[unknown] = self._unknown_open[name]
        return value, made

    def _fields(self, then: _Then, chosen: NDArray[np.int64]) -> _Fields:
        stage, stage_made = self._tracked("stage", then, chosen)
        stage[stage == _NONE] = _EMPTY
        open_then = ~then.closed[chosen]
        born_closed = self._born_closed[chosen]
        left = open_then & ((stage == _CLOSED) | (born_closed & ~self._truthy[stage]))
        last_open = self._last_open[chosen][left]
        stage[left] = np.where(last_open == _NONE, _EMPTY, last_open)
        activities = self._activities
        made = activities.made_by(then.moment)
        return _Fields(
            stage,
            self._tracked("value", then, chosen)[0],
            self._tracked("probability", then, chosen)[0],
            self._tracked("close_date", then, chosen)[0],
            self._tracked("owner", then, chosen)[0],
            self._changes["stage"].last(stage_made, self._created)[chosen],
            activities.last(made, np.zeros_like(made))[chosen],
            made[chosen] > 0,
        )

    def _records(self, then: _Then, chosen: NDArray[np.int64]) -> list[DealRecord]:
        """The ``chosen`` deals as records of then."""
        fields = self._fields(then, chosen)
        text = self._text_or_none
        # The last change made by then of any field: the record's last update then.
        updated = self._created[chosen]
        made: dict[str, list[int]] = {}
        for name, changes in self._changes.items():
            done = changes.made_by(then.moment)
            updated = np.maximum(updated, changes.last(done, self._created)[chosen])
            made[name] = done[chosen].tolist()
        into = self._into_closed
        into_made = into.made_by(then.moment)[chosen].tolist()
        dates = self._changes["close_date"]
        slips_from = dates.first[chosen].tolist()
        slipped = dates.old.tolist()
        columns = zip(
            chosen.tolist(),
            then.closed[chosen].tolist(),
            then.recorded[chosen].tolist(),
            then.closing_known[chosen].tolist(),
            _moments(then.closed_at[chosen], then.closing_known[chosen]),
            [text[code] for code in then.outcome[chosen].tolist()],
            [text[code] or "" for code in fields.stage.tolist()],
            [text[code] for code in fields.owner.tolist()],
            [None if v != v else v for v in fields.value.tolist()],  # NaN: none
            [None if v != v else v for v in fields.probability.tolist()],
            fields.close_day.tolist(),
            _moments(updated),
            _moments(fields.stage_changed, np.array(made["stage"]) > 0),
            _moments(fields.last_activity, fields.has_activity),
            fields.has_activity.tolist(),
            made["stage"],
            made["close_date"],
            into_made,
            slips_from,
            strict=True,
        )
        found = []
        for (
            position,
            closed,
            recorded,
            closing_known,
            closed_at,
            outcome,
            stage,
            owner,
            value,
            probability,
            close_day,
            updated_at,
            stage_changed,
            last_activity,
            has_activity,
            stage_made,
            dates_made,
            into_closed,
            first_slip,
        ) in columns:
            record = self.current[position]
            left_from = None
            if closed:
                left_from = record.last_open_stage
                if recorded and into_closed:
                    # The stage it closed from (today's record forgets it if reopened since).
                    left_from = text[int(into.old[into.first[position] + into_closed - 1])]
            # The record's fields in their order, those of then in place of today's: the
            # same as dataclasses.replace, in half its time (100,000 records as of a day).
            values = list(_ALL_FIELDS(record))
            values[_OWNER] = owner
            values[_STAGE] = stage
            values[_OUTCOME] = outcome if closed else None
            values[_VALUE] = value
            values[_PROBABILITY] = probability
            values[_CLOSE_DATE] = date.fromordinal(close_day) if close_day > 0 else None
            if not closed:
                values[_LOST_REASON] = None
            values[_UPDATED_AT] = updated_at
            values[_STAGE_CHANGED_AT] = stage_changed if stage_made else record.created_at
            values[_CLOSED_AT] = (
                None if not closed else closed_at if closing_known else record.closed_at
            )
            values[_LAST_ACTIVITY_AT] = last_activity if has_activity else None
            values[_CLOSE_DATE_HISTORY] = (
                tuple(
                    date.fromordinal(day)
                    for day in slipped[first_slip : first_slip + dates_made]
                    if day > 0
                )
                if dates_made
                else ()
            )
            values[_LAST_OPEN_STAGE] = left_from
            found.append(DealRecord(*values))
        return found


def _moments(
    values: NDArray[np.int64], wanted: NDArray[np.bool_] | None = None
) -> list[datetime | None]:
    """Microseconds since the epoch as aware datetimes (numpy makes the naive ones), only
    those ``wanted`` (None for the others)."""
    if wanted is None:
        wanted = np.ones(len(values), dtype=np.bool_)
    found: list[datetime | None] = [None] * len(values)
    naive = values[wanted].astype("datetime64[us]").astype(object).tolist()
    for index, moment in zip(np.flatnonzero(wanted).tolist(), naive, strict=True):
        found[index] = moment.replace(tzinfo=UTC)
    return found


def _key(db: Database, column: Any) -> Any:
    """A deal id as text: SQLite's as stored (32 hex digits), Postgres's cast in the query
    (psycopg's UUID objects, then their text, were a fifth of a load)."""
    return raw(column) if db.is_sqlite else cast(column, String)


def _microseconds(db: Database, column: Any) -> Any:
    """A timestamp as stored on SQLite (naive UTC text, read by numpy in one go), in whole
    microseconds since the epoch on Postgres (an aware datetime each took longer to read
    and convert than the rest of a load)."""
    if db.is_sqlite:
        return raw(column)
    return cast(extract("epoch", column) * 1_000_000, BigInteger)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """``rows`` as columns. Not ``zip(*rows)``: its iterator per row, a million of them
    alive at once, set Python's collector walking them again and again."""
    return [list(map(itemgetter(i), rows)) for i in range(width)]


def _fetch(connection: Connection, query: Select[Any]) -> list[Any]:
    """The rows of ``query`` as the DBAPI cursor gives them: a row object each (what
    SQLAlchemy makes) took as long as the query for the million rows of a team's history."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _subset(changes: _Changes, chosen: NDArray[np.bool_]) -> _Changes:
    """Those of ``changes`` that are ``chosen``, grouped by deal as before."""
    deal = np.repeat(np.arange(len(changes.count)), changes.count)[chosen]
    count = np.bincount(deal, minlength=len(changes.count)).astype(np.int64)
    return _Changes(
        changes.at[chosen],
        np.cumsum(count) - count,
        count,
        changes.old[chosen],
        changes.new[chosen],
    )


def _index(keys: Sequence[Any], ids: Sequence[str]) -> dict[Any, int]:
    """Each record's position by its id in the form of ``keys`` (a sample of raw deal
    ids: 32 hex digits on SQLite, UUIDs on Postgres, read as their text)."""
    if keys and isinstance(keys[0], str) and len(keys[0]) == 32 and "-" not in keys[0]:
        return {deal_id.replace("-", ""): i for i, deal_id in enumerate(ids)}
    return {deal_id: i for i, deal_id in enumerate(ids)}


def _positions(keys: Sequence[Any], index: dict[Any, int]) -> NDArray[np.int64]:
    """Each raw deal id's position by ``index`` (-1: none of the records': another
    workspace's deal, or one deleted between the reads)."""
    if keys and not isinstance(keys[0], str):
        keys = [str(key) for key in keys]
    return _codes(keys, index)


def _codes(keys: Sequence[Any], codes: dict[Any, int]) -> NDArray[np.int64]:
    """Each key's code (-1: none)."""
    try:
        return np.fromiter(map(codes.__getitem__, keys), dtype=np.int64, count=len(keys))
    except KeyError:
        return np.array([codes.get(key, -1) for key in keys], dtype=np.int64)


def _ties_by_id(
    order: NDArray[np.int64],
    group: NDArray[np.int64],
    at: NDArray[np.int64],
    events: Sequence[EventRow],
) -> NDArray[np.int64]:
    """``order`` (by deal and field, then moment) with the changes of a deal's field made
    at one moment put in the order of their ids."""
    g, t = group[order], at[order]
    apart = np.r_[True, (g[1:] != g[:-1]) | (t[1:] != t[:-1])]
    if apart.all():
        return order
    order = order.copy()
    starts = np.flatnonzero(apart)
    ends = np.r_[starts[1:], len(order)]
    tied = ends - starts > 1
    for low, high in zip(starts[tied].tolist(), ends[tied].tolist(), strict=True):
        order[low:high] = sorted(order[low:high].tolist(), key=lambda row: events[row][5])
    return order


def _micros_column(values: Sequence[Any]) -> NDArray[np.int64]:
    """Timestamps as read (see :func:`_microseconds`; naive UTC ISO text, datetimes or
    microseconds) in microseconds since the epoch."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    if isinstance(values[0], int):  # microseconds already
        return np.array(values, dtype=np.int64)
    if isinstance(values[0], str):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # text with an offset: read one by one
                return np.array(values, dtype="datetime64[us]").astype(np.int64)
        except (ValueError, TypeError, Warning):
            pass
    return np.array(
        [micros(datetime.fromisoformat(v) if isinstance(v, str) else v) for v in values],
        dtype=np.int64,
    )


def _numbers(texts: Sequence[Any]) -> NDArray[np.float64]:
    """Stored texts (or today's numbers) as numbers, NaN where there is none."""
    numbers = {text: _number(text) for text in set(texts)}
    return np.fromiter(map(numbers.__getitem__, texts), dtype=np.float64, count=len(texts))


def _days(texts: Sequence[Any]) -> NDArray[np.int64]:
    """Stored texts (or today's dates) as proleptic day ordinals, 0 where there is none."""
    days = {text: _ordinal(text) for text in set(texts)}
    return np.fromiter(map(days.__getitem__, texts), dtype=np.int64, count=len(texts))


def _ordinal(text: Any) -> int:
    if isinstance(text, date):
        return text.toordinal()
    day = _day(text)
    return 0 if day is None else day.toordinal()


def _number(text: Any) -> float:
    if text is None or text == "":
        return np.nan
    try:
        return float(text)
    except ValueError:
        return np.nan


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
