"""Request bodies and the deal JSON of the documented VectorOS REST API."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from vectoros_tui.store.validation import DEAL_JSON_NAMES, MAX_DESCRIPTION
from vectoros_tui.store.views import DealView

# local field name -> JSON name; the next step is ours, not the seed's, so it is not among
# the seed's names that sync sends.
JSON_NAMES: Final = {**DEAL_JSON_NAMES, "next_step": "nextStep", "next_step_due": "nextStepDue"}
# Far longer than any date or type name; caps how much of a bad value an error echoes.
MAX_SHORT_FIELD: Final = 64
MAX_SEARCH_TEXT: Final = 10_000


def json_name(local: str) -> str:
    return JSON_NAMES.get(local, local)


def deal_json(view: DealView) -> dict[str, Any]:
    """``DealView.to_api()`` with the documented stage names (closed_won / closed_lost)."""
    out = view.to_api()
    if view.outcome:
        out["stage"] = f"closed_{view.outcome}"
    return out


class DealFields(BaseModel):
    """A deal's editable fields as JSON. Unknown keys (``createdAt``...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, examples=["Acme renewal"])
    company: str | None = None
    value: float | None = Field(default=None, description="Amount; null means 0.")
    stage: str | None = Field(
        default=None,
        description="prospect, qualified, proposal, negotiation, closed_won or closed_lost "
        "(closed with an outcome is accepted too).",
    )
    probability: int | None = Field(default=None, description="0-100; null: the stage's usual.")
    contactName: str | None = None
    contactEmail: str | None = None
    closeDate: str | None = Field(default=None, description="YYYY-MM-DD")
    outcome: str | None = Field(default=None, description="won, lost or null (open)")
    lostReason: str | None = None
    ownerId: str | None = Field(
        default=None,
        description="An extension of the seed's deal: the user id of its owner, a member of "
        "the workspace (on create, default: the caller; null clears it).",
    )
    nextStep: str | None = Field(
        default=None,
        description="An extension of the seed's deal: what happens next (at most 500 "
        "characters; null clears it).",
    )
    nextStepDue: str | None = Field(
        default=None,
        max_length=MAX_SHORT_FIELD,
        description="An extension of the seed's deal: when the next step is due, YYYY-MM-DD "
        "(null clears it).",
    )

    def local(self) -> dict[str, Any]:
        return {local: getattr(self, name) for local, name in JSON_NAMES.items()}

    def changes(self) -> dict[str, Any]:
        """The fields the request sent (null included): a partial update changes only these,
        and a client sending the whole record still replaces it."""
        return {
            local: getattr(self, name)
            for local, name in JSON_NAMES.items()
            if name in self.model_fields_set
        }


class DealCreate(DealFields):
    id: str | None = Field(
        default=None, description="Client-generated UUID; a taken id answers 409."
    )
    workspaceId: str


class DealReplace(DealFields):
    id: str | None = Field(default=None, description="If given, must be the id in the URL.")
    workspaceId: str | None = Field(default=None, description="If given, the deal's workspace.")
    version: int | None = Field(
        default=None, description="The version the client read: a newer stored one answers 409."
    )


class ActivityFields(BaseModel):
    """An activity as JSON (an extension of the seed's API, whose schema has activities but
    no routes for them). Unknown keys (``id``, ``createdAt``...) are ignored, so a client
    may send back what it read."""

    model_config = ConfigDict(extra="ignore")

    type: str | None = Field(
        default=None, max_length=MAX_SHORT_FIELD, description="email, call, meeting or note"
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    date: str | None = Field(
        default=None,
        max_length=MAX_SHORT_FIELD,
        description="ISO date or timestamp: when it happened, or for a planned one when it is "
        "due (default: now).",
    )
    done: bool | None = Field(
        default=None, description="false: planned, not done yet (default: true)."
    )
    dealId: str | None = Field(default=None, description="If given, the deal in the URL.")

    def changes(self) -> dict[str, Any]:
        """The fields the request sent (null included), for a partial update."""
        return {
            name: getattr(self, name)
            for name in ("type", "description", "date", "done")
            if name in self.model_fields_set
        }


class ActivityCreate(ActivityFields):
    id: str | None = Field(
        default=None,
        max_length=MAX_SHORT_FIELD,
        description="A client-generated UUID, so that a retried add is recognised: one the "
        "deal has already answers 409. Anything else is ignored (a new id is made).",
    )


class WorkspaceCreate(BaseModel):
    name: str
    ownerId: str | None = Field(
        default=None, description="If given, the caller's own user id: the caller owns it."
    )


class MemberAdd(BaseModel):
    email: str
    role: str = "member"


class ForecastRequest(BaseModel):
    workspace_id: str
    timeframe: str = "30d"
    scenario: str = "likely"


class WorkspaceRequest(BaseModel):
    workspace_id: str


class UserCreate(BaseModel):
    clerkId: str | None = Field(
        default=None,
        max_length=200,
        description="Echoed back, not stored: here the bearer token is the identity.",
    )
    email: str = Field(max_length=320, description="The caller's own email address.")
    firstName: str | None = Field(default=None, max_length=100)
    lastName: str | None = Field(default=None, max_length=100)


class DealRef(BaseModel):
    """A deal as the documented embedding requests send it: only ``id`` is used, the
    index is built from the stored deal."""

    model_config = ConfigDict(extra="ignore")

    id: str
    title: str | None = None
    company: str | None = None
    value: float | None = None
    stage: str | None = None
    probability: float | None = None


class EmbedDealRequest(BaseModel):
    deal: DealRef | None = Field(default=None, description="The documented form.")
    deal_id: str | None = Field(default=None, description="Shorthand: just the deal's id.")


class EmbedMultipleRequest(BaseModel):
    deals: list[DealRef] | None = Field(
        default=None, max_length=1000, description="The documented form."
    )
    deal_ids: list[str] | None = Field(
        default=None, max_length=1000, description="Shorthand: just the deals' ids."
    )


class FindSimilarRequest(BaseModel):
    workspace_id: str | None = Field(
        default=None,
        description="Optional: by default the deal's workspace, or for a text the caller's "
        "only workspace.",
    )
    deal_id: str | None = None
    # A deal's description embeds from its first few hundred words: more only costs time.
    deal_text: str | None = Field(
        default=None, max_length=MAX_SEARCH_TEXT, description="Describe the deal you look for."
    )
    text: str | None = Field(
        default=None, max_length=MAX_SEARCH_TEXT, description="Same as deal_text."
    )
    limit: int = 10
    score_threshold: float | None = None
