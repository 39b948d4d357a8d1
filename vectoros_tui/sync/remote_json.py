"""The backend's deal and workspace JSON as :class:`RemoteDeal` and :class:`RemoteWorkspace`.

Every field is type-checked (:mod:`vectoros_tui.sync.strict_json`); stages are read in the
answering dialect's vocabulary and mapped to local stages, won/lost as the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vectoros_tui.engine.stages import OUTCOMES, UnknownStageError, normalise_stage
from vectoros_tui.sync.records import RemoteDeal, RemoteWorkspace
from vectoros_tui.sync.strict_json import Fields

# remote stage (lower case) -> (local stage, outcome it implies)
StagesIn = Mapping[str, tuple[str, str | None]]


def deal_from_json(
    data: Any,
    stages_in: StagesIn,
    *,
    field: str | None,
    workspace_id: str | None,
    next_steps: bool = False,
) -> RemoteDeal:
    """A :class:`RemoteDeal` from a dialect's deal JSON, every field type-checked.

    ``id``, ``title`` and ``stage`` are required (and ``workspaceId`` unless
    ``workspace_id`` says which workspace the deal was listed in, in which case a
    ``workspaceId`` that differs is an error). Other fields may be absent (read as null).
    ``next_steps``: the dialect has ``nextStep``/``nextStepDue`` (else they are not read).
    """
    f = Fields(data, field)
    deal_id = f.identifier("id")
    present, _ = f.raw("workspaceId", required=workspace_id is None)
    workspace = workspace_id
    if present:
        workspace = f.identifier("workspaceId")
        if workspace_id is not None and workspace != workspace_id:
            raise f.fail("workspaceId", f"is {workspace!r}, expected {workspace_id!r}")
    title = f.text("title")
    stage, outcome = _stage_of(f, stages_in)
    probability = f.integer("probability")
    if probability is not None and not 0 <= probability <= 100:
        raise f.fail("probability", f"must be between 0 and 100 (got {probability})")
    assert workspace is not None
    return RemoteDeal(
        id=deal_id,
        workspace_id=workspace,
        title=title,
        company=f.string("company"),
        value=f.number("value"),
        stage=stage,
        outcome=outcome,
        probability=probability,
        contact_name=f.string("contactName"),
        contact_email=f.string("contactEmail"),
        close_date=f.calendar_date("closeDate"),
        lost_reason=f.string("lostReason"),
        updated_at=f.timestamp("updatedAt"),
        version=_version(f),
        owner_id=f.string("ownerId"),
        next_step=f.string("nextStep") if next_steps else None,
        next_step_due=f.calendar_date("nextStepDue") if next_steps else None,
    )


def workspace_from_json(data: Any, field: str | None) -> RemoteWorkspace:
    f = Fields(data, field)
    return RemoteWorkspace(id=f.identifier("id"), name=f.text("name"))


def _stage_of(f: Fields, stages_in: StagesIn) -> tuple[str, str | None]:
    raw = f.text("stage")
    key = raw.strip().lower()
    if key in stages_in:
        stage, implied = stages_in[key]
    else:
        try:
            stage, implied = normalise_stage(key)
        except UnknownStageError:
            accepted = ", ".join(stages_in)
            raise f.fail("stage", f"unknown stage {raw!r} (expected one of {accepted})") from None
    outcome = f.string("outcome")
    if outcome is not None and outcome.lower() not in OUTCOMES:
        raise f.fail("outcome", f"must be won, lost or null (got {outcome!r})")
    outcome = outcome.lower() if outcome else None
    if implied:
        if outcome and outcome != implied:
            raise f.fail("outcome", f"is {outcome!r}, but stage {raw!r} means {implied}")
        return stage, implied
    if stage == "closed":
        if outcome is None:
            raise f.fail("outcome", f"stage {raw!r} needs an outcome: won or lost")
        return stage, outcome
    if outcome is not None:
        raise f.fail("outcome", f"is {outcome!r}, but stage {raw!r} is an open stage")
    return stage, None


def _version(f: Fields) -> int | None:
    """The deal's version if the server sends a usable one; it is only ever used with a
    server that promises conditional writes, so anything else just means "none"."""
    _, value = f.raw("version", required=False)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
