"""Privacy accounting of the noisy vote (PATE's GNMax / LNMax), with Google's ``dp-accounting``.

Why ``dp-accounting``: it is maintained by Google's DP team, small (numpy/scipy, no deep
learning framework), and its ``RdpAccountant`` composes Gaussian and Laplace events exactly
and converts RDP to (epsilon, delta) with the tight bound of Canonne, Kamath and Steinke /
Asoodeh et al. (``compute_epsilon``). Install it with ``pip install 'fibench[privacy]'``;
without it every function here raises an ``ImportError`` that says so.

Neighbouring datasets: one owner's training data changes, so its vote moves from one class to
another: the count histogram changes by ``-c`` in one class and ``+c`` in another, where ``c``
is the weight of one owner's vote (``vote_scale``: 1 for the hard vote; the largest public
weight for the weighted vote, weights being public and fixed before the queries). So the
histogram has L2 sensitivity ``sqrt(2) c`` and L1 sensitivity ``2 c``; the argmax is
post-processing. Per answered query:

* GNMax (discrete Gaussian, scale sigma): ``(alpha, alpha c^2 / sigma^2)``-RDP (the discrete
  Gaussian has the Gaussian mechanism's RDP for integer sensitivity, Canonne-Kamath-Steinke
  2020; the counts live on the lattice 2^-f and so do the noise and the sensitivity);
* LNMax (discrete Laplace, scale t = sigma): ``2c/sigma``-DP, and Mironov's Laplace RDP curve;
  the epsilon reported is the smaller of the RDP route and plain composition ``T * 2c/sigma``.

Data-independent bounds need nothing but (sigma, c, number of queries): they are what a
deployment under MPC can report, since only the secure computation sees the vote histogram.
PATE's **data-dependent** analysis (Papernot et al. 2018, Theorem 6: a smaller RDP when the top
vote wins by a large margin) needs the histogram: fibench computes it in the plaintext
simulation only (``data_dependent_epsilon``); it is itself a function of the data, and
releasing it would need PATE's smooth-sensitivity step, which fibench does not implement. Its
bound on q = Pr[noisy argmax != top class] uses the sub-Gaussian tail of the discrete
Gaussian (exp(-d^2 / (4 sigma^2)) per runner-up with margin d, union bound), valid for the
discrete noise actually used; PATE's continuous Gaussian tail would be slightly smaller.

Confident GNMax (PATE 2018, data-independent accounting only): a query is answered only when
the largest count plus N_Z(0, sigma1^2) clears ``threshold``; each asked query costs the
threshold check (sensitivity c of the max count: ``alpha c^2 / (2 sigma1^2)``) and each
answered one the GNMax step with sigma2 (``confident_epsilon``). Plaintext simulation only.
"""
from __future__ import annotations

import math

import numpy as np

#: Rényi orders: the library's defaults, denser above 10 (small per-query RDP needs large orders)
ORDERS = tuple(sorted(set(
    [1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5] + list(np.arange(5.0, 64.0, 1.0))
    + list(np.arange(64.0, 1025.0, 8.0)) + [1536.0, 2048.0, 4096.0, 8192.0])))
NOISES = ("gaussian", "laplace")


def _dp():
    try:
        import dp_accounting
        from dp_accounting import rdp  # noqa: F401
    except ImportError:
        raise ImportError("privacy accounting needs the optional package dp-accounting: "
                          "pip install 'fibench[privacy]' (or pip install dp-accounting)") from None
    return dp_accounting


def available() -> bool:
    """Whether ``dp-accounting`` can be imported."""
    try:
        _dp()
    except ImportError:
        return False
    return True


# -- validation ----------------------------------------------------------------------------------

def _pos(name, v, upper=math.inf):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not (0 < float(v) <= upper):
        raise ValueError(f"{name} must be a float in (0, {upper:g}], got {v!r}")
    return float(v)


def check_noise(noise) -> str:
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
    return noise


def check_delta(delta) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)) or not 0 < delta < 1:
        raise ValueError(f"delta must be a float in (0, 1), got {delta!r}")
    return float(delta)


