"""The deal as the engine reads it: one frozen, typed record.

The store builds these once, from clean rows, with the derived history fields filled in
(last activity, close-date slips, the stage a closed deal left). The forecast, health
scores, insight rules, funnel and the screens all read the same attributes, and none of
them re-validates what the store already cleaned.

JSON field names (``closeDate``, ``stageChangedAt``, …) belong to the edges: the CLI's
JSON, the server and the sync. :func:`record_from_mapping` is the one reader of a deal
mapping in those names (the seed's API shape); it says exactly which field is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from vectoros_tui.engine.dates import parse_date, parse_datetime
from vectoros_tui.engine.stages import UnknownStageError, normalise_stage

# A quadrillion is far past any real deal and keeps sums of 10**6 deals finite, so no
# statistic can overflow to inf or NaN.
MAX_DEAL_VALUE: Final = 1e15


class DealInputError(ValueError):
    """A deal field the engine cannot use; the message names the deal and the field."""


@dataclass(frozen=True, slots=True)
class DealRecord:
    """One deal. ``value`` and ``probability`` are ``None`` only when a mapping left them
    out (the store always has both); ``probability`` is the rep's call in percent.

    ``stage`` is canonical (``prospect`` … ``closed``); a name this version does not know
    is kept as given (stripped), and ``""`` means none was given. ``outcome`` is ``won``,
    ``lost`` or ``None`` (open), including the outcome a stage alias such as ``won``
    implies. Timestamps are timezone-aware UTC.
    """

    id: str
    title: str = ""
    stage: str = ""
    value: float | None = None
    probability: float | None = None
    outcome: str | None = None
    company: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    close_date: date | None = None
    lost_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stage_changed_at: datetime | None = None
    closed_at: datetime | None = None
    last_activity_at: datetime | None = None
    # Earlier close dates, oldest first (each time the close date moved, the one it left).
    close_date_history: tuple[date, ...] = ()
    # For a closed deal: the open stage it left the funnel from, when the history says.
    last_open_stage: str | None = None
    # The user who owns the deal (a member of its workspace), by id; None: nobody.
    owner_id: str | None = None
    # What happens next on the deal and by when (None: nobody has said).
    next_step: str | None = None
    next_step_due: date | None = None
    # The store's row version, which an edit made from this record must name (optimistic
    # concurrency); 0 for a deal that did not come from the store.
    version: int = 0

    @property
    def is_open(self) -> bool:
        """No outcome and not in the closed stage. A deal with an unknown stage name is
        open: hiding it would hide a risk."""
        return self.outcome is None and self.stage != "closed"

    @property
    def label(self) -> str:
        """How error messages name a deal: its id, else its title."""
        if self.id:
            return self.id
        return repr(self.title) if self.title else "<no id>"

    @property
    def weighted_value(self) -> float:
        """Value times the rep's probability: the one meaning of "weighted" the board, the
        status line and the forecast's deal table share."""
        return (self.value or 0.0) * (self.probability or 0.0) / 100.0


# --------------------------------------------------------------------------- the edge


def _label(mapping: Mapping[str, Any]) -> str:
    for key in ("id", "title"):
        value = mapping.get(key)
        if value not in (None, ""):
            return repr(value) if key == "title" else str(value)
    return "<no id>"


def _number(mapping: Mapping[str, Any], key: str, high: float, unit: str) -> float | None:
    raw = mapping.get(key)
    if raw is None or raw == "":
        return None
    # bool is an int subclass; True would otherwise read as 1.
    if isinstance(raw, bool):
        raise DealInputError(f"deal {_label(mapping)}: {key} must be a number, got {raw!r}")
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise DealInputError(
            f"deal {_label(mapping)}: {key} must be a number, got {raw!r}"
        ) from None
    if not 0.0 <= number <= high:  # also rejects NaN and infinities
        raise DealInputError(f"deal {_label(mapping)}: {key} must be {unit}, got {raw!r}")
    return number


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    raw = mapping.get(key)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _moment(mapping: Mapping[str, Any], key: str) -> datetime | None:
    return parse_datetime(mapping.get(key))


