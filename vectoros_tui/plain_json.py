"""JSON by orjson, as the CLI prints it: the CLI's output and the results the store keeps
both go through here, so a kept result read back is the very text a fresh one prints."""

from __future__ import annotations

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
