"""The pipeline's stages and the aliases the original platform and CSV files use.

The seed platform used ``lead``/``won``/``lost`` and ``closed_won``/``closed_lost`` in
places; we store five stages and keep won/lost as the deal's *outcome*.
"""

from __future__ import annotations

from typing import Final

OPEN_STAGES: Final = ("prospect", "qualified", "proposal", "negotiation")
STAGES: Final = (*OPEN_STAGES, "closed")
OUTCOMES: Final = ("won", "lost")
# Used when a deal is entered without a probability (the usual CRM defaults).
DEFAULT_PROBABILITY: Final = {"prospect": 10, "qualified": 25, "proposal": 50, "negotiation": 75}

# alias -> (stage, outcome implied by the alias or None)
_ALIASES: Final[dict[str, tuple[str, str | None]]] = {
    "lead": ("prospect", None),
    "new": ("prospect", None),
    "discovery": ("qualified", None),
    "qualification": ("qualified", None),
    "quote": ("proposal", None),
    "negotiating": ("negotiation", None),
    "won": ("closed", "won"),
    "closed_won": ("closed", "won"),
    "closed won": ("closed", "won"),
    "closed-won": ("closed", "won"),
    "lost": ("closed", "lost"),
    "closed_lost": ("closed", "lost"),
    "closed lost": ("closed", "lost"),
    "closed-lost": ("closed", "lost"),
}


class UnknownStageError(ValueError):
    """Raised for a stage name that is neither a stage nor a known alias."""


def normalise_stage(name: str) -> tuple[str, str | None]:
    """Return ``(stage, implied_outcome)`` for a stage name or alias, case-insensitively.

    ``implied_outcome`` is ``"won"``/``"lost"`` for aliases such as ``won`` and ``None``
    otherwise. Raises :class:`UnknownStageError` naming the accepted values.
    """
    key = (name or "").strip().lower()
    if key in STAGES:
        return key, None
    if key in _ALIASES:
        return _ALIASES[key]
    accepted = ", ".join(STAGES)
    raise UnknownStageError(f"unknown stage {name!r}; use one of {accepted} (or lead, won, lost)")


def stage_index(stage: str) -> int:
    """Position of a stage in the funnel; unknown stages sort last."""
    try:
        return STAGES.index(stage)
    except ValueError:
        return len(STAGES)
