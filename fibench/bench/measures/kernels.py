"""Measure function of the ``kernels`` suite: one numba kernel next to a numpy reference.

Each point times ``kernel`` on fixed random data (median of ``inner`` calls after a warm-up
call whose duration is reported as ``jit_compile_s``) and, in the same run and on the same
data, the closest numpy equivalent; ``ratio_vs_numpy`` = numpy time / kernel time (> 1: the
kernel is faster). ``n`` is the element count; for ``ring_matmul`` the side of square matrices,
for ``shapley`` the number of owners K (360 queries, 10 classes).

``case(kernel, n)`` is the one definition of every timed case: the kernels above, and the
session ops (``share``, ``beaver_mul``, ``beaver_matmul``, ``lt``, ``relu``, ``argmax``) and the PRG
timed by the regression gate (``fibench.bench.regress``) and the micro benchmarks
(``tests/bench_kernels.py``).
"""
from __future__ import annotations

import time

import numpy as np

from fibench.bench.timing import median_time
from fibench.kernels import beaver, bitslice, compare, fixed_point, ring, truncation


def _u64(rng, *shape):
    return rng.integers(0, 2**64, size=shape, dtype=np.uint64)


# -- the cases: one builder per kernel, ``(rng, n, **opts) -> (kernel_fn, numpy_fn, work)`` ----------
# (used by this suite, by the regression gate's speed ratios and by tests/bench_kernels.py)

def _ring_add(rng, n):
    a, b = _u64(rng, n), _u64(rng, n)
    return (lambda: ring.ring_add(a, b)), (lambda: a + b), n


def _ring_mul(rng, n):
    a, b = _u64(rng, n), _u64(rng, n)
    return (lambda: ring.ring_mul(a, b)), (lambda: a * b), n


def _ring_sum(rng, n):
    m = _u64(rng, 5, n)
    return (lambda: ring.ring_sum(m)), (lambda: m.sum(axis=0, dtype=np.uint64)), 5 * n


def _encode(rng, n):
    x = rng.normal(size=n)
    return (lambda: fixed_point.encode_unchecked(x, 16)), (lambda: np.rint(x * 65536.0).astype(np.int64).view(np.uint64)), n


def _decode(rng, n):
    r = _u64(rng, n)
    return (lambda: fixed_point.decode(r, 16)), (lambda: r.view(np.int64) / 65536.0), n


def _beaver_combine(rng, n):
    c, a, b, e, f = (_u64(rng, n) for _ in range(5))
    return (lambda: beaver.beaver_combine(c, a, b, e, f, True)), (lambda: c + e * b + f * a + e * f), n


def _local_trunc(rng, n):
    x = _u64(rng, n)
    return (lambda: truncation.local_trunc_share(x, 16, 1)), (lambda: np.uint64(0) - ((np.uint64(0) - x) >> np.uint64(16))), n


def _dealer_trunc(rng, n):
    c, m, lo = _u64(rng, n), _u64(rng, n) & np.uint64(1), _u64(rng, n)
    ref = (lambda: (m << np.uint64(47)) - lo + ((c & np.uint64(2**63 - 1)) >> np.uint64(16)))
    return (lambda: truncation.dealer_trunc_share(c, m, lo, 16, True)), ref, n


def _bitslice(rng, n):
    v = _u64(rng, n)
    return (lambda: bitslice.bitslice(v)), (lambda: np.unpackbits(v.view(np.uint8), bitorder="little")), n


