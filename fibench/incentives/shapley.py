"""Merit-based values of the ensemble-accuracy game: Shapley, Banzhaf, leave-one-out.

With v the coalition utility of :mod:`fibench.incentives.utility` (v(empty) = 0):

* Shapley      phi_i = sum_{S not containing i} |S|! (K-|S|-1)! / K! * (v(S+i) - v(S));
               efficiency: sum_i phi_i = v(N) - v(empty) = v(N).
* Banzhaf      beta_i = 2^-(K-1) * sum_{S not containing i} (v(S+i) - v(S)).
* Leave-one-out  loo_i = v(N) - v(N - i).

Exact values enumerate all 2^K coalitions (numba, Gray-code order, K <= 20); the marginal
contributions are summed per (owner, coalition size) in int64 (v is a count / n), so only
K float operations per owner remain: the values are reproducible bit for bit.

For larger K, :func:`monte_carlo_shapley` samples permutations (antithetic pairs by default),
optionally truncates a permutation once its prefix is within a tolerance of v(N) (TMC-Shapley,
Ghorbani & Zou 2019), and stops when the estimated standard error of every value is below
``tol * v(N)`` (or at ``max_perms``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from fibench.kernels import shapley as _ks

from .utility import CoalitionGame


def _game(game) -> CoalitionGame:
    if not isinstance(game, CoalitionGame):
        raise ValueError(f"game must be a CoalitionGame, got {type(game).__name__}")
    return game


def marginal_table(game) -> np.ndarray:
    """int64 (K, K): delta[i, s] = sum over |S| = s, i not in S of count(S+i) - count(S)."""
    game = _game(game)
    return _ks.marginal_table(game.all_counts(), game.K)


def shapley_weights(K: int) -> np.ndarray:
    """Shapley weight of a coalition of size s (s = 0..K-1) not containing the player: 1 / (K * C(K-1, s))."""
    return np.array([1.0 / (K * comb(K - 1, s)) for s in range(K)], dtype=np.float64)


def _from_table(delta, weights, n):
    # sum_s weights[s] * delta[i, s] / n, in a fixed order: deterministic
    return (delta.astype(np.float64) * weights[None, :]).sum(axis=1) / float(n)


def exact_shapley(game) -> np.ndarray:
    """Exact Shapley values (K,) of the accuracy game (K <= 20)."""
    game = _game(game)
    return _from_table(marginal_table(game), shapley_weights(game.K), game.n)


def banzhaf(game) -> np.ndarray:
    """Exact Banzhaf values (K,) of the accuracy game (K <= 20)."""
    game = _game(game)
    w = np.full(game.K, 0.5 ** (game.K - 1))
    return _from_table(marginal_table(game), w, game.n)


def exact_values(game) -> dict:
    """Shapley and Banzhaf from one enumeration: {"shapley": (K,), "banzhaf": (K,)}."""
    game = _game(game)
    delta = marginal_table(game)
    return {
        "shapley": _from_table(delta, shapley_weights(game.K), game.n),
        "banzhaf": _from_table(delta, np.full(game.K, 0.5 ** (game.K - 1)), game.n),
    }


def leave_one_out(game) -> np.ndarray:
    """v(N) - v(N - i) for every owner i (K + 1 coalition evaluations; bit masks up to 62
    owners, membership vectors beyond)."""
    game = _game(game)
    if game.K > 62:
        c = [game.full_count] + [game.count_members(np.arange(game.K) != i) for i in range(game.K)]
        return (c[0] - np.asarray(c[1:], dtype=np.int64)).astype(np.float64) / game.n
    full = (1 << game.K) - 1
    masks = np.array([full] + [full ^ (1 << i) for i in range(game.K)], dtype=np.int64)
    c = game.counts(masks)
    return (c[0] - c[1:]).astype(np.float64) / game.n


@dataclass
class MCResult:
    """Monte-Carlo Shapley estimate."""

    values: np.ndarray  #: estimated Shapley values (K,)
    stderr: np.ndarray  #: estimated standard error of each value (K,)
    n_perms: int  #: permutations evaluated (an antithetic pair counts 2)
    converged: bool  #: max stderr <= tol * |v(N)| reached before max_perms
    history: list = field(default_factory=list)  #: (n_perms, values copy) after each batch


def _sample_perms(rng, P, K, antithetic):
    if antithetic:
        half = (P + 1) // 2
        base = np.argsort(rng.random((half, K)), axis=1)
        perms = np.empty((2 * half, K), dtype=np.int64)
        perms[0::2] = base
        perms[1::2] = base[:, ::-1]
        return perms
    return np.argsort(rng.random((P, K)), axis=1).astype(np.int64)


def monte_carlo_shapley(
    game,
    tol: float = 0.005,
    max_perms: int = 20000,
    min_perms: int = 64,
    batch: int = 64,
    truncation: float | None = None,
    antithetic: bool = True,
    seed: int = 0,
    keep_history: bool = False,
) -> MCResult:
    """Permutation-sampling Shapley estimate with optional truncation and a stopping rule.

    tol: stop once the largest standard error is <= tol * |v(N)| (relative convergence
    estimate; the standard error comes from the spread of the per-permutation marginals,
    computed over antithetic pair means when ``antithetic``).  truncation: if not None, a
    permutation stops once |v(N) - v(prefix)| <= truncation * v(N) (remaining marginals 0).
    Deterministic for a seed (numpy PCG64; this is sampling, not cryptography).
    """
    game = _game(game)
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if int(max_perms) < 2:
        raise ValueError(f"max_perms must be >= 2, got {max_perms}")
    if int(batch) < 2:
        raise ValueError(f"batch must be >= 2, got {batch}")
    if truncation is not None and not 0.0 <= truncation < 1.0:
        raise ValueError(f"truncation must be None or in [0, 1), got {truncation}")
    K, n = game.K, game.n
    full = game.full_count
    trunc = -1 if truncation is None else int(np.floor(truncation * full))
    rng = np.random.default_rng(seed)
    batch = int(batch) + (int(batch) % 2 if antithetic else 0)
    # exact integer accumulators: the estimate does not depend on batching, bit for bit
    msum = np.zeros(K, dtype=np.int64)  # sum of marginal counts
    usum = np.zeros(K, dtype=np.int64)  # sum of units (pair sums when antithetic)
    usq = np.zeros(K, dtype=np.int64)  # sum of squared units
    n_units = 0
    history = []
    total = 0
    converged = False
    mean = np.zeros(K)
    se = np.full(K, np.inf)
    scale = 2.0 if antithetic else 1.0  # a unit is a pair sum = 2 * pair mean
    while total < max_perms:
        P = min(batch, int(max_perms) - total)
        if antithetic and P % 2:
            P += 1
        perms = _sample_perms(rng, P, K, antithetic)[:P]
        marg = _ks.permutation_marginals(game.D, game.T, n, perms, full, trunc)
        units = marg[0::2] + marg[1::2] if antithetic else marg
        msum += marg.sum(axis=0)
        usum += units.sum(axis=0)
        usq += (units * units).sum(axis=0)
        n_units += units.shape[0]
        total += P
        mean = msum / float(n * total)
        if n_units > 1:
            var = (usq - usum.astype(np.float64) ** 2 / n_units) / (n_units - 1)
            se = np.sqrt(np.maximum(var, 0.0) / n_units) / (scale * n)
        if keep_history:
            history.append((total, mean.copy()))
        if total >= min_perms and np.max(se) <= tol * max(abs(full / n), 1e-12):
            converged = True
            break
    return MCResult(values=mean, stderr=se, n_perms=total, converged=converged, history=history)


def shapley(game, method: str = "auto", **mc_kwargs) -> np.ndarray:
    """Shapley values: ``exact`` (K <= 20), ``mc`` or ``auto`` (exact when K <= 20)."""
    game = _game(game)
    if method not in ("auto", "exact", "mc"):
        raise ValueError(f"method must be 'auto', 'exact' or 'mc', got {method!r}")
    if method == "exact" or (method == "auto" and game.K <= _ks.MAX_EXACT_PLAYERS):
        return exact_shapley(game)
    return monte_carlo_shapley(game, **mc_kwargs).values
