"""Measure function of the ``kernels`` suite: one numba kernel next to a numpy reference.

Each point times ``kernel`` on fixed random data (median of ``inner`` calls after a warm-up
call whose duration is reported as ``jit_compile_s``) and, in the same run and on the same
data, the closest numpy equivalent; ``ratio_vs_numpy`` = numpy time / kernel time (> 1: the
kernel is faster). ``n`` is the element count; for ``ring_matmul`` the side of square matrices,
for ``shapley`` the number of owners K (360 queries, 10 classes).
"""
from __future__ import annotations

import time

import numpy as np

from fibench.bench.timing import median_time
from fibench.kernels import beaver, bitslice, compare, fixed_point, ring, truncation

KERNELS = ("ring_add", "ring_mul", "ring_sum", "encode", "decode", "beaver_combine", "local_trunc",
           "dealer_trunc", "bitslice", "compare_leaf", "ring_matmul", "shapley")


def _u64(rng, *shape):
    return rng.integers(0, 2**64, size=shape, dtype=np.uint64)


def _cases(kernel: str, n: int, rng):
    """(kernel_fn, numpy_fn, elements processed per call)."""
    if kernel == "ring_add":
        a, b = _u64(rng, n), _u64(rng, n)
        return (lambda: ring.ring_add(a, b)), (lambda: a + b), n
    if kernel == "ring_mul":
        a, b = _u64(rng, n), _u64(rng, n)
        return (lambda: ring.ring_mul(a, b)), (lambda: a * b), n
    if kernel == "ring_sum":
        m = _u64(rng, 5, n)
        return (lambda: ring.ring_sum(m)), (lambda: m.sum(axis=0, dtype=np.uint64)), 5 * n
    if kernel == "encode":
        x = rng.normal(size=n)
        return (lambda: fixed_point.encode_unchecked(x, 16)), (lambda: np.rint(x * 65536.0).astype(np.int64).view(np.uint64)), n
    if kernel == "decode":
        r = _u64(rng, n)
        return (lambda: fixed_point.decode(r, 16)), (lambda: r.view(np.int64) / 65536.0), n
    if kernel == "beaver_combine":
        c, a, b, e, f = (_u64(rng, n) for _ in range(5))
        return (lambda: beaver.beaver_combine(c, a, b, e, f, True)), (lambda: c + e * b + f * a + e * f), n
    if kernel == "local_trunc":
        x = _u64(rng, n)
        return (lambda: truncation.local_trunc_share(x, 16, 1)), (lambda: np.uint64(0) - ((np.uint64(0) - x) >> np.uint64(16))), n
    if kernel == "dealer_trunc":
        c, m, lo = _u64(rng, n), _u64(rng, n) & np.uint64(1), _u64(rng, n)
        ref = (lambda: (m << np.uint64(47)) - lo + ((c & np.uint64(2**63 - 1)) >> np.uint64(16)))
        return (lambda: truncation.dealer_trunc_share(c, m, lo, 16, True)), ref, n
    if kernel == "bitslice":
        v = _u64(rng, n)
        return (lambda: bitslice.bitslice(v)), (lambda: np.unpackbits(v.view(np.uint8), bitorder="little")), n
    if kernel == "compare_leaf":
        nw = max(1, n // 64)
        c, r, q = _u64(rng, 64, nw), _u64(rng, 64, nw), _u64(rng, 31, nw)

        def ref():
            nch, ncl = ~c[1:62:2], ~c[0:62:2]
            return (nch & r[1:62:2]) ^ (ncl & (q ^ (nch & r[0:62:2]))), q ^ (ncl & r[1:62:2]) ^ (nch & r[0:62:2])
        return (lambda: compare.leaf_nodes(c, r, q, True)), ref, 64 * nw
    if kernel == "ring_matmul":
        A, B = _u64(rng, n, n), _u64(rng, n, n)
        return (lambda: ring.ring_matmul(A, B)), (lambda: A @ B), n**3
    if kernel == "shapley":
        from fibench.incentives.shapley import exact_shapley
        from fibench.incentives.utility import CoalitionGame

        proba = rng.dirichlet(np.ones(10), size=(n, 360))
        y = rng.integers(0, 10, size=360)
        game = CoalitionGame.from_proba(proba, y, rule="soft")

        def ref():  # numpy: every coalition's accuracy, one argmax per coalition
            for mask in range(1 << n):
                members = [k for k in range(n) if mask >> k & 1]
                if members:
                    (proba[members].sum(axis=0).argmax(axis=1) == y).mean()
        return (lambda: exact_shapley(game)), ref, 1 << n
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


def run_point(params: dict) -> list[dict]:
    kernel, n = params["kernel"], int(params["n"])
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(int(params.get("seed", 0)))
    fn, ref, work = _cases(kernel, n, rng)
    t0 = time.perf_counter()
    fn()
    compile_s = time.perf_counter() - t0
    ref()
    inner = int(params.get("inner", 5))
    t_fn = median_time(fn, inner)
    t_ref = median_time(ref, 1 if kernel == "shapley" else inner)
    return [{"kernel": kernel, "n": n, "time_s": t_fn, "throughput": work / max(t_fn, 1e-12),
             "numpy_time_s": t_ref, "ratio_vs_numpy": t_ref / max(t_fn, 1e-12), "jit_compile_s": compile_s,
             "seed": int(params.get("seed", 0))}]