def _compare_leaf(rng, n):
    nw = max(1, n // 64)
    c, r, q = _u64(rng, 64, nw), _u64(rng, 64, nw), _u64(rng, 31, nw)

    def ref():
        nch, ncl = ~c[1:62:2], ~c[0:62:2]
        return (nch & r[1:62:2]) ^ (ncl & (q ^ (nch & r[0:62:2]))), q ^ (ncl & r[1:62:2]) ^ (nch & r[0:62:2])
    return (lambda: compare.leaf_nodes(c, r, q, True)), ref, 64 * nw


def _ring_matmul(rng, n, shape=None):
    """``n`` x ``n`` matrices, or ``shape=(rows, inner, cols)``."""
    rows, inner, cols = shape or (n, n, n)
    A, B = _u64(rng, rows, inner), _u64(rng, inner, cols)
    return (lambda: ring.ring_matmul(A, B)), (lambda: A @ B), rows * inner * cols


def _shapley(rng, n):
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


def _prg_expand(rng, n):
    """AES-CTR expansion of a seed into ``n`` words; numpy: PCG64 draws as many."""
    from fibench.mpc import prg

    out = np.empty(n, dtype=np.uint64)
    seed = b"kernels-prg-0000"
    g = np.random.Generator(np.random.PCG64(int(rng.integers(2**32))))
    return (lambda: prg.expand_into(seed, 7, out)), (lambda: g.integers(0, 2**64, size=n, dtype=np.uint64)), n


def _session(parties: int, kernel: str):
    from fibench.mpc import Session

    return Session(parties)


def _share(rng, n, parties=2):
    s = _session(parties, "share")
    x = rng.normal(size=n)
    g = np.random.Generator(np.random.PCG64(int(rng.integers(2**32))))
    return ((lambda: s.share(x, owner=0)),
            (lambda: [g.integers(0, 2**64, size=n, dtype=np.uint64) for _ in range(parties - 1)]), n)


def _two_inputs(rng, n, parties, kernel):
    s = _session(parties, kernel)
    a, b = rng.normal(size=n), rng.normal(size=n)
    return s, a, b, s.share(a, 0), s.share(b, 1)


def _beaver_mul(rng, n, parties=2):
    s, a, b, x, y = _two_inputs(rng, n, parties, "mul")
    return (lambda: s.mul(x, y)), (lambda: a * b), n


def _lt(rng, n, parties=2):
    s, a, b, x, y = _two_inputs(rng, n, parties, "lt")
    return (lambda: s.lt(x, y)), (lambda: a < b), n


def _relu(rng, n, parties=2):
    s, a, _, x, _ = _two_inputs(rng, n, parties, "relu")
    return (lambda: s.relu(x)), (lambda: np.maximum(a, 0)), n


def _beaver_matmul(rng, n, parties=2, inner=64, cols=32):
    """An ``n`` x ``inner`` query matrix times an ``inner`` x ``cols`` weight matrix."""
    s = _session(parties, "matmul")
    A, B = rng.normal(size=(n, inner)), rng.normal(size=(inner, cols))
    x, w = s.share(A, "querier"), s.share(B, 0)
    return (lambda: s.matmul(x, w)), (lambda: A @ B), n * inner * cols


def _argmax(rng, n, parties=2, method="pairs", classes=10):
    """Argmax of each of ``n`` rows of ``classes`` scores."""
    s = _session(parties, "argmax")
    X = rng.normal(size=(n, classes))
    x = s.share(X, 0)
    return (lambda: s.argmax(x, method=method)), (lambda: X.argmax(axis=1)), n * classes


#: kernel name -> builder; the first twelve are the suite's grid, the session ops (``parties=``)
#: serve the regression gate and the micro benchmarks
CASES = {
    "ring_add": _ring_add, "ring_mul": _ring_mul, "ring_sum": _ring_sum, "encode": _encode,
    "decode": _decode, "beaver_combine": _beaver_combine, "local_trunc": _local_trunc,
    "dealer_trunc": _dealer_trunc, "bitslice": _bitslice, "compare_leaf": _compare_leaf,
    "ring_matmul": _ring_matmul, "shapley": _shapley,
    "prg_expand": _prg_expand, "share": _share, "beaver_mul": _beaver_mul, "beaver_matmul": _beaver_matmul,
    "lt": _lt, "relu": _relu, "argmax": _argmax,
}
KERNELS = tuple(CASES)


def case(kernel: str, n: int, rng=None, **opts):
    """``(kernel_fn, numpy_fn, elements per call)`` for ``kernel`` on fixed random data of size
    ``n`` (``rng``: a numpy Generator, default seeded 0); ``opts`` as the builder takes them
    (``parties``, ``method``, ``shape``...)."""
    if kernel not in CASES:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    return CASES[kernel](np.random.default_rng(0) if rng is None else rng, n, **opts)


def run_point(params: dict) -> list[dict]:
    kernel, n = params["kernel"], int(params["n"])
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(int(params.get("seed", 0)))
    fn, ref, work = case(kernel, n, rng)
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
