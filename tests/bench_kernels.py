"""Micro benchmarks (``nox -s bench``): each reports the median time and, in
``extra_info["ratio_vs_numpy"]``, the throughput relative to a numpy reference on the same data,
measured in the same run (speed-ups > 1 mean fibench is faster). JIT compilation happens in a
warm-up call before timing; its duration is stored as ``extra_info["compile_s"]``.

Run: ``pytest tests/bench_kernels.py --benchmark-enable`` (or ``nox -s bench``).
"""
import statistics
import time

import numpy as np
import pytest

from fibench.bench.timing import median_time
from fibench.mpc import prg
from fibench.mpc import Session
from fibench.kernels import bitslice, ring

N = 1_000_000


def _bench(benchmark, fn, ref, **extra):
    t0 = time.perf_counter()
    fn()
    compile_s = time.perf_counter() - t0
    benchmark.pedantic(fn, rounds=7, warmup_rounds=1)
    ours = statistics.median(benchmark.stats.stats.data) if benchmark.stats else median_time(fn)
    theirs = median_time(ref)
    benchmark.extra_info.update(compile_s=compile_s, ref_s=theirs, ratio_vs_numpy=theirs / ours, **extra)


def test_prg_aes_ctr_into_buffer(benchmark):
    seed = prg.new_seed()
    out = np.empty(N, dtype=np.uint64)
    g = np.random.Generator(np.random.PCG64(12345))
    _bench(benchmark, lambda: prg.expand_into(seed, 1, out),
           lambda: g.integers(0, 2**64, size=N, dtype=np.uint64, endpoint=False), words=N)


@pytest.mark.parametrize("P", [2, 3, 5])
def test_share_generation(benchmark, P):
    s = Session(P, seed=b"bench-share-0000")
    x = np.random.default_rng(0).normal(size=N)
    g = np.random.Generator(np.random.PCG64(1))
    _bench(benchmark, lambda: s.share(x, owner=0),
           lambda: [g.integers(0, 2**64, size=N, dtype=np.uint64, endpoint=False) for _ in range(P - 1)], parties=P)


def test_ring_add_vs_numpy(benchmark):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2**64, size=N, dtype=np.uint64), rng.integers(0, 2**64, size=N, dtype=np.uint64)
    _bench(benchmark, lambda: ring.ring_mul(a, b), lambda: a * b)


@pytest.mark.parametrize("P", [2, 3, 5])
def test_beaver_mul(benchmark, P):
    s = Session(P, seed=b"bench-mul-000000")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=N), rng.normal(size=N)
    x, y = s.share(a, 0), s.share(b, 1)
    _bench(benchmark, lambda: s.mul(x, y), lambda: a * b, parties=P)


@pytest.mark.parametrize("P", [2, 3, 5])
def test_beaver_matmul(benchmark, P):
    s = Session(P, seed=b"bench-matmul-000")
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(1000, 64)), rng.normal(size=(64, 32))
    x, w = s.share(A, "querier"), s.share(B, 0)
    _bench(benchmark, lambda: s.matmul(x, w), lambda: A @ B, parties=P)


@pytest.mark.parametrize("P", [2, 3, 5])
@pytest.mark.parametrize("op", ["lt", "relu"])
def test_comparison(benchmark, P, op):
    s = Session(P, seed=b"bench-cmp-000000")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=N), rng.normal(size=N)
    x, y = s.share(a, 0), s.share(b, 1)
    fn = (lambda: s.lt(x, y)) if op == "lt" else (lambda: s.relu(x))
    ref = (lambda: a < b) if op == "lt" else (lambda: np.maximum(a, 0))
    _bench(benchmark, fn, ref, parties=P)


@pytest.mark.parametrize("P", [2, 3, 5])
@pytest.mark.parametrize("method", ["pairs", "tree"])
def test_argmax_1000x10(benchmark, P, method):
    s = Session(P, seed=b"bench-argmax-000")
    X = np.random.default_rng(0).normal(size=(1000, 10))
    x = s.share(X, 0)
    _bench(benchmark, lambda: s.argmax(x, method=method), lambda: X.argmax(axis=1), parties=P)


def test_bitslice_transpose(benchmark):
    v = np.random.default_rng(0).integers(0, 2**64, size=N, dtype=np.uint64)
    _bench(benchmark, lambda: bitslice.bitslice(v), lambda: np.unpackbits(v.view(np.uint8)))
