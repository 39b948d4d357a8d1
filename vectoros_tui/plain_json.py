"""JSON by orjson, as the CLI prints it: the CLI's output and the results the store keeps
both go through here, so a kept result read back is the very text a fresh one prints; and
JSON read back from the database's JSON columns."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# What makes orjson's text the standard library's json.dumps(ensure_ascii=False,
# default=str): dates and dataclasses go through ``default`` too.
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _plain(value: Any) -> Any:
    # numpy's float64 is a float to the standard library, a stranger to orjson.
    return float(value) if isinstance(value, float) else str(value)


def dumps(data: Any, *, indent: bool = False) -> bytes:
    """Raises ``TypeError`` (orjson.JSONEncodeError) for what orjson refuses: an integer
    past 64 bits."""
    return orjson.dumps(
        data, default=_plain, option=_OPTIONS | (orjson.OPT_INDENT_2 if indent else 0)
    )


def column_text(data: Any) -> str:
    """A JSON column's text as the store writes it (the engines' serializer, and what an
    unchanged insight is compared against): orjson's, a fifth of the standard library's
    time for a team's 33,000 insights. NaN, which JSON has no word for, is written null;
    a document with an integer past 64 bits takes the standard library's path."""
    try:
        return dumps(data).decode()
    except TypeError:
        return json.dumps(data, default=str)


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """What json.loads reads, at orjson's speed: psycopg decoded a workspace's 33,000
    insights' JSON columns with the standard library in 0.4 s. orjson refuses NaN and
    reads integers past 64 bits as floats; the standard library writes both, so a text
    with either (a run of 19 digits or more) takes its path."""
    data = bytes(text) if isinstance(text, memoryview) else text
    if isinstance(data, str):
        plain = _LONG_NUMBER_TEXT.search(data) is None
    else:
        plain = _LONG_NUMBER.search(data) is None
    if plain:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_LONG_NUMBER_TEXT = re.compile(r"[0-9]{19}")
