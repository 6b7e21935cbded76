"""Local steps of Beaver multiplication on Z_2^64 (uint64).

With a triple (a, b, c = a*b) and opened e = x - a, f = y - b, party p's share of x*y is
``c_p + e*b_p + f*a_p`` (+ ``e*f`` for exactly one party). All arrays 1-D uint64, same length.
"""
import numpy as np
from numba import njit, prange

from fibench.kernels.threads import launch
from fibench.kernels.ring import ring_matmul


@njit(cache=True, parallel=True)
def _combine(c, a, b, e, f, first, out):
    for i in prange(c.size):
        z = c[i] + e[i] * b[i] + f[i] * a[i]
        if first:
            z += e[i] * f[i]
        out[i] = z


def beaver_combine(c, a, b, e, f, first: bool):
    """Elementwise Beaver output share (any shape, all uint64 of one shape)."""
    out = np.empty(c.shape, dtype=np.uint64)
    launch(_combine, c.size, c.reshape(-1), a.reshape(-1), b.reshape(-1), e.reshape(-1), f.reshape(-1), bool(first),
           out.reshape(-1))
    return out


def beaver_matmul_combine(c, a, b, e, f, first: bool):
    """Matrix Beaver share: ``C_p + E @ B_p + A_p @ F`` (+ ``E @ F`` for one party); 2-D uint64."""
    z = c + ring_matmul(e, b) + ring_matmul(a, f)
    if first:
        z += ring_matmul(e, f)
    return z