def check_queries(queries) -> int:
    if isinstance(queries, bool) or not isinstance(queries, (int, np.integer)) or not 0 <= queries <= 10**9:
        raise ValueError(f"queries must be an integer in [0, 10^9], got {queries!r}")
    return int(queries)


# -- data-independent ------------------------------------------------------------------------------

def dp_event(noise: str, sigma: float, scale: float = 1.0):
    """The ``dp_accounting`` event of one answered query: GNMax -> ``GaussianDpEvent`` with
    noise multiplier sigma / (sqrt(2) c); LNMax -> ``LaplaceDpEvent`` with parameter
    sigma / (2 c) (c = ``scale``, the weight of one owner's vote)."""
    dpa = _dp()
    noise = check_noise(noise)
    sigma, c = _pos("sigma", sigma), _pos("scale", scale)
    if noise == "gaussian":
        return dpa.GaussianDpEvent(noise_multiplier=sigma / (math.sqrt(2.0) * c))
    return dpa.LaplaceDpEvent(noise_multiplier=sigma / (2.0 * c))


def epsilon_from_rdp(rdp, delta: float, orders=ORDERS) -> float:
    """(epsilon for ``delta``) of an RDP curve, by the library's conversion."""
    dpa = _dp()
    return float(dpa.rdp.compute_epsilon(list(orders), list(np.asarray(rdp, dtype=np.float64)),
                                         check_delta(delta))[0])


def epsilon(noise: str, sigma: float, queries: int = 1, delta: float = 1e-5, scale: float = 1.0) -> float:
    """Data-independent epsilon of ``queries`` answered noisy votes at ``delta``
    (RdpAccountant; LNMax: the smaller of that and pure composition ``queries * 2c/sigma``)."""
    dpa = _dp()
    queries = check_queries(queries)
    delta = check_delta(delta)
    if queries == 0:
        return 0.0
    acc = dpa.rdp.RdpAccountant(list(ORDERS))
    acc.compose(dp_event(noise, sigma, scale), queries)
    eps = float(acc.get_epsilon(delta))
    if noise == "laplace":
        eps = min(eps, queries * 2.0 * _pos("scale", scale) / _pos("sigma", sigma))
    return eps


def queries_within(noise: str, sigma: float, budget: float, delta: float = 1e-5, scale: float = 1.0,
                   max_queries: int = 10**7) -> int:
    """The largest number of answered queries whose ``epsilon`` stays <= ``budget``
    (binary search; epsilon grows with the number of queries); capped at ``max_queries``."""
    budget = _pos("budget", budget)
    if epsilon(noise, sigma, 1, delta, scale) > budget:
        return 0
    lo, hi = 1, 2
    while hi <= max_queries and epsilon(noise, sigma, hi, delta, scale) <= budget:
        lo, hi = hi, hi * 2
    if hi > max_queries:
        return max_queries if epsilon(noise, sigma, max_queries, delta, scale) <= budget else \
            _bisect(noise, sigma, budget, delta, scale, lo, max_queries)
    return _bisect(noise, sigma, budget, delta, scale, lo, hi)


def _bisect(noise, sigma, budget, delta, scale, lo, hi):
    while hi - lo > 1:  # invariant: eps(lo) <= budget < eps(hi)
        mid = (lo + hi) // 2
        if epsilon(noise, sigma, mid, delta, scale) <= budget:
            lo = mid
        else:
            hi = mid
    return lo


# -- data-dependent GNMax (plaintext simulation only) -------------------------------------------------

