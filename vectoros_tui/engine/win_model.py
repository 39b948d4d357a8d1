"""P(an open deal is won within the window | what was known then), learned from history.

A discrete-time competing-risks model: the window is the time step, and an open deal at
a cut-off ends it in one of three ways, won, lost, or still open. The training rows are
the workspace's open deals at past cut-offs, each with how its next window ended. The
three outcomes get a multinomial logit (still open is the reference) on the features of
:mod:`vectoros_tui.engine.win_features`; deal age enters in bands, the baseline hazard.

It is fitted by penalised maximum likelihood with scipy (L-BFGS, exact gradient). The L2
penalty pulls every effect towards zero, i.e. towards the global rates the unpenalised
intercepts carry; stage effects are penalised less, so with thin history a deal's odds
fall back to its stage's and then to the workspace's. scipy is already a dependency and
this is one regression with its covariance; scikit-learn, statsmodels or lifelines would
each add a large install for it and none gives the penalised multinomial fit with its
Laplace covariance ready to simulate from.

Two kinds of uncertainty make the simulation honest instead of a sum of independent
coins:

* parameters: the coefficients are drawn from their Laplace approximation, N(fit, H^-1),
  so thin history widens the band;
* periods: some months close far more than others. Each training cut-off gets the shift
  of the win logit that makes the model match what that period actually won; the spread
  of those shifts, less their own sampling noise, is the period-to-period variation, and
  every simulated run draws one shift shared by all its deals.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from vectoros_tui.engine import many_deals
from vectoros_tui.engine.forecast import worker_pool
from vectoros_tui.engine.win_features import FEATURES, OwnerRates

# Below these the history says too little; the rep's probabilities are used instead.
MIN_TRAINING_ROWS: Final = 200
MIN_WINS: Final = 20

PENALTY: Final = 5.0
STAGE_PENALTY: Final = 1.0
# Parameter draws per forecast: enough for the band, cheap next to the runs themselves.
PARAMETER_DRAWS: Final = 200
# Below this many deal-runs a second thread costs more than it saves.
_PARALLEL_MIN_CELLS: Final = 500_000
_CHUNK_CELLS: Final = 250_000

# How a training row's window ended.
STILL_OPEN: Final = 0
WON: Final = 1
LOST: Final = 2


@dataclass(frozen=True)
class WinModel:
    won: NDArray[np.float64]  # intercept, then per standardised feature
    lost: NDArray[np.float64]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    covariance: NDArray[np.float64]  # of (won, lost) stacked
    period_sd: float  # of the win logit's shift shared by a period's deals
    rows: int
    wins: int
    losses: int
    periods: int
    # Owners' past rates, as the training rows had them: what a forecast's deals use.
    owners: OwnerRates = field(default_factory=lambda: OwnerRates({}, 0.0))

    @property
    def theta(self) -> NDArray[np.float64]:
        return np.concatenate([self.won, self.lost])

    @property
    def base_rate(self) -> float:
        return self.wins / self.rows if self.rows else 0.0

    def design(self, matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.hstack([np.ones((len(matrix), 1)), (matrix - self.mean) / self.scale])

    def outcome_probabilities(self, matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per deal: P(still open), P(won), P(lost) at the end of the window."""
        design = self.design(matrix)
        return _softmax(design @ self.won, design @ self.lost)

    def probabilities(self, matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.outcome_probabilities(matrix)[:, WON]

    def contributions(self, matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each feature's push on each deal's win logit, against the average training
        deal (the logit of winning against staying open)."""
        return ((matrix - self.mean) / self.scale) * self.won[1:]


def enough_history(rows: int, wins: int) -> bool:
    return rows >= MIN_TRAINING_ROWS and wins >= MIN_WINS


def _softmax(won: NDArray[np.float64], lost: NDArray[np.float64]) -> NDArray[np.float64]:
    logits = np.stack([np.zeros_like(won), won, lost], axis=-1)
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warnings for large |x|


def _penalties(width: int) -> NDArray[np.float64]:
    ridge = np.array(
        [STAGE_PENALTY if name.startswith("stage:") else PENALTY for name in FEATURES[:width]]
        + [PENALTY] * (width - len(FEATURES[:width]))
    )
    return np.concatenate([[0.0], ridge])  # the intercept carries the global rate


def fit_win_model(
    matrix: NDArray[np.float64],
    outcome: NDArray[np.int64],
    period: NDArray[np.int64],
    start: NDArray[np.float64] | None = None,
) -> WinModel:
    """Fit on training rows: ``outcome`` is each row's STILL_OPEN / WON / LOST and
    ``period`` numbers its cut-off. ``start`` (a previous fit's :attr:`WinModel.theta`,
    e.g. one cut-off earlier) only speeds the search up."""
    rows, width = matrix.shape
    mean = matrix.mean(axis=0) if rows else np.zeros(width)
    scale = matrix.std(axis=0) if rows else np.ones(width)
    scale[scale < 1e-9] = 1.0
    design = np.hstack([np.ones((rows, 1)), (matrix - mean) / scale])
    targets = np.eye(3)[outcome] if rows else np.zeros((0, 3))
    ridge = np.tile(_penalties(width), 2)
    if start is None or start.shape != (2 * (width + 1),):
        start = np.zeros(2 * (width + 1))
        counts = targets.sum(axis=0) + 0.5
        start[0] = math.log(counts[WON] / counts[STILL_OPEN])
        start[width + 1] = math.log(counts[LOST] / counts[STILL_OPEN])

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        won, lost = design @ theta[: width + 1], design @ theta[width + 1 :]
        logits = np.stack([np.zeros(rows), won, lost], axis=1)
        normaliser = np.logaddexp.reduce(logits, axis=1)
        nll = float(np.sum(normaliser - (targets * logits).sum(axis=1)))
        p = np.exp(logits - normaliser[:, None])
        residual = p - targets
        gradient = (
            np.concatenate([design.T @ residual[:, WON], design.T @ residual[:, LOST]])
            + ridge * theta
        )
        return nll + 0.5 * float(ridge @ (theta * theta)), gradient

    # Only a fit needs scipy (0.4 s to import): a forecast from a kept fit does not.
    from scipy import optimize

    theta = optimize.minimize(loss, start, jac=True, method="L-BFGS-B").x
    won, lost = theta[: width + 1], theta[width + 1 :]
    p = _softmax(design @ won, design @ lost)
    covariance = _covariance(design, p, ridge, targets, period)
    return WinModel(
        won=won,
        lost=lost,
        mean=mean,
        scale=scale,
        covariance=covariance,
        period_sd=_period_sd(design @ won, design @ lost, outcome == WON, period),
        rows=rows,
        wins=int((outcome == WON).sum()),
        losses=int((outcome == LOST).sum()),
        periods=len(np.unique(period)),
    )


def _covariance(
    design: NDArray[np.float64],
    p: NDArray[np.float64],
    ridge: NDArray[np.float64],
    targets: NDArray[np.float64],
    period: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The parameters' covariance, robust to rows of one cut-off moving together.

    The rows of a cut-off share its month (its calendar features are the same for all of
    them) and the same deal recurs at many cut-offs, so they are far from independent;
    the inverse Hessian alone would treat 10,000 rows from 20 months as 10,000 pieces of
    evidence about a month's effect. The cluster-robust (sandwich) estimate, clustered by
    cut-off, counts the months; the larger of the two is used, element by element on the
    diagonal's scale, so thin history never looks surer than the Hessian says.
    """
    blocks = [[np.empty(0)] * 2 for _ in range(2)]
    for i, a in enumerate((WON, LOST)):
        for j, b in enumerate((WON, LOST)):
            weight = p[:, a] * ((a == b) - p[:, b])
            blocks[i][j] = (design * weight[:, None]).T @ design
    hessian = np.block(blocks) + np.diag(ridge + 1e-9)
    inverse = np.linalg.pinv(hessian)
    clusters = np.unique(period)
    if len(clusters) < 5:
        return inverse
    residual = targets - p
    scores = np.hstack([design * residual[:, [WON]], design * residual[:, [LOST]]])
    by_cluster = np.zeros((len(clusters), scores.shape[1]))
    np.add.at(by_cluster, np.searchsorted(clusters, period), scores)
    meat = by_cluster.T @ by_cluster * len(clusters) / (len(clusters) - 1)
    robust = inverse @ meat @ inverse
    # Scale the Hessian's covariance up where the robust one is wider (keeps it a valid
    # covariance: a congruence by a diagonal matrix).
    ratio = np.sqrt(np.maximum(np.diag(robust) / np.maximum(np.diag(inverse), 1e-300), 1.0))
    return inverse * np.outer(ratio, ratio)


def _win_probability(won: NDArray[np.float64], lost: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(won) of the three-way softmax, stably: sigmoid(won - log(1 + e^lost))."""
    return _sigmoid(won - np.logaddexp(0.0, lost))


def _period_sd(
    won: NDArray[np.float64],
    lost: NDArray[np.float64],
    y: NDArray[np.bool_],
    period: NDArray[np.int64],
) -> float:
    """The spread of the win-logit shift that makes each period's expected wins its
    actual wins, less the spread sampling alone would give those shifts."""
    from scipy import optimize

    shifts = []
    noise = []
    for label in np.unique(period):
        rows = period == label
        wins = float(y[rows].sum())
        if wins == 0 or wins == rows.sum():
            continue  # no finite shift matches all or nothing; counted by the others

        def gap(shift: float, rows: NDArray[np.bool_] = rows, wins: float = wins) -> float:
            return float(_win_probability(won[rows] + shift, lost[rows]).sum() - wins)

        shift = optimize.brentq(gap, -20.0, 20.0)
        p = _win_probability(won[rows] + shift, lost[rows])
        shifts.append(shift)
        noise.append(1.0 / max(float((p * (1 - p)).sum()), 1e-9))
    if len(shifts) < 3:
        return 0.0
    spread = float(np.var(shifts, ddof=1)) - float(np.mean(noise))
    return math.sqrt(max(spread, 0.0))


def simulate_won_totals(
    model: WinModel,
    matrix: NDArray[np.float64],
    values: NDArray[np.float64],
    runs: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Totals won in the window over ``runs`` simulated periods: each run draws the
    model's parameters, a period shift shared by all deals, then each deal's win.

    ``values`` may be a matrix (deals x groups, e.g. each deal's value in its owner's
    column): the totals are then runs x groups, every group's from the same runs, so a
    team's total is their sum run by run."""
    totals = np.zeros((runs, *values.shape[1:]))
    if not len(values) or runs <= 0:
        return totals
    design = model.design(matrix)
    width = design.shape[1]
    theta = np.concatenate([model.won, model.lost])
    draws = min(PARAMETER_DRAWS, runs)
    parameters = rng.multivariate_normal(theta, model.covariance, size=draws, method="eigh")
    # Per draw and deal, the logit of winning against not (lost or still open): a period
    # shift moves it, the loss logit does not.
    win_logit = (design @ parameters[:, :width].T) - np.logaddexp(
        0.0, design @ parameters[:, width:].T
    )
    win_logit = win_logit.T.astype(np.float32)  # draws x deals
    per_draw = -(-runs // draws)
    draw_of_run = np.repeat(np.arange(draws), per_draw)[:runs]
    shifts = (
        rng.normal(0.0, model.period_sd, size=runs) if model.period_sd else np.zeros(runs)
    ).astype(np.float32)
    small_deals = None
    if many_deals.worth_it(win_logit, values):
        # Thousands of deals: the small ones are summed per run as a normal (see many_deals).
        exact, small = many_deals.split(values)
        small_deals = many_deals.small_deal_totals(
            win_logit[:, small], values[small], draw_of_run, shifts, model.period_sd, rng
        )
        win_logit, values = np.ascontiguousarray(win_logit[:, exact]), values[exact]
    # Two independent streams, always: the split depends on the job alone, so a seed gives
    # the same totals on one core or two.
    entropy = rng.bit_generator.random_raw(4).tolist()
    kind = type(rng.bit_generator)
    streams = [np.random.Generator(kind(s)) for s in np.random.SeedSequence(entropy).spawn(2)]
    halves = np.array_split(np.arange(runs), 2)
    # float32 sums drift by a few dollars in tens of millions: nothing next to the band.
    values32 = values.astype(np.float32)
    jobs = [(stream, half) for stream, half in zip(streams, halves, strict=True) if half.size]

    def fill(stream: np.random.Generator, chosen: NDArray[np.int64]) -> None:
        # Chunks of whole runs, each a few numpy calls: per-call overhead, not the
        # arithmetic, was the cost with a call per parameter draw.
        rows = max(1, _CHUNK_CELLS // len(values))
        for start in range(0, chosen.size, rows):
            block = chosen[start : start + rows]
            logits = win_logit[draw_of_run[block]]
            logits += shifts[block][:, None]
            # A deal wins when a uniform 16-bit integer is below 65536 · sigmoid(x): its
            # chance to within 1/65536, from a quarter of the random bits of a float.
            np.negative(logits, out=logits)
            with np.errstate(over="ignore"):  # e^big is inf: that deal cannot win, rightly
                np.exp(logits, out=logits)
            logits += 1.0
            np.divide(65536.0, logits, out=logits)
            cells = logits.size
            draws = stream.bit_generator.random_raw(-(-cells // 4)).view(np.uint16)[:cells]
            wins = draws.reshape(logits.shape) < logits
            totals[block] = wins.astype(np.float32) @ values32

    if len(jobs) > 1 and runs * len(values) >= _PARALLEL_MIN_CELLS and (os.cpu_count() or 1) > 1:
        # numpy's random fills, exp and matmul release the GIL: two threads, two cores.
        other = worker_pool(1).submit(fill, *jobs[1])
        fill(*jobs[0])
        other.result()
    else:
        for job in jobs:
            fill(*job)
    if small_deals is not None:
        totals += small_deals
    return totals
