"""The text a deal is embedded as, and the hash that tells when it must be re-embedded.

A deal's text, in this order (empty parts left out):

    <title>. Company: <company>. Stage: <stage>. Value: <band>. Contact: <contact>.
    Outcome: <open|won|lost>. Lost reason: <reason>. Notes: <latest note>; <next>; <next>

Values are embedded as bands (``50k-100k``) rather than figures: a language model
compares words, and 48,000 vs 52,000 should read as the same size of deal. The notes are
the deal's three most recent activity descriptions. Changing any of these parts changes
the text hash stored with the point, so the next refresh re-embeds the deal.
"""

from __future__ import annotations

import hashlib

from vectoros_tui.store.deal_sources import DealSource

# Bump when the text format changes: every point becomes stale and is re-embedded.
TEXT_FORMAT = "1"

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
    parts = [deal.title.strip()]
    if deal.company:
        parts.append(f"Company: {deal.company}")
    parts.append(f"Stage: {deal.stage}")
    parts.append(f"Value: {value_band(deal.value)}")
    if deal.contact_name:
        parts.append(f"Contact: {deal.contact_name}")
    parts.append(f"Outcome: {outcome_label(deal.outcome)}")
    if deal.lost_reason:
        parts.append(f"Lost reason: {deal.lost_reason}")
    notes = [" ".join(note.split()) for note in deal.notes if note.strip()]
    if notes:
        parts.append("Notes: " + "; ".join(notes))
    return ". ".join(part.rstrip(". ") for part in parts) + "."


def text_hash(text: str, model_id: str) -> str:
    """Changes with the text, its format and the model: any of them means re-embed."""
    digest = hashlib.sha256(f"{TEXT_FORMAT}\0{model_id}\0{text}".encode())
    return digest.hexdigest()[:16]
