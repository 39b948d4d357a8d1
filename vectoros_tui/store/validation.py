"""Validation of deal and activity input, with messages that say what is wrong and where.

Input arrives as text (CLI flags, CSV cells, form fields) or as typed values (API, tests);
both go through the same parsers so the form never accepts what the store would reject.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from vectoros_tui.engine.stages import (
    DEFAULT_PROBABILITY,
    OUTCOMES,
    UnknownStageError,
    normalise_stage,
)
from vectoros_tui.money import parse_money
from vectoros_tui.text_safety import unsafe_character

ACTIVITY_TYPES = ("email", "call", "meeting", "note")
MAX_TITLE = 200
MAX_TEXT = 200
MAX_LOST_REASON = 500
MAX_NEXT_STEP = 500
MAX_DESCRIPTION = 4000
# Dates a deal may plausibly carry; 0001-01-01 or 9999-12-31 are typos or placeholders.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
MAX_EMAIL = 320  # the longest address SMTP allows (64 local + @ + 255 domain)
# Deliberately simple: one @, a dot in the domain, no spaces. Full RFC 5322 would accept
# things no mail server delivers to, and reject nothing a rep would actually type.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Date formats accepted after ISO 8601. Slash dates are month-first (US) unless the first
# number is > 12, or the caller asks for day-first.
_DATE_FORMATS = (
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%Y%m%d",
)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(ValueError):
    """One or more fields are invalid; ``errors`` lists each with its field name."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    def for_field(self, field: str) -> str | None:
        return next((e.message for e in self.errors if e.field == field), None)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_probability(value: object) -> int:
    """A whole percentage 0-100; ``"60"``, ``"60%"`` and ``60.0`` are fine, ``60.5`` is not."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number from 0 to 100")
    if isinstance(value, int):
        number: float = value
    else:
        text = str(value).strip().rstrip("%").strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number; use a whole number 0-100") from None
    if isinstance(number, float) and (math.isnan(number) or not number.is_integer()):
        raise ValueError(f"must be a whole number from 0 to 100 (got {value})")
    if not 0 <= number <= 100:
        raise ValueError(f"must be between 0 and 100 (got {value})")
    return int(number)


_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def ambiguous_date(value: object) -> str | None:
    """Why a slashed date could be read two ways (``01/02/2027``: 1 February or 2 January),
    or None. Forms refuse such dates instead of guessing the rep's date order."""
    match = _SLASHED.fullmatch(str(value or "").strip())
    if match is None:
        return None
    first, second, year = (int(g) for g in match.groups())
    if first > 12 or second > 12 or first == second:
        return None
    try:
        month_first, day_first = date(year, first, second), date(year, second, first)
    except ValueError:
        return None
    return (
        f"{value!r} could be {month_first:%-d %B} or {day_first:%-d %B}; write "
        f"{month_first.isoformat()} or {day_first.isoformat()}"
    )


def parse_calendar_date(value: object, *, day_first: bool = False) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    year_first = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    if year_first:
        try:
            return date(*(int(g) for g in year_first.groups()))
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
    slash = re.fullmatch(r"(\d{1,2})([/.])(\d{1,2})[/.](\d{4})", text)
    if slash:
        first_text, separator, second_text, year_text = slash.groups()
        # Dotted dates are day-first wherever dots are used (31.12.2026, 01.10.2026).
        day_first = day_first or separator == "."
        first, second, year = int(first_text), int(second_text), int(year_text)
        month, day = (second, first) if day_first or first > 12 else (first, second)
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"cannot read {text!r} as a date; use YYYY-MM-DD")


def in_range(day: date) -> date:
    """``day``, or ValueError when it is outside the years every date field accepts."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"{day.isoformat()} is out of range ({EARLIEST_DATE.year}-{LATEST_DATE.year})"
        )
    return day


def parse_timestamp(value: object) -> datetime:
    """A moment in time (activity dates). A bare date means midnight UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        day = parse_calendar_date(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def clean_text(value: object, limit: int, *, multiline: bool = False) -> str | None:
    """Stripped text of at most ``limit`` characters, or None when blank. Characters that
    could drive a terminal are refused (tab and newline only when ``multiline``)."""
    if _blank(value):
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise ValueError(f"is too long ({len(text)} characters, at most {limit})")
    problem = unsafe_character(text, multiline=multiline)
    if problem is not None:
        raise ValueError(problem)
    return text


DEAL_FIELDS = (
    "title",
    "company",
    "value",
    "stage",
    "probability",
    "contact_name",
    "contact_email",
    "close_date",
    "outcome",
    "lost_reason",
)
# When the source CRM created a deal and when it closed (won or lost), as an import of its
# history gives them (aware datetimes): not fields a rep edits, but the history forecasts
# learn from and as-of views are rebuilt from.
HISTORY_FIELDS = ("created_at", "closed_at")
# What happens next on a deal and by when: kept and edited like the other fields, but not
# sent to the team backend by sync (the seed's API has no such fields), so a pull never
# clears them. :func:`clean_deal` cleans them only when given.
NEXT_STEP_FIELDS = ("next_step", "next_step_due")
# The same fields as the seed platform's JSON names them (camelCase), for the REST API.
DEAL_JSON_NAMES = {
    name: re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name) for name in DEAL_FIELDS
}


