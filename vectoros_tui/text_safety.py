"""Text that must never drive a terminal: what is refused on the way in, and how stored text
is shown on the way out.

A deal title such as ``EVIL\\x1b]0;pwned\\x07\\x1b[2J`` would retitle and clear the terminal of
whoever lists it, and U+202E would reverse the text around it. So:

* input (forms, CLI flags, CSV cells, API bodies) refuses C0 and C1 control characters, DEL
  and the Unicode bidi overrides and isolates, tab and newline only where a field is
  multi-line (:func:`unsafe_character`);
* output of anything already stored or pulled from a server shows those characters as
  visible escapes (:func:`visible`), so nothing in a database can reach a terminal. JSON
  output is left exact: JSON escapes control characters itself.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u202a-\u202e\u2066-\u2069"
# Everything a terminal may act on, and the invisible reordering characters.
# Half of a UTF-16 pair, alone: what an undecodable byte in a command line or a JSON
# "\ud800" escape becomes; no database can store it.
_SURROGATES = "\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_UNSAFE_WITH_TAB = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
# Multi-line fields keep tab and newline.
_UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_BIDI_CHAR = re.compile(f"[{_BIDI}]")

_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "backspace",
    0x09: "tab",
    0x0A: "newline",
    0x0D: "carriage return",
    0x1B: "ESC",
    0x7F: "DEL",
    0x9B: "CSI",
}


def describe(char: str) -> str:
    code = ord(char)
    name = _NAMES.get(code) or unicodedata.name(char, "")
    if 0x80 <= code <= 0x9F and code not in _NAMES:
        name = "C1 control"
    elif code < 0x20 and not name:
        name = "control"
    return f"U+{code:04X}" + (f" ({name.lower() if code > 0xFF else name})" if name else "")


def unsafe_character(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with ``text``, or None: e.g. ``control character U+001B (ESC) at
    character 5``. Tab and newline are allowed only when ``multiline``."""
    match = (_UNSAFE_MULTILINE if multiline else _UNSAFE_WITH_TAB).search(text)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return (
            f"is not valid text (a byte that is not UTF-8, U+{ord(char):04X}) at character "
            f"{match.start() + 1}"
        )
    kind = "bidi control" if _BIDI_CHAR.match(char) else "control"
    return f"contains the {kind} character {describe(char)} at character {match.start() + 1}"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character a terminal could act on shown as an escape (``\\x1b``,
    ``\\u202e``). Newlines are kept when ``multiline``; tabs always (they only move the
    cursor within the line)."""
    pattern = _UNSAFE_MULTILINE if multiline else _UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def is_safe(text: str, *, multiline: bool = False) -> bool:
    """True when :func:`visible` would leave ``text`` as it is."""
    return (_UNSAFE_MULTILINE if multiline else _UNSAFE).search(text) is None


# JSON escapes C0 itself; these pass through json.dumps(ensure_ascii=False) as they are.
_RAW_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")


def json_for_terminal(text: str) -> str:
    """JSON text with DEL, C1 controls and bidi characters written as ``\\uXXXX``: the same
    JSON value, but nothing in it a terminal could act on."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
