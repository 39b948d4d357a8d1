"""Amounts of money as reps type them and as VectorOS shows them: one parser, one format.

Pure functions of their arguments (no Textual, no database), shared by the store's
validation, the forecast screen's goal prompt, the CLI and the widgets, so an amount the
CLI accepts is one the form accepts, and $45k looks the same on every screen.

Parsing
-------
``1200``, ``1200.50``, ``$1,200``, ``1 200``, ``€3,000``, ``USD 2,500``, ``750k``,
``1.2M``, ``$1.5m``. Refused, with a message that quotes the input: negatives (also
written ``(300)``), NaN and infinity, more than 10 trillion, and a comma that is not a
thousands separator (``1,20`` or ``3.000,50`` would be silently misread). Billions
(``2bn``) are not taken: no deal or goal in a rep's pipeline is that large, and ``b`` is
a typo of ``k`` or ``m`` more often than it is meant.

Formatting
----------
Full: ``$1,200`` (whole dollars; cents only below $100 when there are any: ``$49.50``).
Compact, for narrow columns: ``$999``, ``$1.2k``, ``$45k``, ``$450k``, ``$1.2M``.
"""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Final

MAX_AMOUNT: Final = 1e13
HINT: Final = "write it like 250000, $250,000, 250k or 1.2M"
NO_AMOUNT: Final = "—"

# Currency signs and codes, spaces (also the thin and no-break ones) and underscores
# carry no value: "$ 1 200", "USD 2,500", "1_000".
_NOISE: Final = re.compile(r"[\s$€£¥_]|usd|eur|gbp", re.IGNORECASE)
_GROUPED: Final = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_SUFFIXES: Final = {"k": 1e3, "m": 1e6}


class MoneyError(ValueError):
    """An amount that cannot be read.

    ``str()`` reads after a field name ("value must not be negative (got -5)", as the
    store reports it); :meth:`explain` stands alone and quotes the input ("'-5' is not an
    amount: it must not be negative"), for prompts and command-line options.
    """

    def __init__(self, message: str, *, text: str, problem: str) -> None:
        super().__init__(message)
        self.text = text
        self.problem = problem

    def explain(self) -> str:
        return f"{self.text!r} is not an amount: {self.problem}"


def parse_money(value: object) -> float:
    """The amount in ``value`` (text or a number), rounded to cents; raises MoneyError."""
    shown = str(value).strip()
    if isinstance(value, bool):
        raise MoneyError("must be a number", text=shown, problem="it must be a number")
    number = float(value) if isinstance(value, Real) else _read(str(value), shown)
    if not math.isfinite(number):
        raise MoneyError("must be a finite number", text=shown, problem="it must be finite")
    if number < 0:
        raise MoneyError(
            f"must not be negative (got {number:g})",
            text=shown,
            problem="it must not be negative",
        )
    if number > MAX_AMOUNT:
        raise MoneyError(
            "is implausibly large (over 10 trillion)",
            text=shown,
            problem="it is over 10 trillion",
        )
    return round(number, 2)


def _read(raw: str, shown: str) -> float:
    text = _NOISE.sub("", raw)
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]  # accountants' negative
    scale = _SUFFIXES.get(text[-1:].lower(), 1.0) if text[:-1][-1:].isdigit() else 1.0
    if scale != 1.0:
        text = text[:-1]
    if "," in text and not _GROUPED.fullmatch(text.lstrip("-")):
        raise MoneyError(
            f"{raw!r} is ambiguous; write it like 1200.50 or 1,200.50",
            text=shown,
            problem="the comma is ambiguous; write it like 1200.50 or 1,200.50",
        )
    try:
        return float(text.replace(",", "")) * scale
    except ValueError:
        raise MoneyError(f"{raw!r} is not an amount of money", text=shown, problem=HINT) from None


def format_money(value: object, *, compact: bool = False) -> str:
    """``$1,200`` (or ``$1.2k`` when ``compact``); "—" for None or anything not a number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return NO_AMOUNT
    number = float(value)
    if not math.isfinite(number):
        return NO_AMOUNT
    sign = "-" if number < 0 else ""
    amount = abs(number)
    if compact:
        return sign + _compact(amount)
    cents = round(amount * 100)
    if cents < 100 * 100 and cents % 100:
        return f"{sign}${cents / 100:.2f}"
    return f"{sign}${amount:,.0f}"


def _compact(amount: float) -> str:
    # Each unit is chosen by what the amount *rounds* to in it, so 999,999 is $1.0M rather
    # than $1000k, and 9,999 is $10k rather than $10.0k.
    thousands = amount / 1e3
    millions = amount / 1e6
    if round(millions, 1) >= 1000:
        return f"${millions:,.0f}M"
    if round(thousands) >= 1000:
        return f"${millions:.1f}M"
    if round(thousands, 1) >= 10:
        return f"${thousands:.0f}k"
    if round(amount) >= 1000:
        return f"${thousands:.1f}k"
    return f"${amount:,.0f}"
