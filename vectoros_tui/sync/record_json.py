"""Local deal fields as the backend's JSON, every value checked first.

A value a deal cannot have raises ``ValueError``: that is a bug in the caller, not a
server problem, so it never reaches the wire.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final

from vectoros_tui.engine.stages import OUTCOMES, UnknownStageError, normalise_stage
from vectoros_tui.store.validation import DEAL_JSON_NAMES, NEXT_STEP_FIELDS
from vectoros_tui.sync.records import DEAL_FIELDS

# local field name -> JSON name (both dialects use the documented API's camelCase).
CAMEL: Final = DEAL_JSON_NAMES
_TEXT_FIELDS: Final = ("company", "contact_name", "contact_email", "lost_reason")

# A dialect's stage name for a validated local (stage, outcome).
RemoteStage = Callable[[str, str | None], str]


def record_json(
    record: Mapping[str, Any],
    remote_stage: RemoteStage,
    *,
    sends_outcome: bool,
    next_steps: bool = False,
) -> dict[str, Any]:
    """JSON for the given local fields (any subset of :data:`DEAL_FIELDS`, and of
    ``NEXT_STEP_FIELDS`` when the dialect has ``next_steps``).

    ``stage`` and ``outcome`` go together (the remote stage encodes both); pass both or
    neither. ``sends_outcome``: whether the dialect has an ``outcome`` field besides.
    """
    known = (*DEAL_FIELDS, *NEXT_STEP_FIELDS) if next_steps else DEAL_FIELDS
    unknown = sorted(set(record) - set(known))
    if unknown:
        raise ValueError(f"not deal fields: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    if "title" in record:
        out["title"] = _local_text("title", record["title"], required=True)
    for name in _TEXT_FIELDS:
        if name in record:
            out[CAMEL[name]] = _local_text(name, record[name])
    if "value" in record:
        out["value"] = _local_number(record["value"])
    if "probability" in record:
        out["probability"] = _local_probability(record["probability"])
    if "close_date" in record:
        out["closeDate"] = _local_date(record["close_date"])
    if "next_step" in record:
        out["nextStep"] = _local_text("next_step", record["next_step"])
    if "next_step_due" in record:
        out["nextStepDue"] = _local_date(record["next_step_due"], "next_step_due")
    if "stage" in record or "outcome" in record:
        if "stage" not in record:
            raise ValueError("outcome cannot be sent without stage (pass both)")
        stage, outcome = local_stage(record["stage"], record.get("outcome"))
        out["stage"] = remote_stage(stage, outcome)
        if sends_outcome:
            out["outcome"] = outcome
    return out


def _local_text(name: str, value: Any, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{name} must be a {'non-empty ' if required else ''}string")
    return value


def _local_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"value must be a number or None (got {type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError("value must be finite")
    return float(value)


def _local_probability(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"probability must be a whole number or None (got {value!r})")
    return value


def _local_date(value: Any, name: str = "close_date") -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return date.fromisoformat(value).isoformat()
    raise ValueError(f"{name} must be a date or None (got {type(value).__name__})")


def local_stage(stage: Any, outcome: Any) -> tuple[str, str | None]:
    """Validated local ``(stage, outcome)``; aliases such as ``won`` or ``lead`` accepted."""
    if not isinstance(stage, str):
        raise ValueError(f"stage must be a string (got {stage!r})")
    try:
        name, implied = normalise_stage(stage)
    except UnknownStageError as exc:
        raise ValueError(str(exc)) from None
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"outcome must be won, lost or None (got {outcome!r})")
    if implied and outcome and implied != outcome:
        raise ValueError(f"stage {stage!r} contradicts outcome {outcome!r}")
    final = outcome or implied
    if name == "closed" and final is None:
        raise ValueError("a closed deal needs an outcome: won or lost")
    if name != "closed" and final is not None:
        raise ValueError(f"a deal marked {final} must be in stage closed (is {name})")
    return name, final
