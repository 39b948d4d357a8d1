"""Reading cells, decided per column: probabilities, money with a decimal comma, dates."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass

_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_TIME_SUFFIX = re.compile(
    r"^(?P<date>.+?)[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?"
    r"\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?$"
)
_MONEY_SYMBOLS = re.compile(r"[\s$€£¥_]|usd|eur|gbp|chf", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+),\d{1,2}$|^-?\d{1,3}(?:\.\d{3}){2,}$")
_DECIMAL_POINT = re.compile(r"^-?[\d,]*\d\.(?:\d{1,2}|\d{4,})$|^-?\d{1,3}(?:,\d{3}){2,}$")


def _fraction_probabilities(values: Iterable[str]) -> bool:
    fractional = False
    for text in values:
        if not text:
            continue
        if text.endswith("%"):
            return False
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            continue
        if not 0 <= number <= 1:
            return False
        fractional = fractional or 0 < number < 1
    return fractional


def _decimal_comma(values: Iterable[str]) -> bool:
    comma = point = False
    for text in values:
        bare = _MONEY_SYMBOLS.sub("", text)
        comma = comma or bool(_DECIMAL_COMMA.match(bare))
        point = point or bool(_DECIMAL_POINT.match(bare))
    return comma and not point


def _money_with_decimal_comma(text: str) -> str:
    bare = _MONEY_SYMBOLS.sub("", text)
    return bare.replace(".", "").replace(",", ".")


def _strip_time(text: str) -> str:
    found = _TIME_SUFFIX.match(text)
    return found.group("date") if found else text


@dataclass
class _DateOrder:
    day_first: bool
    example_day_first: tuple[int, str] | None = None
    example_month_first: tuple[int, str] | None = None
    # A date read month-first that could as well be day-first (03/04/2026, not 04/04).
    example_either: tuple[int, str] | None = None


def _date_order(cells: Iterable[tuple[int, str]], day_first: bool) -> _DateOrder:
    order = _DateOrder(day_first)
    for line, raw in cells:
        text = _strip_time(raw)
        found = _SLASH_DATE.match(text)
        if not found:
            continue
        first, second = int(found.group(1)), int(found.group(2))
        if first > 12 and second <= 12 and order.example_day_first is None:
            order.example_day_first = (line, raw)
        if second > 12 and first <= 12 and order.example_month_first is None:
            order.example_month_first = (line, raw)
        if first <= 12 and second <= 12 and first != second and order.example_either is None:
            order.example_either = (line, raw)
    if order.example_day_first and not order.example_month_first:
        order.day_first = True
    return order


def _month_first_in_words(raw: str) -> str:
    """A slash date read month-first, in words: ``03/04/2026`` is ``March 4, 2026``."""
    found = _SLASH_DATE.match(_strip_time(raw))
    if not found:
        return raw
    month, day, year = (int(part) for part in found.groups())
    return f"{calendar.month_name[month]} {day}, {year}"


def _date_cell(raw: str, order: _DateOrder) -> str:
    """The cell, ready for parse_calendar_date; ValueError when its order contradicts."""
    text = _strip_time(raw)
    found = _SLASH_DATE.match(text)
    if not found:
        return text
    first, second, year = found.groups()
    if order.day_first and int(second) > 12 and int(first) <= 12:
        raise ValueError(f"{raw!r} is not a day/month/year date, as the other dates are")
    if not order.day_first and int(first) > 12 and int(second) <= 12:
        line, example = order.example_month_first or (0, "")
        raise ValueError(
            f"{raw!r} is day/month/year but other dates are month/day/year "
            f"(line {line}: {example}); make them consistent"
        )
    return f"{first}/{second}/{year}"
