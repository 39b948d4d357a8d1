"""What an open deal without an amount brings in if won, where the workspace's amounts are
filled in at the close.

Some CRMs (and the exports made from them) give a deal its amount only when it closes:
won deals carry what they closed for, lost ones 0 and open ones nothing. There an open
deal's missing amount means "not known yet", not "worth nothing", and a forecast that
counts it as $0 forecasts $0. Its revenue if won is then drawn from the amounts of the
deals won before: the sum of k such wins has the mean k·m and the variance k·s² of k
draws from them (m, s: their mean and standard deviation). The sum is drawn as a gamma of
that mean and variance: never below zero, as skewed as amounts are, and exact when the
amounts themselves are gamma-shaped.

In such a file the amount also tells how each deal ended (above 0: won), so no amount is
known of a deal before the store saw it; the history's as-of view leaves it out (see
``WorkspaceHistory.amounts_at_close``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

# Lost deals it takes to tell a convention from chance, and the share of them with no
# amount that says the amount is filled in at the close (a file where reps price their
# deals has few lost ones at 0).
MIN_LOST: Final = 10
LOST_UNPRICED_SHARE: Final = 0.95
# Won amounts needed to stand for an unknown one.
MIN_WON_AMOUNTS: Final = 10


def amounts_at_close(outcomes: Sequence[str | None], values: Sequence[float | None]) -> bool:
    """Whether deals (their outcomes and amounts today) have their amount filled in only
    at the close: lost deals with no amount (at least :data:`LOST_UNPRICED_SHARE` of at
    least :data:`MIN_LOST`), won deals with one (most of at least :data:`MIN_WON_AMOUNTS`)."""
    lost = lost_unpriced = won = won_priced = 0
    for outcome, value in zip(outcomes, values, strict=True):
        priced = value is not None and value > 0
        if outcome == "lost":
            lost += 1
            lost_unpriced += not priced
        elif outcome == "won":
            won += 1
            won_priced += priced
    return (
        lost >= MIN_LOST
        and lost_unpriced >= LOST_UNPRICED_SHARE * lost
        and won >= MIN_WON_AMOUNTS
        and won_priced >= 0.5 * won
    )


@dataclass(frozen=True)
class WonAmounts:
    """The amounts of deals won before a moment, as an unknown amount's stand-in."""

    mean: float
    sd: float
    deals: int

    @classmethod
    def of(cls, amounts: NDArray[np.float64]) -> WonAmounts | None:
        """From the amounts of won deals (those not above 0 are left out); None with
        fewer than :data:`MIN_WON_AMOUNTS`."""
        priced = amounts[np.isfinite(amounts) & (amounts > 0)]
        if len(priced) < MIN_WON_AMOUNTS:
            return None
        return cls(float(priced.mean()), float(priced.std(ddof=1)), len(priced))

    def to_json(self) -> dict[str, float | int]:
        """As a forecast's JSON shows them (to the cent)."""
        return {"mean": round(self.mean, 2), "sd": round(self.sd, 2), "deals": self.deals}

    def kept(self) -> dict[str, float | int]:
        """As a kept fit stores them: unrounded, so a fit read back simulates exactly as
        the fresh one did (the app, the CLI and the server agree to the cent)."""
        return {"mean": self.mean, "sd": self.sd, "deals": self.deals}

    @classmethod
    def from_json(cls, payload: object) -> WonAmounts | None:
        """The amounts kept by :meth:`kept` (None: none); raises on anything else."""
        if payload is None:
            return None
        if not isinstance(payload, dict):
            raise TypeError("won amounts are an object")
        mean, sd, deals = float(payload["mean"]), float(payload["sd"]), int(payload["deals"])
        if not (math.isfinite(mean) and math.isfinite(sd)) or mean <= 0 or sd < 0:
            raise ValueError("won amounts out of range")
        return cls(mean, sd, deals)

    def priced(self, values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """``values`` with each missing (0 or NaN) one as the mean won, and which those are."""
        unpriced = ~(np.isfinite(values) & (values > 0))
        return np.where(unpriced, self.mean, values), unpriced

    def totals(
        self, expected: NDArray[np.float64], rng: np.random.Generator
    ) -> NDArray[np.float64]:
        """Per cell, the sum won by unpriced deals whose count of wins times the mean is
        ``expected``: a gamma of mean ``expected`` and variance wins · sd²."""
        found = np.zeros_like(expected, dtype=np.float64)
        some = expected > 0
        if not some.any():
            return found
        if self.sd <= 0:
            found[some] = expected[some]
            return found
        scale = self.sd**2 / self.mean
        found[some] = rng.gamma(expected[some] / scale, scale)
        return found
