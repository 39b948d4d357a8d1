"""The text a deal is embedded as, and the hash that tells when it must be re-embedded.

A deal's text, in this order (empty parts left out):

    <title>. <company>. <<Stage> stage | Closed won | Closed lost[ on <reason>]>, <value
    band>. Contact <contact>. <latest note>; <next>; <next>.

Plain phrases rather than labelled fields ("Stage: ...  Outcome: ..."): the labels are the
same in every deal, so they add tokens (a third of the text) without telling deals apart,
and the model's time grows with the tokens. The company is left out when the title already
names it. Values are embedded as bands (``50k-100k``) rather than figures: a language model
compares words, and 48,000 vs 52,000 should read as the same size of deal. The notes are
the deal's three most recent activity descriptions. Changing any of these parts changes
the text hash stored with the point, so the next refresh re-embeds the deal.
"""

from __future__ import annotations

import hashlib

from vectoros_tui.store.deal_sources import DealSource

# Bump when the text format changes: every point becomes stale and is re-embedded.
TEXT_FORMAT = "2"

_BANDS = (
    (10_000, "under 10k"),
    (50_000, "10k-50k"),
    (100_000, "50k-100k"),
    (250_000, "100k-250k"),
    (500_000, "250k-500k"),
    (1_000_000, "500k-1M"),
)


def value_band(value: float) -> str:
    for upper, label in _BANDS:
        if value < upper:
            return label
    return "1M and over"


def outcome_label(outcome: str | None) -> str:
    return outcome or "open"


def deal_text(deal: DealSource) -> str:
    title = deal.title.strip().rstrip(". ")
    parts = [title]
    if deal.company and deal.company.strip().lower() not in title.lower():
        parts.append(deal.company.strip())
    if deal.outcome:
        state = f"Closed {deal.outcome}"
        if deal.lost_reason:
            state += f" on {deal.lost_reason.strip()}"
    else:
        state = f"{deal.stage.capitalize()} stage"  # open: closed deals say so
    parts.append(f"{state}, {value_band(deal.value)}")
    if deal.contact_name:
        parts.append(f"Contact {deal.contact_name}")
    notes = [" ".join(note.split()) for note in deal.notes if note.strip()]
    if notes:
        parts.append("; ".join(notes))
    return ". ".join(part.rstrip(". ") for part in parts) + "."


def text_hash(text: str, model_id: str) -> str:
    """Changes with the text, its format and the model: any of them means re-embed."""
    digest = hashlib.sha256(f"{TEXT_FORMAT}\0{model_id}\0{text}".encode())
    return digest.hexdigest()[:16]