def clean_deal(
    data: Mapping[str, Any], *, day_first: bool = False, refuse_ambiguous: bool = False
) -> dict[str, Any]:
    """Validate a whole deal (all of DEAL_FIELDS; missing ones count as empty).

    Returns typed values. Raises :class:`ValidationError` listing every problem, so a form
    can show them all at once. Stage aliases are applied: ``won``/``lost`` become stage
    ``closed`` with that outcome, ``lead`` becomes ``prospect``.
    """
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    unknown = set(data) - set(DEAL_FIELDS) - set(NEXT_STEP_FIELDS)
    for name in sorted(unknown):
        errors.append(FieldError(name, f"is not a deal field (fields: {', '.join(DEAL_FIELDS)})"))

    def run(field: str, parse: Any) -> None:
        try:
            out[field] = parse(data.get(field))
        except ValueError as exc:
            errors.append(FieldError(field, str(exc)))

    def title(value: object) -> str:
        text = clean_text(value, MAX_TITLE)
        if text is None:
            raise ValueError("must not be empty")
        return text

    def email(value: object) -> str | None:
        text = clean_text(value, MAX_EMAIL)
        if text is not None and not EMAIL_PATTERN.match(text):
            raise ValueError(f"{text!r} is not a valid email address")
        return text

    run("title", title)
    run("company", lambda v: clean_text(v, MAX_TEXT))
    run("value", lambda v: 0.0 if _blank(v) else parse_money(v))
    run("probability", lambda v: None if _blank(v) else parse_probability(v))
    run("contact_name", lambda v: clean_text(v, MAX_TEXT))
    run("contact_email", email)

    def close_date(value: object) -> date | None:
        if _blank(value):
            return None
        if refuse_ambiguous and (reason := ambiguous_date(value)):
            raise ValueError(reason)
        return in_range(parse_calendar_date(value, day_first=day_first))

    run("close_date", close_date)
    run("lost_reason", lambda v: clean_text(v, MAX_LOST_REASON))
    if "next_step" in data:
        run("next_step", lambda v: clean_text(v, MAX_NEXT_STEP))
    if "next_step_due" in data:
        run("next_step_due", close_date)

    implied: str | None = None
    stage_value = data.get("stage")
    if _blank(stage_value):
        errors.append(FieldError("stage", "must not be empty"))
    else:
        try:
            out["stage"], implied = normalise_stage(str(stage_value))
        except UnknownStageError as exc:
            errors.append(FieldError("stage", str(exc)))

    outcome_value = data.get("outcome")
    outcome = None if _blank(outcome_value) else str(outcome_value).strip().lower()
    if outcome in ("open", "none"):
        outcome = None
    if outcome is not None and outcome not in OUTCOMES:
        errors.append(FieldError("outcome", f"must be won, lost or empty (got {outcome_value!r})"))
    elif implied and outcome and implied != outcome:
        errors.append(
            FieldError("outcome", f"stage {stage_value!r} contradicts outcome {outcome!r}")
        )
    else:
        out["outcome"] = outcome or implied

    stage, final_outcome = out.get("stage"), out.get("outcome")
    if out.get("probability", 0) is None:
        # No probability given: the stage's usual one (won 100, lost 0).
        closed_default = {"won": 100, "lost": 0}.get(final_outcome or "", 0)
        out["probability"] = DEFAULT_PROBABILITY.get(stage or "", closed_default)
    if stage is not None and "outcome" in out:
        if final_outcome and stage != "closed":
            errors.append(
                FieldError(
                    "outcome", f"a deal marked {final_outcome} must be in stage closed (is {stage})"
                )
            )
        elif stage == "closed" and not final_outcome:
            errors.append(FieldError("outcome", "a closed deal needs an outcome: won or lost"))
    if out.get("lost_reason") and final_outcome != "lost" and "outcome" in out:
        errors.append(FieldError("lost_reason", "only lost deals have a lost reason"))

    if errors:
        raise ValidationError(errors)
    return out


def clean_activity(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    kind = str(data.get("type") or "").strip().lower()
    if kind not in ACTIVITY_TYPES:
        errors.append(
            FieldError("type", f"must be one of {', '.join(ACTIVITY_TYPES)} (got {kind!r})")
        )
    out["type"] = kind
    try:
        text = clean_text(data.get("description"), MAX_DESCRIPTION, multiline=True)
        if text is None:
            raise ValueError("must not be empty")
        out["description"] = text
    except ValueError as exc:
        errors.append(FieldError("description", str(exc)))
    when = data.get("date")
    try:
        moment = datetime.now(UTC) if _blank(when) else parse_timestamp(when)
        in_range(moment.date())
        out["date"] = moment
    except OverflowError:  # a year-1 time with an offset: before the first UTC instant
        errors.append(FieldError("date", f"{when!r} is out of range"))
    except ValueError as exc:
        errors.append(FieldError("date", str(exc)))
    done = data.get("done", True)
    if isinstance(done, bool):
        out["done"] = done
    else:
        errors.append(FieldError("done", f"must be true or false (got {done!r})"))
    if errors:
        raise ValidationError(errors)
    return out
