"""Arithmetic on the ring Z_2^64, stored as ``np.uint64`` (wrap-around arithmetic).

All functions take and return uint64 arrays of any shape (flattened internally, C order).
Constants are ``np.uint64`` so numba keeps every intermediate in uint64.
"""
import numpy as np
from numba import njit, prange

from fibench.kernels.threads import launch

U0 = np.uint64(0)
U1 = np.uint64(1)


@njit(cache=True, parallel=True)
def _add(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] + b[i]


@njit(cache=True, parallel=True)
def _sub(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] - b[i]


@njit(cache=True, parallel=True)
def _mul(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] * b[i]


@njit(cache=True, parallel=True)
def _neg(a, out):
    for i in prange(a.size):
        out[i] = U0 - a[i]


@njit(cache=True, parallel=True)
def _sum_rows(m, out):
    # m: (k, n) uint64 -> out (n,) = sum over rows mod 2^64
    k, n = m.shape
    for i in prange(n):
        acc = U0
        for r in range(k):
            acc += m[r, i]
        out[i] = acc


def _flat(a):
    a = np.ascontiguousarray(a, dtype=np.uint64)
    return a.reshape(-1)


def _binary(kernel, a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes must match, got {a.shape} and {b.shape}")
    out = np.empty(a.shape, dtype=np.uint64)
    launch(kernel, out.size, _flat(a), _flat(b), out.reshape(-1))
    return out


def ring_add(a, b):
    """(a + b) mod 2^64, elementwise; same-shape uint64 arrays."""
    return _binary(_add, a, b)


def ring_sub(a, b):
    """(a - b) mod 2^64, elementwise."""
    return _binary(_sub, a, b)


def ring_mul(a, b):
    """(a * b) mod 2^64, elementwise."""
    return _binary(_mul, a, b)


def ring_neg(a):
    """(-a) mod 2^64, elementwise."""
    a = np.asarray(a)
    out = np.empty(a.shape, dtype=np.uint64)
    launch(_neg, out.size, _flat(a), out.reshape(-1))
    return out


def ring_sum(stack):
    """Sum over the first axis of a ``(k, ...)`` uint64 array, mod 2^64 -> shape ``stack.shape[1:]``."""
    stack = np.ascontiguousarray(stack, dtype=np.uint64)
    if stack.ndim < 1:
        raise ValueError("stack must have at least one axis")
    out = np.empty(stack.shape[1:], dtype=np.uint64)
    launch(_sum_rows, stack.size, stack.reshape(stack.shape[0], -1), out.reshape(-1))
    return out


@njit(cache=True, parallel=True)
def _matmul(a, b, out):
    n, k = a.shape
    m = b.shape[1]
    for i in prange(n):
        for j in range(m):
            out[i, j] = U0
        for t in range(k):
            ait = a[i, t]
            for j in range(m):
                out[i, j] += ait * b[t, j]


def ring_matmul(a, b):
    """Matrix product mod 2^64: ``(n, k) @ (k, m) -> (n, m)``, uint64; parallel over rows."""
    a = np.ascontiguousarray(a, dtype=np.uint64)
    b = np.ascontiguousarray(b, dtype=np.uint64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul needs (n, k) @ (k, m), got {a.shape} @ {b.shape}")
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.uint64)
    if out.size:
        launch(_matmul, a.shape[0] * a.shape[1] * b.shape[1], a, b, out)
    return out
