"""The words an import understands: header names per field, other CRMs' stages, outcome words."""

from __future__ import annotations

import re

from vectoros_tui.store.validation import DEAL_FIELDS, HISTORY_FIELDS, NEXT_STEP_FIELDS

SOURCE_ID = "source_id"
# Who owns the deal: a name or an email, made a member of the workspace on import.
OWNER = "owner"
IMPORT_FIELDS = (*DEAL_FIELDS, *NEXT_STEP_FIELDS, SOURCE_ID, *HISTORY_FIELDS, OWNER)
MAX_SOURCE_ID = 200

# field -> header names, most specific first (the first one present wins).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    SOURCE_ID: (
        "source id",
        "external id",
        "crm id",
        "record id",
        "deal id",
        "opportunity id",
        "id",
    ),
    "title": (
        "title",
        "deal name",
        "opportunity name",
        "deal",
        "opportunity",
        "name",
        "subject",
    ),
    "company": (
        "company",
        "account name",
        "account",
        "company name",
        "associated company",
        "organization",
        "organisation",
        "customer",
    ),
    "value": (
        "value",
        "amount",
        "deal value",
        "deal amount",
        "close value",
        "revenue",
        "arr",
        "acv",
        "price",
    ),
    "stage": ("stage", "deal stage", "pipeline stage", "status"),
    "probability": (
        "probability",
        "prob",
        "win probability",
        "deal probability",
        "likelihood",
        "confidence",
        "%",
    ),
    "contact_name": (
        "contact name",
        "contact",
        "primary contact",
        "associated contact",
        "owner contact",
    ),
    "contact_email": ("contact email", "email", "e-mail", "primary contact email"),
    "close_date": (
        "close date",
        "closedate",
        "expected close date",
        "expected close",
        "close",
        "due date",
    ),
    "outcome": ("outcome", "result", "won/lost"),
    "created_at": (
        "created date",
        "create date",
        "created",
        "created at",
        "created on",
        "creation date",
        "date created",
        "engage date",
        "open date",
        "opened",
    ),
    "closed_at": (
        "closed date",
        "date closed",
        "closed at",
        "closed on",
        "actual close date",
    ),
    "lost_reason": ("lost reason", "loss reason", "reason lost", "closed lost reason"),
    "next_step": ("next step", "next steps", "next action", "next activity"),
    "next_step_due": (
        "next step due",
        "next step date",
        "next step due date",
        "next action date",
        "next activity date",
    ),
    OWNER: (
        "owner",
        "deal owner",
        "opportunity owner",
        "sales agent",
        "assigned to",
        "sales rep",
        "account executive",
        "owner email",
        "rep",
    ),
}

# Default stages of common CRMs -> our stage or alias. Keys are compared after
# lower-casing and dropping everything but letters and digits ("Id. Decision Makers").
CRM_STAGE_ALIASES: dict[str, str] = {
    # Salesforce
    "prospecting": "prospect",
    "needs analysis": "qualified",
    "id. decision makers": "qualified",
    "value proposition": "proposal",
    "perception analysis": "proposal",
    "proposal/price quote": "proposal",
    "negotiation/review": "negotiation",
    # HubSpot (labels and internal names)
    "appointment scheduled": "prospect",
    "appointmentscheduled": "prospect",
    "qualified to buy": "qualified",
    "qualifiedtobuy": "qualified",
    "presentation scheduled": "proposal",
    "presentationscheduled": "proposal",
    "decision maker bought-in": "negotiation",
    "decisionmakerboughtin": "negotiation",
    "contract sent": "negotiation",
    "contractsent": "negotiation",
    "closedwon": "won",
    "closedlost": "lost",
    # Pipedrive
    "lead in": "prospect",
    "contact made": "prospect",
    "demo scheduled": "qualified",
    "proposal made": "proposal",
    "negotiations started": "negotiation",
}

_OUTCOME_WORDS = {
    "won": "won",
    "win": "won",
    "closedwon": "won",
    "lost": "lost",
    "loss": "lost",
    "closedlost": "lost",
    "open": "",
    "none": "",
    "pending": "",
    "active": "",
    "inprogress": "",
}


def _key(text: str) -> str:
    """Header names compare without case, spaces, underscores, hyphens or a (suffix)."""
    text = text.strip().lstrip("\ufeff").lower()
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", text)
    return re.sub(r"[\s_\-]+", "", bare or text)


def _stage_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


_CRM_STAGES = {_stage_key(k): v for k, v in CRM_STAGE_ALIASES.items()}
