"""How a kept result is keyed and packed: shared by the store (which keeps results) and
the driver-only read that answers a command from one (see store.kept_answer)."""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections.abc import Mapping
from typing import Any

import orjson


def params_key(params: Mapping[str, Any]) -> str:
    """The parameters as one short, stable text (the kept row's key)."""
    text = json.dumps(dict(params), sort_keys=True, default=str)
    return text if len(text) <= 500 else hashlib.sha256(text.encode()).hexdigest()


# The shape of a kept forecast: raised when a version computes or writes forecasts
# differently, so a result kept earlier that day by the previous version is not served.
FORECAST_FORMAT = 2


def forecast_kind(model: str) -> str:
    return f"forecast:{model}"


def forecast_params(
    model_params: Mapping[str, Any],
    owner_id: uuid.UUID | None,
    simulations: int,
    seed: int | None,
) -> dict[str, Any]:
    """A forecast's key: its model's own parameters, whose deals, how many runs, the seed,
    and the format it was computed in."""
    return {
        **model_params,
        "owner": owner_id,
        "simulations": simulations,
        "seed": seed,
        "format": FORECAST_FORMAT,
    }


def pack(text: bytes) -> bytes:
    # Level 1: a history forecast of 14,000 deals is 10 MB of JSON and 1.5 MB packed,
    # in a tenth of the time level 6 takes.
    return zlib.compress(text, 1)


def unpack(payload: bytes) -> Any | None:
    """The kept result, or None when the payload is damaged."""
    try:
        return orjson.loads(zlib.decompress(payload))
    except (zlib.error, orjson.JSONDecodeError):
        return None
