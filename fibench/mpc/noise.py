"""Discrete noise for differentially private vote counts (GNMax / LNMax), from a CSPRNG.

Both distributions live on the integers (the raw fixed-point lattice of the counts they are
added to, see ``fibench.mpc.protocols.noise``):

* ``"laplace"``  — discrete Laplace with scale ``t``: P(z) = tanh(1/(2t)) exp(-|z| / t),
  sampled exactly as the difference of two i.i.d. geometric variables (success probability
  1 - exp(-1/t)); each geometric by inversion ``floor(-t ln U)``;
* ``"gaussian"`` — discrete Gaussian N_Z(0, sigma^2): P(z) ∝ exp(-z^2 / (2 sigma^2)),
  sampled by Canonne, Kamath and Steinke's rejection from a discrete Laplace with
  ``t = floor(sigma) + 1`` (NeurIPS 2020, Algorithm 3), accepting Y with probability
  ``exp(-(|Y| - sigma^2/t)^2 / (2 sigma^2))``.

Why discrete: a sum of integer shares can only carry integer noise; and a discrete Gaussian
(Laplace) on integer-valued counts gives the same Rényi / pure DP bounds as the continuous one
for a query with integer sensitivity (CKS 2020, Thm. 4 and Prop. 6), so the accounting of
``fibench.fi.privacy`` holds as stated for it.

Honest limits of this sampler: the uniforms U are 53-bit (``(w >> 11) + 1) * 2^-53`` from
AES-CTR words) and the inversion and acceptance use float64, so the probabilities are those of
the exact distribution up to float64 rounding, and the support is cut at
``|z| <= max_abs(kind, scale)`` (about 36.7 t per geometric), where the exact distribution has
mass below 1e-15. Neither deviation is in the accounting; both are far below any delta used.
``max_abs`` is a hard bound by construction: comparisons after adding noise use it for their
range promise.

Shapes and dtypes: ``sample(kind, scale, n, words)`` returns ``(n,)`` int64; ``words(m)`` must
return ``m`` uniform uint64 words from a CSPRNG (``fibench.mpc.prg.SeededStream.next``).
Cost: about 2 (Laplace) or 2 / acceptance (Gaussian, acceptance >= 0.5 for sigma >= 1) uniforms
per draw; no communication.
"""
from __future__ import annotations

import math

import numpy as np

KINDS = ("gaussian", "laplace")
#: largest noise scale accepted (raw lattice units): keeps max_abs far below 2^61
MAX_SCALE = 2.0 ** 52 / 64
_U53 = 2.0 ** -53


def check_kind(kind) -> str:
    if kind not in KINDS:
        raise ValueError(f"noise must be one of {KINDS} or None, got {kind!r}")
    return kind


def check_scale(scale, name: str = "sigma", upper: float = MAX_SCALE) -> float:
    """A finite float in (0, upper]."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a float in (0, {upper:g}], got {scale!r}")
    s = float(scale)
    if not (0 < s <= upper):
        raise ValueError(f"{name} must be a float in (0, {upper:g}], got {scale!r}")
    return s


def _uniform(words: np.ndarray) -> np.ndarray:
    """uint64 words -> floats in (0, 1] (53 bits)."""
    return ((words >> np.uint64(11)).astype(np.float64) + 1.0) * _U53


def _laplace_t(kind: str, scale: float) -> float:
    return float(math.floor(scale) + 1) if kind == "gaussian" else scale


def max_abs(kind: str, scale: float) -> int:
    """Hard bound on |z| for every draw of ``sample(kind, scale, ...)`` (the geometric's largest
    value at U = 2^-53)."""
    t = _laplace_t(check_kind(kind), check_scale(scale, "scale"))
    return int(math.floor(t * 53 * math.log(2) * (1 + 1e-12))) + 1


def _geometric(t: float, u: np.ndarray) -> np.ndarray:
    return np.floor(-t * np.log(u)).astype(np.int64)


def discrete_laplace(t: float, n: int, words) -> np.ndarray:
    """(n,) int64 draws of the discrete Laplace with scale t (P(z) ∝ exp(-|z|/t))."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    u = _uniform(words(2 * n))
    return _geometric(t, u[:n]) - _geometric(t, u[n:])


def discrete_gaussian(sigma: float, n: int, words) -> np.ndarray:
    """(n,) int64 draws of N_Z(0, sigma^2) (CKS 2020 Algorithm 3, vectorised rejection)."""
    out = np.empty(n, dtype=np.int64)
    t = float(math.floor(sigma) + 1)
    var2 = 2.0 * sigma * sigma
    shift = sigma * sigma / t
    filled = 0
    while filled < n:
        m = max(64, int(1.6 * (n - filled)) + 16)
        y = discrete_laplace(t, m, words)
        u = _uniform(words(m))
        keep = y[u <= np.exp(-((np.abs(y) - shift) ** 2) / var2)]
        take = min(len(keep), n - filled)
        out[filled: filled + take] = keep[:take]
        filled += take
    return out


def sample(kind: str, scale: float, n: int, words) -> np.ndarray:
    """(n,) int64 noise of ``kind`` with ``scale`` (Gaussian: sigma; Laplace: t), on Z."""
    kind = check_kind(kind)
    scale = check_scale(scale, "scale")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    if kind == "gaussian":
        return discrete_gaussian(scale, int(n), words)
    return discrete_laplace(scale, int(n), words)


# -- the target distributions (for tests and docs) ----------------------------------------------

def pmf(kind: str, scale: float, z) -> np.ndarray:
    """Probability mass of the exact target distribution at integers ``z``."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    if check_kind(kind) == "laplace":
        return math.tanh(1.0 / (2.0 * scale)) * np.exp(-z / scale)
    lim = int(math.ceil(12 * scale)) + 1
    norm = np.exp(-(np.arange(-lim, lim + 1, dtype=np.float64) ** 2) / (2 * scale * scale)).sum()
    return np.exp(-(z ** 2) / (2 * scale * scale)) / norm


def variance(kind: str, scale: float) -> float:
    """Exact variance of the target: Laplace 2 e^{-1/t} / (1 - e^{-1/t})^2; Gaussian by its
    (rapidly converging) series, < sigma^2."""
    if check_kind(kind) == "laplace":
        q = math.exp(-1.0 / scale)
        return 2.0 * q / (1.0 - q) ** 2
    lim = int(math.ceil(12 * scale)) + 1
    z = np.arange(-lim, lim + 1, dtype=np.float64)
    p = np.exp(-(z ** 2) / (2 * scale * scale))
    return float((p * z * z).sum() / p.sum())
