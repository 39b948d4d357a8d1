"""The demo's words: industries and company names, deal kinds, people, lost reasons and
activity notes, shared by today's demo pipeline and the played-out history."""

from __future__ import annotations

INDUSTRIES: dict[str, tuple[list[str], list[str], float]] = {
    # industry: (name stems, suffixes, typical deal size)
    "software": (
        ["Cloud", "Byte", "Stack", "Pixel", "Quantum", "Nimbus", "Vertex"],
        ["Labs", "Systems", "Software", "AI"],
        42_000,
    ),
    "fintech": (
        ["Ledger", "Coin", "Vault", "Clear", "Harbor", "Summit"],
        ["Capital", "Pay", "Financial", "Bank"],
        65_000,
    ),
    "healthcare": (
        ["Care", "Vital", "Medi", "Well", "Cura", "Pulse"],
        ["Health", "Clinics", "Bio", "Medical"],
        55_000,
    ),
    "manufacturing": (
        ["Iron", "Forge", "Atlas", "Titan", "Precision", "Granite"],
        ["Industries", "Manufacturing", "Works", "Group"],
        80_000,
    ),
    "retail": (
        ["Market", "Urban", "Fresh", "Corner", "Bright", "Maple"],
        ["Retail", "Stores", "Goods", "Outfitters"],
        24_000,
    ),
    "logistics": (
        ["Swift", "Route", "Cargo", "Northern", "Blue", "Pacific"],
        ["Logistics", "Freight", "Shipping", "Transport"],
        38_000,
    ),
    "education": (
        ["Scholar", "Bright", "Campus", "Learn", "Oak", "Beacon"],
        ["Academy", "Learning", "University", "Schools"],
        18_000,
    ),
}
DEAL_KINDS = [
    ("Platform license", 1.0),
    ("Annual renewal", 0.7),
    ("Expansion", 0.6),
    ("Pilot", 0.25),
    ("Enterprise agreement", 2.2),
    ("Security add-on", 0.35),
    ("Data migration", 0.5),
    ("Analytics upgrade", 0.45),
    ("Multi-year deal", 2.8),
]
FIRST = [
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Mateo",
    "Sofia",
    "Ethan",
    "Priya",
    "Chen",
    "Fatima",
    "Lucas",
    "Hana",
    "Omar",
    "Grace",
    "Diego",
    "Yuki",
    "Aisha",
    "Jonas",
    "Maya",
]
LAST = [
    "Patel",
    "Garcia",
    "Kim",
    "Nguyen",
    "Smith",
    "Rossi",
    "Müller",
    "Okafor",
    "Silva",
    "Cohen",
    "Larsen",
    "Tanaka",
    "Haddad",
    "Walsh",
    "Novak",
    "Dubois",
    "Reyes",
    "Singh",
]
LOST_REASONS = [
    ("Price", 0.32),
    ("Lost to competitor", 0.24),
    ("No budget", 0.14),
    ("Timing / no decision", 0.16),
    ("Missing features", 0.09),
    ("Went silent", 0.05),
]
NEXT_STEPS = {
    "prospect": ["Book a discovery call", "Send intro deck", "Find the economic buyer"],
    "qualified": ["Run the demo", "Agree success criteria", "Map the decision process"],
    "proposal": ["Send the proposal", "Walk through pricing", "Get legal's redlines"],
    "negotiation": ["Agree final terms", "Get the PO signed", "Security review sign-off"],
}

ACTIVITY_TEXT = {
    "email": [
        "Sent pricing overview",
        "Followed up on proposal",
        "Shared case study",
        "Sent contract draft",
        "Answered security questionnaire",
    ],
    "call": [
        "Discovery call with stakeholders",
        "Pricing discussion",
        "Check-in call",
        "Call with procurement",
        "Technical deep-dive call",
    ],
    "meeting": [
        "On-site demo",
        "Executive sponsor meeting",
        "Workshop with the team",
        "Quarterly business review",
        "Negotiation meeting",
    ],
    "note": [
        "Champion is supportive",
        "Budget confirmed for next quarter",
        "Competitor also in evaluation",
        "Legal review pending",
        "Decision maker changed",
    ],
}
