"""P(an open deal is won within the window | what was known then), learned from history.

A discrete-time competing-risks model: the window is the time step, and an open deal at
a cut-off ends it in one of three ways, won, lost, or still open. The training rows are
the workspace's open deals at past cut-offs, each with how its next window ended. The
three outcomes get a multinomial logit (still open is the reference) on the features of
:mod:`vectoros_tui.engine.win_features`; deal age enters in bands, the baseline hazard.

It is fitted by penalised maximum likelihood, by Newton's method (exact gradient, see
:class:`_Likelihood`) in numpy alone: a team's 180,000 training rows are fitted in a
fraction of a second, and a fit no longer imports scipy (0.4 s). The L2 penalty pulls
every effect towards zero, i.e. towards the global rates the unpenalised intercepts
carry; stage effects are penalised less, so with thin history a deal's odds fall back to
its stage's and then to the workspace's. This is one regression with its covariance;
scikit-learn, statsmodels or lifelines would each add a large install for it and none
gives the penalised multinomial fit with its Laplace covariance ready to simulate from.

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

import itertools
import math
import os
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from vectoros_tui.engine import many_deals
from vectoros_tui.engine.forecast import worker_pool
from vectoros_tui.engine.unpriced import WonAmounts
from vectoros_tui.engine.win_features import FEATURES, OwnerRates, reason_group

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
    # Where amounts are filled in at the close: what an unpriced open deal brings if won
    # (see :mod:`vectoros_tui.engine.unpriced`). None: an unpriced deal brings nothing.
    unpriced: WonAmounts | None = None

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

    def unlearned(self) -> tuple[str, ...]:
        """The reasons (see :func:`reason_group`) the training rows never showed varying,
        so the model learned nothing of them and holds them at no effect: before an
        import's day no stage, rep probability or close date is known."""
        width = len(self.mean)
        none = (
            (self.won[1:] == 0.0)
            & (self.lost[1:] == 0.0)
            & (np.diag(self.covariance)[1 : width + 1] == 0.0)
        )
        groups: dict[str, bool] = {}
        for name, nothing in zip(FEATURES, none.tolist(), strict=False):
            group = reason_group(name)
            groups[group] = groups.get(group, True) and nothing
        return tuple(group for group, nothing in groups.items() if nothing)

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
    clusters: NDArray[np.int64] | None = None,
) -> WinModel:
    """Fit on training rows: ``outcome`` is each row's STILL_OPEN / WON / LOST and
    ``period`` numbers its cut-off. ``start`` (a previous fit's :attr:`WinModel.theta`,
    e.g. one cut-off earlier) only speeds the search up. ``clusters`` (default: the
    periods) groups the rows whose outcomes move together, for the parameters'
    covariance: overlapping windows share days and deals."""
    rows, width = matrix.shape
    mean = matrix.mean(axis=0) if rows else np.zeros(width)
    scale = matrix.std(axis=0) if rows else np.ones(width)
    unlearned = scale < 1e-9
    scale[unlearned] = 1.0
    design = np.empty((rows, width + 1))
    design[:, 0] = 1.0
    np.divide(matrix - mean, scale, out=design[:, 1:])
    won_rows, lost_rows = outcome == WON, outcome == LOST
    ridge = np.tile(_penalties(width), 2)
    if start is None or start.shape != (2 * (width + 1),):
        start = np.zeros(2 * (width + 1))
        counts = np.bincount(outcome, minlength=3)[:3] + 0.5
        start[0] = math.log(counts[WON] / counts[STILL_OPEN])
        start[width + 1] = math.log(counts[LOST] / counts[STILL_OPEN])
    likelihood = _Likelihood(design, won_rows, lost_rows, ridge)
    theta, p, logits = likelihood.maximise(start)
    covariance = _covariance(
        design,
        p,
        likelihood.hessian(p),
        won_rows,
        lost_rows,
        period if clusters is None else clusters,
    )
    # A feature that never varied in training (no deal's stage is known before the day of
    # the export it came from) taught nothing: its effect is none, held exactly, so that a
    # deal's value of it neither moves its chance nor draws the prior's spread of an
    # effect never seen into the band.
    unknown = np.concatenate([[False], unlearned, [False], unlearned])
    theta[unknown] = 0.0
    covariance[unknown, :] = 0.0
    covariance[:, unknown] = 0.0
    won, lost = theta[: width + 1], theta[width + 1 :]
    return WinModel(
        won=won,
        lost=lost,
        mean=mean,
        scale=scale,
        covariance=covariance,
        period_sd=_period_sd(
            logits[:, 0],
            logits[:, 1],
            won_rows,
            period,
            _calendar_effects(unlearned),
            overlap=_overlap(period, clusters),
        ),
        rows=rows,
        wins=int(won_rows.sum()),
        losses=int(lost_rows.sum()),
        periods=len(np.unique(period)),
    )