def _check_counts(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim == 1:
        c = c[None, :]
    if c.ndim != 2 or c.shape[1] < 2 or not np.all(np.isfinite(c)):
        raise ValueError(f"counts must be a finite (n, C) vote histogram with C >= 2, got shape {np.shape(counts)}")
    return c


def gnmax_logq(counts, sigma: float) -> np.ndarray:
    """(n,) upper bounds on ln Pr[noisy argmax != top class] for discrete Gaussian noise of scale
    ``sigma`` (vote units): union over the runners-up of exp(-d^2 / (4 sigma^2)) for a margin
    d > 0 (1 for d <= 0), capped at 1."""
    c = _check_counts(counts)
    sigma = _pos("sigma", sigma)
    top = np.argmax(c, axis=1)
    d = c[np.arange(len(c)), top][:, None] - c
    logt = np.where(d > 0, -(d ** 2) / (4.0 * sigma ** 2), 0.0)
    logt[np.arange(len(c)), top] = -np.inf
    m = np.max(logt, axis=1)
    logq = m + np.log(np.sum(np.exp(logt - m[:, None]), axis=1))
    return np.minimum(logq, 0.0)


def _log1mexp(x):
    """log(1 - exp(x)) for x < 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < -0.693, np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def rdp_gnmax_data_dependent(logq: float, sigma_eff: float, orders=ORDERS) -> np.ndarray:
    """PATE 2018 Theorem 6 (with Proposition 10's higher orders), as in PATE's reference code:
    RDP at ``orders`` of one GNMax answer with ``ln q = logq`` and data-independent RDP
    ``alpha / sigma_eff^2`` (sigma_eff = sigma / c); the minimum with the data-independent bound."""
    orders = np.asarray(orders, dtype=np.float64)
    var = sigma_eff ** 2
    ret = orders / var
    if np.isneginf(logq):
        return np.zeros_like(orders)
    mu2 = math.sqrt(var * -logq)
    mu1 = mu2 + 1
    mask = (mu1 > orders) & (mu2 > 1)
    if not np.any(mask):
        return ret
    rdp1, rdp2 = mu1 / var, mu2 / var
    log_a2 = (mu2 - 1) * rdp2
    if logq <= log_a2 - mu2 * (math.log(1 + 1 / (mu1 - 1)) + math.log(1 + 1 / (mu2 - 1))):
        log1mq = float(_log1mexp(logq))
        log_a = (orders - 1) * (log1mq - _log1mexp((logq + rdp2) * (1 - 1 / mu2)))
        log_b = (orders - 1) * (rdp1 - logq / (mu1 - 1))
        log_s = np.logaddexp(log1mq + log_a, logq + log_b)
        ret = np.where(mask, np.minimum(ret, log_s / (orders - 1)), ret)
    return ret


def data_dependent_epsilon(counts, sigma: float, delta: float = 1e-5, scale: float = 1.0) -> float:
    """Data-dependent epsilon of answering every row of ``counts`` (n, C), vote units) by GNMax
    with scale ``sigma``: per-query RDP by ``rdp_gnmax_data_dependent``, summed, converted by
    the library. Needs the histogram: plaintext simulation only (module docstring)."""
    _dp()
    sigma, c = _pos("sigma", sigma), _pos("scale", scale)
    logq = gnmax_logq(counts, sigma)
    rdp = np.zeros(len(ORDERS))
    for lq in logq:
        rdp += rdp_gnmax_data_dependent(float(lq), sigma / c)
    return epsilon_from_rdp(rdp, delta) if len(logq) else 0.0


# -- confident GNMax (plaintext simulation only) ----------------------------------------------------

def confident_epsilon(sigma1: float, sigma2: float, asked: int, answered: int, delta: float = 1e-5,
                      scale: float = 1.0) -> float:
    """Data-independent epsilon of confident GNMax: ``asked`` threshold checks (Gaussian,
    L2 sensitivity c: noise multiplier sigma1 / c) and ``answered`` GNMax answers (sigma2)."""
    dpa = _dp()
    asked, answered = check_queries(asked), check_queries(answered)
    if answered > asked:
        raise ValueError(f"answered ({answered}) must be <= asked ({asked})")
    c = _pos("scale", scale)
    acc = dpa.rdp.RdpAccountant(list(ORDERS))
    if asked:
        acc.compose(dpa.GaussianDpEvent(noise_multiplier=_pos("sigma1", sigma1) / c), asked)
    if answered:
        acc.compose(dp_event("gaussian", sigma2, c), answered)
    return float(acc.get_epsilon(check_delta(delta))) if asked else 0.0
