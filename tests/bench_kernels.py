"""Micro benchmarks (``nox -s bench``): each reports the median time and, in
``extra_info["ratio_vs_numpy"]``, the throughput relative to a numpy reference on the same data,
measured in the same run (speed-ups > 1 mean fibench is faster). JIT compilation happens in a
warm-up call before timing; its duration is stored as ``extra_info["compile_s"]``.

The cases (kernel and numpy reference on fixed data) are the ones of the kernels suite and the
regression gate: ``fibench.bench.measures.kernels.case``.

Run: ``pytest tests/bench_kernels.py --benchmark-enable`` (or ``nox -s bench``).
"""
import statistics
import time

import pytest

from fibench.bench.measures.kernels import case
from fibench.bench.timing import median_time

N = 1_000_000


def _bench(benchmark, kernel, n=N, extra=None, **opts):
    fn, ref, _ = case(kernel, n, **opts)
    t0 = time.perf_counter()
    fn()
    compile_s = time.perf_counter() - t0
    benchmark.pedantic(fn, rounds=7, warmup_rounds=1)
    ours = statistics.median(benchmark.stats.stats.data) if benchmark.stats else median_time(fn)
    theirs = median_time(ref)
    benchmark.extra_info.update(compile_s=compile_s, ref_s=theirs, ratio_vs_numpy=theirs / ours, **(extra or {}))


def test_prg_aes_ctr_into_buffer(benchmark):
    _bench(benchmark, "prg_expand", extra={"words": N})


@pytest.mark.parametrize("P", [2, 3, 5])
def test_share_generation(benchmark, P):
    _bench(benchmark, "share", parties=P, extra={"parties": P})


@pytest.mark.parametrize("kernel", ["ring_add", "ring_mul"])
def test_ring_vs_numpy(benchmark, kernel):
    _bench(benchmark, kernel)


@pytest.mark.parametrize("P", [2, 3, 5])
def test_beaver_mul(benchmark, P):
    _bench(benchmark, "beaver_mul", parties=P, extra={"parties": P})


@pytest.mark.parametrize("P", [2, 3, 5])
def test_beaver_matmul(benchmark, P):
    _bench(benchmark, "beaver_matmul", 1000, parties=P, extra={"parties": P})


@pytest.mark.parametrize("P", [2, 3, 5])
@pytest.mark.parametrize("op", ["lt", "relu"])
def test_comparison(benchmark, P, op):
    _bench(benchmark, op, parties=P, extra={"parties": P})


@pytest.mark.parametrize("P", [2, 3, 5])
@pytest.mark.parametrize("method", ["pairs", "tree"])
def test_argmax_1000x10(benchmark, P, method):
    _bench(benchmark, "argmax", 1000, parties=P, method=method, extra={"parties": P})


def test_bitslice_transpose(benchmark):
    _bench(benchmark, "bitslice")
