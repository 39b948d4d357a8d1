"""CSV exports shaped the way CRMs write their opportunity history, for the benchmarks.

Two kinds, from the same deals:

* ``amounts_at_close``: the amount is filled in when a deal closes, as in the public
  Maven Analytics CRM sample (a sales_pipeline.csv of about 8,800 opportunities): won
  deals carry what they closed for, lost deals ``0`` and open deals nothing at all. The
  amount then tells whoever reads the file how each deal ended.
* ``amounts_kept``: the amount is the deal's price all along (a Salesforce opportunity
  export): lost and open deals keep theirs.

Columns as the Maven file has them: opportunity_id, sales_agent, product, account,
deal_stage (Won, Lost, Engaging), engage_date, close_date, close_value.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

KINDS = ("amounts_at_close", "amounts_kept")
PRODUCTS = {
    "GTX Basic": 550,
    "GTX Pro": 4821,
    "MG Special": 55,
    "MG Advanced": 3393,
    "GTX Plus Basic": 1096,
    "GTX Plus Pro": 5482,
    "GTK 500": 26768,
}
FIRST = date(2016, 10, 20)
EXPORTED = date(2017, 12, 31)


def _quarter_day_28(day: date) -> date:
    """Day 28 of the last month of ``day``'s quarter."""
    month = ((day.month - 1) // 3) * 3 + 3
    return date(day.year, month, 28)


def write_export(
    path: Path, kind: str, deals: int = 8_700, seed: int = 1, closed_from: date | None = None
) -> Path:
    """An export of ``deals`` opportunities of ``kind`` (see :data:`KINDS`) at ``path``;
    with ``closed_from``, one that starts mid-stream: deals closed before that day are
    not in it (as in the Maven sample, where nothing closes in the first four months)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    rng = np.random.default_rng(seed)
    agents = [f"Agent {i:02d}" for i in range(30)]
    skill = rng.normal(0.0, 0.35, size=len(agents))
    accounts = [f"Account {i:02d}" for i in range(85)]
    names = list(PRODUCTS)
    weights = np.array([0.18, 0.15, 0.18, 0.14, 0.15, 0.13, 0.07])
    span = (EXPORTED - FIRST).days
    # Months swing: some bring twice the wins of others.
    month_mood = {m: rng.normal(0.0, 0.3) for m in range(15)}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "opportunity_id",
                "sales_agent",
                "product",
                "account",
                "deal_stage",
                "engage_date",
                "close_date",
                "close_value",
            ]
        )
        for number in range(deals):
            # More deals engaged as the business grows.
            engaged = FIRST + timedelta(days=int(span * np.sqrt(rng.uniform())))
            agent = int(rng.integers(len(agents)))
            product = names[int(rng.choice(len(names), p=weights))]
            price = PRODUCTS[product]
            mood = month_mood[(engaged.year - FIRST.year) * 12 + engaged.month - FIRST.month]
            won_chance = 1.0 / (1.0 + np.exp(-(0.0 + skill[agent] + mood)))
            days = int(rng.gamma(1.3, 40.0)) + 1
            closed = engaged + timedelta(days=days)
            if rng.uniform() < 0.3:
                closed = max(closed, _quarter_day_28(closed))
            amount = round(price * rng.uniform(0.85, 1.15))
            if closed_from is not None and closed < closed_from:
                continue
            if closed > EXPORTED:
                stage, close_text = "Engaging", ""
                value = "" if kind == "amounts_at_close" else str(amount)
            elif rng.uniform() < won_chance:
                stage, close_text, value = "Won", closed.isoformat(), str(amount)
            else:
                stage, close_text = "Lost", closed.isoformat()
                value = "0" if kind == "amounts_at_close" else str(amount)
            writer.writerow(
                [
                    f"OPP{number:06d}",
                    agents[agent],
                    product,
                    accounts[int(rng.integers(len(accounts)))],
                    stage,
                    engaged.isoformat(),
                    close_text,
                    value,
                ]
            )
    return path