# The Newton steps measure the curvature on this many rows at most (every k-th): it only
# sets how fast the fit gets there, the gradient of every row sets where it ends.
_CURVATURE_ROWS: Final = 30_000
_MAX_STEPS: Final = 200
# Stop when the penalised log likelihood is this close (relative) to its maximum: a few
# thousandths of a standard error from the optimum on 100,000 rows.
_TOLERANCE: Final = 1e-11


class _Likelihood:
    """The penalised negative log likelihood of the three-way logit and its derivatives.

    It is maximised by Newton's method with a backtracking line search. L-BFGS (what
    this was first) needed 120 evaluations of 180,000 rows for a team's history; Newton
    needs about eight, each with the Hessian of a subsample of the rows (an exact gradient
    keeps the optimum exact; the subsample's curvature only steers)."""

    def __init__(
        self,
        design: NDArray[np.float64],
        won: NDArray[np.bool_],
        lost: NDArray[np.bool_],
        ridge: NDArray[np.float64],
    ) -> None:
        self.design = design
        self.ridge = ridge
        self.width = design.shape[1]
        # The logits' terms of the observed outcomes are linear in the parameters.
        self.observed = np.concatenate(
            [design.T @ won.astype(np.float64), design.T @ lost.astype(np.float64)]
        )
        self.every = max(1, -(-len(design) // _CURVATURE_ROWS))
        self.sample = np.ascontiguousarray(design[:: self.every])

    def value(
        self, theta: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(value, gradient, P(won) and P(lost) per row, the won and lost logits)."""
        logits = self.design @ theta.reshape(2, self.width).T
        top = np.maximum(logits.max(axis=1), 0.0)
        weights = np.exp(logits - top[:, None])
        total = np.exp(-top) + weights.sum(axis=1)
        p = weights / total[:, None]
        nll = float(np.sum(top + np.log(total))) - float(theta @ self.observed)
        gradient = (self.design.T @ p).T.ravel() - self.observed + self.ridge * theta
        return nll + 0.5 * float(self.ridge @ (theta * theta)), gradient, p, logits

    def hessian(
        self, p: NDArray[np.float64], design: NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """The Hessian of :meth:`value` with ``p`` the rows' P(won), P(lost); of the rows
        of ``design`` (default: all), scaled up to all of them."""
        if design is None:
            design = self.design
        rows, width = design.shape
        blocks = np.zeros((3 * width, width))
        # The three blocks (won-won, won-lost, lost-lost) in one product per chunk of rows:
        # a BLAS call has a cost of its own (threads woken), and a chunk bounds the memory.
        for start in range(0, rows, _CURVATURE_ROWS):
            chunk = design[start : start + _CURVATURE_ROWS]
            won, lost = p[start : start + _CURVATURE_ROWS, 0], p[start : start + _CURVATURE_ROWS, 1]
            weights = np.stack([won * (1.0 - won), -won * lost, lost * (1.0 - lost)], axis=1)
            weighted = (weights[:, :, None] * chunk[:, None, :]).reshape(len(chunk), 3 * width)
            blocks += weighted.T @ chunk
        both, cross, lost_block = blocks[:width], blocks[width : 2 * width], blocks[2 * width :]
        hessian = np.block([[both, cross], [cross.T, lost_block]])
        hessian *= len(self.design) / max(rows, 1)
        return hessian + np.diag(self.ridge + 1e-9)

    def maximise(
        self, theta: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(the parameters, P(won) and P(lost) per row, the logits) at the optimum."""
        value, gradient, p, logits = self.value(theta)
        for _ in range(_MAX_STEPS):
            curvature = self.hessian(p[:: self.every], self.sample)
            try:
                step = np.linalg.solve(curvature, -gradient)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(curvature, -gradient, rcond=None)[0]
            decrement = -float(gradient @ step)
            if not decrement > _TOLERANCE * max(abs(value), 1.0):
                break
            size = 1.0
            while size > 1e-10:
                found = self.value(theta + size * step)
                if found[0] <= value - 1e-4 * size * decrement:
                    break
                size /= 2
            else:
                break  # no step improves it: as close as arithmetic allows
            theta = theta + size * step
            value, gradient, p, logits = found
        return theta, p, logits


def _covariance(
    design: NDArray[np.float64],
    p: NDArray[np.float64],
    hessian: NDArray[np.float64],
    won: NDArray[np.bool_],
    lost: NDArray[np.bool_],
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
    try:
        inverse = np.asarray(np.linalg.inv(hessian), dtype=np.float64)
    except np.linalg.LinAlgError:
        inverse = np.asarray(np.linalg.pinv(hessian), dtype=np.float64)
    clusters = np.unique(period)
    if len(clusters) < 5:
        return inverse
    residual = np.stack([won, lost], axis=1) - p
    index = np.searchsorted(clusters, period)
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(len(clusters) + 1))
    if not np.array_equal(order, np.arange(len(order))):
        design, residual = design[order], residual[order]
    # Each cluster's scores summed: rows of a cut-off are side by side.
    by_cluster = np.stack(
        [
            (design[low:high].T @ residual[low:high]).T.ravel()
            for low, high in itertools.pairwise(bounds.tolist())
        ]
    )
    meat = by_cluster.T @ by_cluster * len(clusters) / (len(clusters) - 1)
    robust = inverse @ meat @ inverse
    # Scale the Hessian's covariance up where the robust one is wider (keeps it a valid
    # covariance: a congruence by a diagonal matrix).
    ratio = np.sqrt(np.maximum(np.diag(robust) / np.maximum(np.diag(inverse), 1e-300), 1.0))
    return inverse * np.outer(ratio, ratio)


def _win_probability(won: NDArray[np.float64], lost: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(won) of the three-way softmax, stably: sigmoid(won - log(1 + e^lost))."""
    return _sigmoid(won - np.logaddexp(0.0, lost))


def _overlap(period: NDArray[np.int64], clusters: NDArray[np.int64] | None) -> float:
    """How many periods there are to a cluster, on average."""
    if clusters is None or not len(period):
        return 1.0
    return len(np.unique(period)) / len(np.unique(clusters))


def _calendar_effects(unlearned: NDArray[np.bool_]) -> int:
    """How many of the learned effects are the same for every deal of a period (where
    the window falls in the quarter): each was fitted to the periods' own totals."""
    return sum(
        1
        for name, nothing in zip(FEATURES, unlearned.tolist(), strict=False)
        if name.startswith("quarter_") and not nothing
    )


def _period_sd(
    won: NDArray[np.float64],
    lost: NDArray[np.float64],
    y: NDArray[np.bool_],
    period: NDArray[np.int64],
    calendar_effects: int = 0,
    overlap: float = 1.0,
) -> float:
    """The spread of the win-logit shift that makes each period's expected wins its
    actual wins, less the spread sampling alone would give those shifts.

    The shifts are residuals of the fit itself: its intercept and its ``calendar_effects``
    (one value per period, such as the share of the window in a quarter's last month)
    were chosen to make the periods' totals come out right, so n shifts vary less than n
    new periods would. As for any regression's residual variance, their squares are
    divided by the degrees of freedom left, n - 1 - calendar_effects: with a year of
    monthly windows and three calendar effects the spread is a third wider than the
    plain variance of the shifts says, and a new period's swing is not understated.

    Periods that overlap (``overlap`` of them to a cluster of shared days) are not that
    many independent shifts: the degrees of freedom are counted in clusters, each
    parameter spending a cluster's worth of periods."""
    shifts = []
    noise = []
    # The logit of winning against not (lost or still open): a shift moves it alone.
    odds = won - np.logaddexp(0.0, lost)
    order = np.argsort(period, kind="stable")
    _, starts = np.unique(period[order], return_index=True)
    for low, high in itertools.pairwise([*starts.tolist(), len(order)]):
        rows = order[low:high]
        wins = float(y[rows].sum())
        if wins == 0 or wins == len(rows):
            continue  # no finite shift matches all or nothing; counted by the others
        shift, p = _matching_shift(odds[rows], wins)
        shifts.append(shift)
        noise.append(1.0 / max(float((p * (1 - p)).sum()), 1e-9))
    if len(shifts) < 3:
        return 0.0
    # Fewer periods than effects: the widest the shifts allow, not none.
    freedom = max(len(shifts) / overlap - 1 - calendar_effects, 1) * overlap
    squares = float(np.sum(np.square(np.subtract(shifts, np.mean(shifts)))))
    spread = squares / freedom - float(np.mean(noise))
    return math.sqrt(max(spread, 0.0))


def _matching_shift(odds: NDArray[np.float64], wins: float) -> tuple[float, NDArray[np.float64]]:
    """(the shift of the win logits ``odds`` in [-20, 20] whose chances sum to ``wins``,
    the chances then). Newton's steps on a bracket that bisects when a step would leave
    it: the sum rises with the shift, so it is found to 1e-12 in a few steps."""
    low, high, shift = -20.0, 20.0, 0.0
    p = _sigmoid(odds)
    for _ in range(200):
        gap = float(p.sum()) - wins
        if gap == 0:
            break
        if gap > 0:
            high = shift
        else:
            low = shift
        slope = float((p * (1.0 - p)).sum())
        guess = shift - gap / slope if slope > 0 else math.nan
        following = guess if low < guess < high else 0.5 * (low + high)
        if abs(following - shift) <= 1e-12:
            break
        shift = following
        p = _sigmoid(odds + shift)
    return shift, p


def parameter_draws(
    theta: NDArray[np.float64],
    covariance: NDArray[np.float64],
    draws: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """``draws`` parameter vectors from N(theta, covariance), by its Cholesky factor.

    The factor is unique, so the same seed gives the same draws on every CPU. An
    eigendecomposition's vectors are unique only up to sign, and which sign LAPACK returns
    depends on the processor's kernels: the same seed then drew other parameters on another
    machine and moved a small team's band by thousands. A covariance that is only
    semi-definite (a parameter with no evidence either way) gets the least diagonal jitter
    that makes it factor.
    """
    symmetric = (covariance + covariance.T) / 2.0
    scale = float(np.mean(np.abs(np.diag(symmetric)))) or 1.0
    jitter = 0.0
    for _ in range(8):
        try:
            factor = np.linalg.cholesky(symmetric + jitter * np.eye(len(theta)))
            break
        except np.linalg.LinAlgError:
            jitter = scale * 1e-10 if jitter == 0.0 else jitter * 100.0
    else:
        # Not even near positive definite (only from a broken fit): no uncertainty drawn.
        factor = np.zeros_like(symmetric)
    normal = rng.standard_normal((draws, len(theta)))
    return np.asarray(theta + normal @ factor.T, dtype=np.float64)


def _win_logits(
    design: NDArray[np.float64], parameters: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Per parameter draw and deal (draws x deals), the logit of winning against not (lost
    or still open): a period shift moves it, the loss logit does not."""
    width = design.shape[1]
    won = design @ parameters[:, :width].T
    lost = design @ parameters[:, width:].T
    logits = np.empty((len(parameters), len(design)), dtype=np.float32)

    def fill(deals: slice) -> None:
        part = lost[deals]
        np.logaddexp(0.0, part, out=part)
        np.subtract(won[deals], part, out=part)
        logits[:, deals] = part.T

    if won.size >= _PARALLEL_MIN_CELLS and (os.cpu_count() or 1) > 1:
        # Element by element, so the same in halves: the log-sum-exp of a team's 14,000
        # deals by 200 draws took 70 ms on one core (numpy releases the GIL in it).
        half = len(design) // 2
        other = worker_pool(1).submit(fill, slice(half, None))
        fill(slice(0, half))
        other.result()
    else:
        fill(slice(None))
    return logits


@dataclass(frozen=True)
class _Logits:
    design: NDArray[np.float64]
    parameters: NDArray[np.float64]
    logits: NDArray[np.float32]


class LogitReuse:
    """The win logits of the deals simulated last, per parameter draw: a caller that
    simulates the same deals again and again (the forecast screen, after every save)
    computes them again only for the deals whose inputs changed. They are reused only for
    the very same parameter draws (same model, seed and runs) and for rows of inputs equal
    to the last ones, so a result is the one computing them all gives. The small deals'
    moments are kept alike (:class:`many_deals.MomentReuse`). What is kept is replaced
    whole and never written to, so threads sharing one at worst compute twice."""

    # Past this share of changed rows, computing all again is as quick.
    _PATCH_SHARE = 0.1

    def __init__(self) -> None:
        self._last: _Logits | None = None
        # The small deals' moments, kept alike (see many_deals).
        self.moments = many_deals.MomentReuse()

    def logits(
        self, design: NDArray[np.float64], parameters: NDArray[np.float64]
    ) -> NDArray[np.float32]:
        last = self._last
        found = None
        if (
            last is not None
            and last.design.shape == design.shape
            and np.array_equal(last.parameters, parameters)
        ):
            changed = np.flatnonzero((last.design != design).any(axis=1))
            if not changed.size:
                return last.logits
            if changed.size <= self._PATCH_SHARE * len(design):
                found = last.logits.copy()
                found[:, changed] = _win_logits(design[changed], parameters)
        if found is None:
            found = _win_logits(design, parameters)
        # Shared by the callers that get it: nobody may write to it.
        found.flags.writeable = False
        self._last = _Logits(design, parameters, found)
        return found


def simulate_won_totals(
    model: WinModel,
    matrix: NDArray[np.float64],
    values: NDArray[np.float64],
    runs: int,
    rng: np.random.Generator,
    reuse: LogitReuse | None = None,
    unpriced: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Totals won in the window over ``runs`` simulated periods: each run draws the
    model's parameters, a period shift shared by all deals, then each deal's win.

    ``values`` may be a matrix (deals x groups, e.g. each deal's value in its owner's
    column): the totals are then runs x groups, every group's from the same runs, so a
    team's total is their sum run by run. ``reuse``: see :class:`LogitReuse`.

    ``unpriced``: the deals whose amount is not known, their value the model's mean won
    amount (:meth:`WonAmounts.priced`). What they win in a run is then drawn as the sum of
    that many won amounts, not that many times their mean."""
    totals = np.zeros((runs, *values.shape[1:]))
    if not len(values) or runs <= 0:
        return totals
    amounts = model.unpriced
    if amounts is not None and unpriced is not None and unpriced.any():
        # Their wins' expected sum in a column of its own, beside the priced deals' sum.
        matrix_values = values if values.ndim == 2 else values[:, None]
        known = np.where(unpriced[:, None], 0.0, matrix_values)
        split = simulate_won_totals(
            model, matrix, np.hstack([known, matrix_values - known]), runs, rng, reuse
        )
        groups = matrix_values.shape[1]
        found = split[:, :groups] + amounts.totals(split[:, groups:], rng)
        return found if values.ndim == 2 else found[:, 0]
    design = model.design(matrix)
    theta = np.concatenate([model.won, model.lost])
    draws = min(PARAMETER_DRAWS, runs)
    parameters = parameter_draws(theta, model.covariance, draws, rng)
    win_logit = (
        _win_logits(design, parameters) if reuse is None else reuse.logits(design, parameters)
    )
    per_draw = -(-runs // draws)
    draw_of_run = np.repeat(np.arange(draws), per_draw)[:runs]
    shifts = (
        rng.normal(0.0, model.period_sd, size=runs) if model.period_sd else np.zeros(runs)
    ).astype(np.float32)
    small_deals = None
    exact, small = many_deals.split(values)
    if many_deals.worth_it(win_logit, small):
        # Thousands of deals: the small ones are summed per run as a normal (see many_deals).
        small_deals = many_deals.small_deal_totals(
            win_logit[:, small],
            values[small],
            draw_of_run,
            shifts,
            model.period_sd,
            rng,
            None if reuse is None else reuse.moments,
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