def _close_date(mapping: Mapping[str, Any]) -> date | None:
    raw = mapping.get("closeDate")
    if raw is None or raw == "":
        return None
    close = parse_date(raw)
    if close is None:
        # Dropping or keeping a deal with an unreadable date would both silently skew a
        # forecast, so make the caller fix it.
        raise DealInputError(f"deal {_label(mapping)}: closeDate must be an ISO date, got {raw!r}")
    return close


def _stage(mapping: Mapping[str, Any]) -> tuple[str, str | None]:
    raw = mapping.get("stage")
    if not isinstance(raw, str) or not raw.strip():
        return "", None
    try:
        return normalise_stage(raw)
    except UnknownStageError:
        # Kept under its own name: it labels a breakdown, it should not sink a forecast.
        return raw.strip(), None


def _outcome(mapping: Mapping[str, Any], implied: str | None) -> str | None:
    raw = mapping.get("outcome")
    outcome = raw.strip().lower() if isinstance(raw, str) else raw
    if not outcome:
        return implied
    if outcome not in ("won", "lost"):
        raise DealInputError(
            f"deal {_label(mapping)}: outcome must be won, lost or empty, got {raw!r}"
        )
    return str(outcome)


def record_from_mapping(mapping: Mapping[str, Any]) -> DealRecord:
    """A deal in the seed's JSON shape (camelCase keys) as a record.

    Raises :class:`DealInputError` naming the deal and the field for a value, probability,
    close date or outcome the engine cannot use; silently clamping or dropping one would
    hide a data problem behind a plausible forecast. Unknown stage names are kept.
    """
    if not isinstance(mapping, Mapping):
        raise DealInputError(f"a deal must be a mapping, got {type(mapping).__name__}")
    stage, implied = _stage(mapping)
    history = tuple(
        d for raw in mapping.get("closeDateHistory") or () if (d := parse_date(raw)) is not None
    )
    last_open = mapping.get("lastOpenStage")
    raw_id = mapping.get("id")
    return DealRecord(
        id="" if raw_id is None else str(raw_id),
        title=str(mapping.get("title") or "").strip(),
        stage=stage,
        value=_number(
            mapping, "value", MAX_DEAL_VALUE, f"an amount between 0 and {MAX_DEAL_VALUE:,.0f}"
        ),
        probability=_number(mapping, "probability", 100.0, "between 0 and 100"),
        outcome=_outcome(mapping, implied),
        company=_text(mapping, "company"),
        contact_name=_text(mapping, "contactName"),
        contact_email=_text(mapping, "contactEmail"),
        close_date=_close_date(mapping),
        lost_reason=_text(mapping, "lostReason"),
        created_at=_moment(mapping, "createdAt"),
        updated_at=_moment(mapping, "updatedAt"),
        stage_changed_at=_moment(mapping, "stageChangedAt"),
        closed_at=_moment(mapping, "closedAt"),
        last_activity_at=_moment(mapping, "lastActivityAt"),
        close_date_history=history,
        last_open_stage=str(last_open) if last_open else None,
    )


def records_from_mappings(mappings: Iterable[Mapping[str, Any]]) -> list[DealRecord]:
    """:func:`record_from_mapping` over a list; the error names the deal's position when
    it has neither id nor title."""
    records = []
    for position, mapping in enumerate(mappings):
        if not isinstance(mapping, Mapping):
            raise DealInputError(
                f"deal #{position} must be a mapping, got {type(mapping).__name__}"
            )
        try:
            records.append(record_from_mapping(mapping))
        except DealInputError as error:
            message = str(error)
            if "<no id>" not in message:
                raise
            raise DealInputError(message.replace("<no id>", f"#{position}", 1)) from None
    return records
