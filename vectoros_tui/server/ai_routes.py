"""The AI part of the documented API: the Monte Carlo forecast, deal health scores and
similar-deal search (embeddings), computed by the store's analytics and the similar-deal
service.

Each documented route has its documented path, request and answer. The paths this server
used before (``/ai/forecast``, ``/ai/score-workspace``, ``/workspaces/{id}/embed-all``) and
the short request forms (``deal_id``, ``deal_ids``, ``text``) stay as aliases: the sync
client and existing callers use them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from vectoros_tui.engine.forecast import ForecastInputError, parse_timeframe
from vectoros_tui.forecast_defaults import FORECAST_SEED
from vectoros_tui.server import access
from vectoros_tui.server.access import Membership
from vectoros_tui.server.dependencies import (
    Backend,
    BackendDep,
    CallerDep,
    deal_of,
    field_error,
    member_of,
    parse_id,
)
from vectoros_tui.server.errors import ApiError, not_found
from vectoros_tui.server.schemas import (
    EmbedDealRequest,
    EmbedMultipleRequest,
    FindSimilarRequest,
    ForecastRequest,
    WorkspaceRequest,
)
from vectoros_tui.server.tokens import Caller

ai = APIRouter(prefix="/api/v1", tags=["ai"])

# The engine's SCENARIOS, spelled out so OpenAPI lists them (a test keeps the two equal).
Scenario = Literal["worst", "likely", "best"]


def _forecast(
    backend: Backend, membership: Membership, timeframe: str, scenario: str
) -> dict[str, Any]:
    try:
        # The seed the CLI and the app use: the same deals give the same numbers in all
        # three, and today's answer is kept until a deal changes (a team's 14,000 open
        # deals took half a second per request, each with numbers of its own).
        result = backend.store().analytics.forecast(
            membership.workspace_id, timeframe=timeframe, scenario=scenario, seed=FORECAST_SEED
        )
    except ForecastInputError as exc:
        raise ApiError(422, str(exc)) from None
    # The engine keeps probabilities as fractions; the documented breakdown gives the
    # average in percent (a deal at 98 averages 98.0), like a deal's own probability.
    for row in result["breakdown_by_stage"]:
        row["avg_probability"] = round(row["avg_probability"] * 100, 1)
    return result


@ai.get(
    "/forecast",
    summary="Monte Carlo revenue forecast of a workspace",
    description="`timeframe` is a number of days like 30d, 60d or 90d; `scenario` picks "
    "which case `predicted_revenue` reports. Bad values answer 422 naming the parameter.",
)
def forecast(
    backend: BackendDep,
    caller: CallerDep,
    workspace_id: Annotated[str, Query(description="The workspace's id.")],
    timeframe: Annotated[str, Query(examples=["30d", "60d", "90d"])] = "30d",
    scenario: Scenario = "likely",
) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    try:
        parse_timeframe(timeframe)
    except ForecastInputError as exc:
        raise field_error("timeframe", str(exc)) from None
    return _forecast(backend, membership, timeframe, scenario)


@ai.post("/ai/forecast", summary="Alias of GET /api/v1/forecast, parameters in the body")
def forecast_alias(body: ForecastRequest, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = member_of(backend, caller, body.workspace_id)
    return _forecast(backend, membership, body.timeframe, body.scenario)


def _scores(backend: Backend, caller: Caller, workspace_id: str) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    return backend.store().analytics.score(membership.workspace_id)


@ai.post(
    "/deals/score-workspace",
    summary="Health scores of a workspace's open deals",
    description='As documented: `{"success": true, "data": {"scored_deals", "metrics"}}`.',
)
def score_workspace(
    body: WorkspaceRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    scores = _scores(backend, caller, body.workspace_id)
    return {
        "success": True,
        "data": {"scored_deals": scores["scored_deals"], "metrics": scores["workspace_metrics"]},
    }


@ai.post(
    "/ai/score-workspace",
    summary="Health scores, unwrapped: scored_deals and workspace_metrics",
    description="The older form of POST /api/v1/deals/score-workspace.",
)
def score_workspace_alias(
    body: WorkspaceRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    return _scores(backend, caller, body.workspace_id)


# --- embeddings ------------------------------------------------------------------------------


@ai.post(
    "/embeddings/embed-deal",
    summary="Embed one deal for similar-deal search",
    description="Send `deal` (documented; only its `id` is used, the index is built from "
    "the stored deal) or `deal_id`.",
)
def embed_deal(body: EmbedDealRequest, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    if (body.deal is None) == (body.deal_id is None):
        raise field_error("deal", "give either deal (with its id) or deal_id")
    wanted = body.deal.id if body.deal is not None else body.deal_id
    assert wanted is not None
    view, _ = deal_of(backend, caller, wanted)
    result = backend.similar().refresh(view.workspace_id, [view.id])
    answer: dict[str, Any] = {"success": True, "deal_id": str(view.id), "embedded": result.embedded}
    if body.deal is None:  # the shorthand keeps its earlier answer exactly
        return answer
    return {
        **answer,
        "point_id": str(view.id),
        "message": f"Deal '{view.title}' embedded successfully",
    }


@ai.post(
    "/embeddings/embed-multiple",
    summary="Embed several deals",
    description="Send `deals` (documented; only their ids are used) or `deal_ids`. "
    "`embedded_count` counts the deals now in the index, `embedded` those that needed "
    "embedding (the others were current already).",
)
def embed_multiple(
    body: EmbedMultipleRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    if (body.deals is None) == (body.deal_ids is None):
        raise field_error("deals", "give either deals (each with its id) or deal_ids")
    refs = [d.id for d in body.deals] if body.deals is not None else body.deal_ids or []
    ids = list(dict.fromkeys(parse_id(d, "deal") for d in refs))
    owners = access.workspaces_of_deals(backend.store().db, ids)
    roles: dict[uuid.UUID, bool] = {}
    for deal_id in ids:
        workspace = owners.get(deal_id)
        if workspace is not None and workspace not in roles:
            roles[workspace] = (
                access.role_in(backend.store().db, caller.user_id, workspace) is not None
            )
        if workspace is None or not roles[workspace]:
            raise not_found(f"no deal {str(deal_id)!r}")
    embedded = 0
    for workspace in roles:
        mine = [d for d in ids if owners[d] == workspace]
        embedded += backend.similar().refresh(workspace, mine).embedded
    count = len(ids)
    return {
        "success": True,
        "embedded_count": count,
        "point_ids": [str(d) for d in ids],
        "message": f"Successfully embedded {count}/{count} deals",
        "count": count,
        "embedded": embedded,
    }


def _workspace_or_only(backend: Backend, caller: Caller, workspace_id: str | None) -> Membership:
    """The named workspace, or else the caller's only one: the documented search and stats
    name no workspace, which is unambiguous only for a caller in exactly one."""
    if workspace_id is not None:
        return member_of(backend, caller, workspace_id)
    mine = access.memberships(backend.store().db, caller.user_id)
    if len(mine) == 1:
        return mine[0][0]
    if not mine:
        raise field_error("workspace_id", "the caller is not a member of any workspace")
    raise field_error(
        "workspace_id", f"the caller is a member of {len(mine)} workspaces: say which one"
    )


@ai.post(
    "/embeddings/find-similar",
    summary="Deals similar to a deal or to a text",
    description="Give `deal_id`, or `deal_text` (`text` is the same). `workspace_id` may be "
    "left out: a deal's own workspace is searched, and a text searches the caller's only "
    "workspace (422 for a caller in several).",
)
def find_similar(
    body: FindSimilarRequest, backend: BackendDep, caller: CallerDep
) -> dict[str, Any]:
    if body.deal_text is not None and body.text is not None and body.deal_text != body.text:
        raise field_error("deal_text", "give deal_text or text, not both")
    text = body.deal_text if body.deal_text is not None else body.text
    if (body.deal_id is None) == (text is None):
        raise field_error("deal_id", "give either deal_id or deal_text")
    if not 1 <= body.limit <= 100:
        raise field_error("limit", "must be between 1 and 100")
    if body.score_threshold is not None and not -1.0 <= body.score_threshold <= 1.0:
        raise field_error("score_threshold", "a cosine similarity, between -1 and 1")
    if body.deal_id is None:
        assert text is not None
        membership = _workspace_or_only(backend, caller, body.workspace_id)
        result = backend.similar().search_text(
            membership.workspace_id, text, limit=body.limit, threshold=body.score_threshold
        )
        return result.to_api()
    view, _ = deal_of(backend, caller, body.deal_id)
    if body.workspace_id is not None:
        named = member_of(backend, caller, body.workspace_id)
        if named.workspace_id != view.workspace_id:
            raise not_found(f"no deal {body.deal_id!r} in this workspace")
    result = backend.similar().search_deal(
        view.workspace_id, view.id, limit=body.limit, threshold=body.score_threshold
    )
    return result.to_api()


@ai.get(
    "/embeddings/stats",
    summary="Size of a workspace's similar-deal index",
    description="`workspace_id` may be left out by a caller in exactly one workspace.",
)
def embedding_stats(
    backend: BackendDep,
    caller: CallerDep,
    workspace_id: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    membership = _workspace_or_only(backend, caller, workspace_id)
    return backend.similar().stats(membership.workspace_id)


@ai.post(
    "/workspaces/{workspace_id}/deals/embed-all",
    summary="Embed every deal of a workspace",
    description="`embedded_count` counts the deals now in the index, `embedded` those that "
    "needed embedding, `deleted` the index entries of deleted deals removed.",
)
def embed_all_deals(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    result = backend.similar().refresh(membership.workspace_id)
    total = access.deal_count(backend.store().db, membership.workspace_id)
    return {
        "success": True,
        "message": f"Successfully embedded {total}/{total} deals",
        "embedded_count": total,
        "total_deals": total,
        "embedded": result.embedded,
        "deleted": result.deleted,
    }


@ai.post(
    "/workspaces/{workspace_id}/embed-all",
    summary="Alias of POST /workspaces/{workspace_id}/deals/embed-all (counts only)",
)
def embed_all(workspace_id: str, backend: BackendDep, caller: CallerDep) -> dict[str, Any]:
    membership = member_of(backend, caller, workspace_id)
    result = backend.similar().refresh(membership.workspace_id)
    return {"success": True, "embedded": result.embedded, "deleted": result.deleted}
