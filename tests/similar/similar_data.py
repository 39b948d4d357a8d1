"""The labelled deal set the similar-deal tests search, and small helpers.

Imported by the tests of this folder (a package: tests/similar/__init__.py).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vectoros_tui.similar.embedder import Embedder
from vectoros_tui.similar.index import ClientIndex, VectorIndex
from vectoros_tui.similar.texts import deal_text, text_hash
from vectoros_tui.store.deal_sources import load_deal_sources
from vectoros_tui.store.store import Store

IndexFactory = Callable[[int, bool], VectorIndex]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# Four themes, three deals each. Within a theme the words overlap (title, company and
# notes), across themes they do not, so the same-theme deals must rank first.
THEMES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "security": [
        (
            "Cybersecurity SOC 2 audit",
            "Cyberguard Security",
            (
                "SOC 2 compliance audit of firewalls and access controls",
                "penetration test of the network",
            ),
        ),
        (
            "Cybersecurity SOC monitoring service",
            "Northwind Cybersecurity",
            (
                "security operations center monitoring for cyber attacks",
                "cybersecurity audit of intrusion detection",
            ),
        ),
        (
            "Cybersecurity incident response and audit",
            "Helix Cyber Security",
            (
                "cybersecurity audit after a ransomware attack",
                "SOC analysts for security incident response",
            ),
        ),
    ],
    "warehouse": [
        (
            "Forklift fleet for the warehouse",
            "Dockside Logistics",
            (
                "twenty electric forklifts for the distribution warehouse",
                "pallet handling at the loading dock",
            ),
        ),
        (
            "Warehouse pallet racking and forklifts",
            "Prime Freight Logistics",
            (
                "pallet racks and forklift aisles in the warehouse",
                "logistics depot storage",
            ),
        ),
        (
            "Forklift maintenance for logistics depot",
            "Cargo Hub Warehousing",
            (
                "forklift servicing in the logistics warehouse",
                "shipping yard pallet trucks",
            ),
        ),
    ],
    "payroll": [
        (
            "Payroll software for HR",
            "Brightside Payroll Services",
            (
                "payroll processing and employee payslips",
                "HR software for salary and tax deductions",
            ),
        ),
        (
            "HR and payroll platform",
            "Maple People HR",
            (
                "employee payroll, timesheets and salaries",
                "human resources onboarding software",
            ),
        ),
        (
            "Human resources payroll system",
            "Orbit HR Solutions",
            (
                "payroll run for employees and benefits",
                "HR records and leave tracking software",
            ),
        ),
    ],
    "restaurant": [
        (
            "Restaurant POS terminals",
            "Luigi's Restaurant",
            (
                "point of sale touchscreens for waiters",
                "restaurant kitchen order tickets and table service",
            ),
        ),
        (
            "Cafe point of sale system",
            "Bean There Cafe",
            (
                "restaurant POS tablets for the cafe counter",
                "menu, tips and card payments for diners",
            ),
        ),
        (
            "POS for a diner restaurant chain",
            "Sunny Side Diner",
            (
                "restaurant point of sale and kitchen display",
                "menu management and receipt printers for diners",
            ),
        ),
    ],
}

QUERIES = {
    "security": "cybersecurity audit and SOC monitoring",
    "warehouse": "forklifts for a logistics warehouse",
    "payroll": "payroll and HR software for employees",
    "restaurant": "point of sale system for a restaurant",
}

# Per theme: deal 0 is an open prospect, deal 1 an open negotiation, deal 2 closed.
CLOSED_AS = {
    "security": ("won", None),
    "warehouse": ("lost", "Price"),
    "payroll": ("lost", "budget"),
    "restaurant": ("won", None),
}


@dataclass
class Seeded:
    """What :func:`seed_themes` created: deal ids per theme, and each id's theme."""

    by_theme: dict[str, list[uuid.UUID]]

    @property
    def theme_of(self) -> dict[uuid.UUID, str]:
        return {deal: theme for theme, deals in self.by_theme.items() for deal in deals}

    @property
    def all_ids(self) -> set[uuid.UUID]:
        return set(self.theme_of)

    def stage_of(self, deal_id: uuid.UUID) -> str:
        position = next(d.index(deal_id) for d in self.by_theme.values() if deal_id in d)
        return ("prospect", "negotiation", "closed")[position]


def seed_themes(store: Store, workspace_id: uuid.UUID) -> Seeded:
    """The 12 themed deals, their notes stored as activities."""
    by_theme: dict[str, list[uuid.UUID]] = {}
    for theme, rows in THEMES.items():
        ids = []
        for position, (title, company, notes) in enumerate(rows):
            data: dict[str, object] = {
                "title": title,
                "company": company,
                "value": 20_000 * (position + 1),
            }
            if position == 0:
                data["stage"] = "prospect"
            elif position == 1:
                data["stage"] = "negotiation"
            else:
                outcome, reason = CLOSED_AS[theme]
                data.update(stage="closed", outcome=outcome, lost_reason=reason)
            deal = store.deals.create(workspace_id, data, now=NOW)
            for day, note in enumerate(notes):
                store.activities.add(
                    deal.id,
                    {"type": "note", "description": note, "date": NOW + timedelta(days=day)},
                )
            ids.append(deal.id)
        by_theme[theme] = ids
    return Seeded(by_theme)


def current_hash(store: Store, embedder: Embedder, deal_id: uuid.UUID) -> str:
    """The text hash the deal's point must carry when it is up to date."""
    deal = store.deals.get(deal_id)
    (source,) = load_deal_sources(store.db, deal.workspace_id, [deal_id])
    return text_hash(deal_text(source), embedder.model_id)


def memory_index(dimension: int, rebuild: bool) -> ClientIndex:
    with warnings.catch_warnings():
        # qdrant-client's local mode says payload indexes do nothing there: expected.
        warnings.filterwarnings("ignore", message="Payload indexes have no effect")
        return ClientIndex(":memory:", dimension, rebuild=rebuild)
