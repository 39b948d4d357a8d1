"""How a history-model fit is kept: its JSON form, and whether a kept fit still serves.

Without SQLAlchemy: the store's ModelStore keeps fits, and the driver-only update of a
kept forecast (store.forecast_update) reads them back.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

import numpy as np

from vectoros_tui.engine.unpriced import WonAmounts
from vectoros_tui.engine.win_features import FEATURES, OwnerRates
from vectoros_tui.engine.win_model import WinModel

_ARRAYS = ("won", "lost", "mean", "scale", "covariance")
_NUMBERS = ("period_sd", "rows", "wins", "losses", "periods")
# How the kept fits are trained: a fit kept by a version that trained otherwise (2: cut-offs
# a third of a window apart, not one window) is not what this version would fit, and is
# fitted again rather than served for the week a fit is kept.
FIT_VERSION = 2


class DataSize(NamedTuple):
    """How much a workspace holds, as far as its history model is concerned."""

    closed: int  # deals won or lost
    deals: int


# A fit learns from every month of the workspace's past; a few more days of it, closing
# few enough deals to pass close_enough, barely move it. A 100,000-deal fit takes ten
# seconds, which every team's first forecast of the day would otherwise wait for.
FIT_KEPT_DAYS = 7


def fit_holds(fitted_for: date, day: date) -> bool:
    """Whether a fit made for ``fitted_for`` may serve ``day`` (never one made for a later
    day: a clock set back)."""
    return 0 <= (day - fitted_for).days < FIT_KEPT_DAYS


def close_enough(then: DataSize, now: DataSize) -> bool:
    """Whether a fit made on ``then`` still speaks for ``now``: within 1% (at least 3) of
    the closed deals and 2% (at least 10) of the deals."""
    return abs(now.closed - then.closed) <= max(3, then.closed // 100) and abs(
        now.deals - then.deals
    ) <= max(10, then.deals // 50)


def model_to_json(model: WinModel, cutoffs: int) -> dict[str, Any]:
    found: dict[str, Any] = {name: getattr(model, name).tolist() for name in _ARRAYS}
    found.update({name: getattr(model, name) for name in _NUMBERS})
    found["cutoffs"] = cutoffs
    found["version"] = FIT_VERSION
    found["unpriced"] = None if model.unpriced is None else model.unpriced.kept()
    found["owners"] = {
        "base": model.owners.base,
        "counts": {owner: list(count) for owner, count in model.owners.counts.items()},
    }
    return found


def model_from_json(payload: dict[str, Any]) -> tuple[WinModel, int] | None:
    """The model kept, or None when the payload is not one this version reads."""
    if payload.get("version") != FIT_VERSION:
        return None
    try:
        arrays = {name: np.asarray(payload[name], dtype=np.float64) for name in _ARRAYS}
        if arrays["mean"].shape != (len(FEATURES),):
            return None  # fitted by a version with other features: fit again
        model = WinModel(
            won=arrays["won"],
            lost=arrays["lost"],
            mean=arrays["mean"],
            scale=arrays["scale"],
            covariance=arrays["covariance"],
            period_sd=float(payload["period_sd"]),
            rows=int(payload["rows"]),
            wins=int(payload["wins"]),
            losses=int(payload["losses"]),
            periods=int(payload["periods"]),
            unpriced=WonAmounts.from_json(payload["unpriced"]),
            owners=OwnerRates(
                {
                    str(k): (float(v[0]), float(v[1]))
                    for k, v in payload["owners"]["counts"].items()
                },
                float(payload["owners"]["base"]),
            ),
        )
        return model, int(payload["cutoffs"])
    except (KeyError, TypeError, ValueError):
        return None
