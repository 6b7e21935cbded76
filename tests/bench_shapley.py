"""Benchmarks of exact / Monte-Carlo Shapley on the digits test set (``nox -s bench``).

Owners: K logistic regressions (scikit-learn, self-contained here) trained on disjoint random
slices of the digits training split; queries: the digits test split (360 images, 10 classes).
Each benchmark warms up first (JIT compilation and cache load are excluded from the timing
and reported in ``extra_info["compile_s"]``).

* exact Shapley at K = 10 (1 thread) with ``ratio_vs_numpy``: a plain numpy enumeration of
  the same 2^K coalitions on the same data, timed in the same run (the CI gate's ratio);
* K = 16 on one thread, K = 20 on two threads;
* Monte-Carlo Shapley at K = 16: permutations needed for a mean absolute error below 1 % of
  v(N) against exact (``extra_info["perms_to_1pct"]``);
* pyDVL 0.10 ``combinatorial_exact`` side by side, when a venv with it exists at
  ``$FIBENCH_PYDVL_PYTHON`` (default ``/tmp/pydvl-venv/bin/python``; it needs numpy < 2, so it
  is not a project dependency): ``extra_info["speedup_vs_pydvl"]``.

Run: ``pytest tests/bench_shapley.py --benchmark-enable -s`` (``-s`` prints a summary line per
benchmark).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numba
import numpy as np
import pytest

from fibench.bench.timing import median_time
from fibench import incentives as inc
from fibench.incentives.utility import CoalitionGame

_CACHE = {}


def digits_owners(K, seed=0):
    """(proba (K, 360, 10), y_test (360,)) of K logistic regressions on disjoint slices."""
    if (K, seed) in _CACHE:
        return _CACHE[(K, seed)]
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=360, random_state=seed, stratify=y)
    rng = np.random.default_rng(seed)
    parts = np.array_split(rng.permutation(len(ytr)), K)
    proba = np.zeros((K, len(yte), 10))
    for k, idx in enumerate(parts):
        m = LogisticRegression(max_iter=300).fit(Xtr[idx], ytr[idx])
        proba[k][:, m.classes_] = m.predict_proba(Xte)
    _CACHE[(K, seed)] = (proba, yte.astype(np.int64))
    return _CACHE[(K, seed)]


class threads:
    def __init__(self, n):
        self.n = max(1, min(n, numba.config.NUMBA_NUM_THREADS))

    def __enter__(self):
        self.prev = numba.get_num_threads()
        numba.set_num_threads(self.n)

    def __exit__(self, *exc):
        numba.set_num_threads(self.prev)


def _exact(proba, y):
    # the full public path: fixed-point scores, margins, enumeration, marginal table
    return inc.exact_shapley(CoalitionGame.from_proba(proba, y))


def _bench(benchmark, fn, rounds, **extra):
    t0 = time.perf_counter()
    fn()
    compile_s = time.perf_counter() - t0
    benchmark.pedantic(fn, rounds=rounds, warmup_rounds=1)
    ours = statistics.median(benchmark.stats.stats.data) if benchmark.stats else median_time(fn, rounds)
    benchmark.extra_info.update(compile_s=compile_s, median_s=ours, **extra)
    return ours


def numpy_exact_shapley(proba, y):
    """Reference: numpy soft vote per coalition (2^K argmaxes), then the Shapley sum."""
    K, n, _ = proba.shape
    from math import comb

    v = np.zeros(1 << K)
    for mask in range(1, 1 << K):
        members = [k for k in range(K) if mask >> k & 1]
        v[mask] = np.mean(proba[members].sum(axis=0).argmax(axis=1) == y)
    phi = np.zeros(K)
    masks = np.arange(1 << K)
    sizes = np.array([bin(m).count("1") for m in masks])
    for i in range(K):
        without = masks[(masks >> i & 1) == 0]
        w = 1.0 / (K * np.array([comb(K - 1, s) for s in sizes[without]]))
        phi[i] = np.sum(w * (v[without | (1 << i)] - v[without]))
    return phi


def test_exact_shapley_k10_one_thread(benchmark):
    proba, y = digits_owners(10)
    with threads(1):
        ours = _bench(benchmark, lambda: _exact(proba, y), rounds=7, K=10, threads=1)
        ref = numpy_exact_shapley(proba, y)
        theirs = median_time(lambda: numpy_exact_shapley(proba, y), reps=3)
    np.testing.assert_allclose(_exact(proba, y), ref, atol=1e-9)
    benchmark.extra_info.update(ref_s=theirs, ratio_vs_numpy=theirs / ours)
    print(f"\nexact Shapley K=10, 1 thread: {ours * 1e3:.2f} ms; numpy reference {theirs * 1e3:.0f} ms "
          f"(x{theirs / ours:.0f})")


def test_exact_shapley_k16_one_thread(benchmark):
    proba, y = digits_owners(16)
    with threads(1):
        ours = _bench(benchmark, lambda: _exact(proba, y), rounds=5, K=16, threads=1)
    print(f"\nexact Shapley K=16, 1 thread: {ours * 1e3:.1f} ms (target <= 500 ms)")


@pytest.mark.slow
def test_exact_shapley_k20_two_threads(benchmark):
    proba, y = digits_owners(20)
    with threads(2):
        ours = _bench(benchmark, lambda: _exact(proba, y), rounds=3, K=20, threads=2)
    print(f"\nexact Shapley K=20, 2 threads: {ours:.3f} s (target <= 8 s)")


def perms_to_reach(game, exact, target, seed=0, step=16, max_perms=4096):
    """Smallest number of permutations (multiple of ``step``, antithetic pairs) with MAE < target."""
    r = inc.monte_carlo_shapley(game, tol=1e-12, max_perms=max_perms, min_perms=max_perms,
                                batch=step, seed=seed, keep_history=True)
    for n_perms, values in r.history:
        if np.abs(values - exact).mean() < target:
            return n_perms
    return None


def test_monte_carlo_k16(benchmark):
    proba, y = digits_owners(16)
    game = CoalitionGame.from_proba(proba, y)
    exact = inc.exact_shapley(game)
    target = 0.01 * game.full_value
    needed = [perms_to_reach(game, exact, target, seed=s) for s in range(5)]
    assert all(n is not None for n in needed)

    def run():
        return inc.monte_carlo_shapley(game, tol=0.005, seed=0)

    _bench(benchmark, run, rounds=5, K=16)
    r = run()
    mae = float(np.abs(r.values - exact).mean())
    benchmark.extra_info.update(perms_to_1pct=needed, mc_stop_perms=r.n_perms, mc_stop_mae=mae,
                                v_full=game.full_value)
    print(f"\nMC Shapley K=16: MAE < 1% v(N) after {needed} permutations (5 seeds, step 16); "
          f"stopping rule tol=0.005 stops at {r.n_perms} perms with MAE {mae:.2e} "
          f"({mae / game.full_value * 100:.2f}% of v(N))")


PYDVL_SCRIPT = textwrap.dedent('''
    import json, sys, time, warnings
    import numpy as np
    from pydvl.utils import Dataset, Utility
    from pydvl.value import compute_shapley_values, ShapleyMode

    f = np.load(sys.argv[1])
    proba, y = f["proba"], f["y"]
    K, n, C = proba.shape

    class Ensemble:
        """Players are owners: fit() keeps the coalition, score() its soft-vote accuracy."""
        def fit(self, x, _y):
            self.members = np.asarray(x[:, 0], dtype=int)
            return self
        def predict(self, x):
            return proba[self.members][:, x[:, 0].astype(int)].sum(axis=0).argmax(axis=1)
        def score(self, x, yy):
            return float(np.mean(self.predict(x) == yy))
        def get_params(self, deep=False):
            return {}

    data = Dataset(np.arange(K, dtype=float)[:, None], np.zeros(K, dtype=int),
                   np.arange(n, dtype=float)[:, None], y)
    u = Utility(Ensemble(), data)  # defaults: no cache, clone before fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = compute_shapley_values(u, mode=ShapleyMode.CombinatorialExact, n_jobs=1)
        dt = time.perf_counter() - t0
    print(json.dumps({"time_s": dt, "values": list(map(float, res.values))}))
''')


def pydvl_python():
    p = os.environ.get("FIBENCH_PYDVL_PYTHON", "/tmp/pydvl-venv/bin/python")
    return p if Path(p).exists() else None


def run_pydvl(proba, y):
    py = pydvl_python()
    with tempfile.TemporaryDirectory() as d:
        np.savez(Path(d) / "owners.npz", proba=proba, y=y)
        script = Path(d) / "pydvl_exact.py"
        script.write_text(PYDVL_SCRIPT)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run([py, str(script), str(Path(d) / "owners.npz")], capture_output=True,
                             text=True, env=env, timeout=1800)
    if out.returncode != 0:
        pytest.skip(f"pyDVL run failed: {out.stderr[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("K", [10, 14])
def test_speedup_vs_pydvl(benchmark, K):
    if pydvl_python() is None:
        pytest.skip("no pyDVL venv (set FIBENCH_PYDVL_PYTHON)")
    proba, y = digits_owners(K)
    with threads(1):
        ours = _bench(benchmark, lambda: _exact(proba, y), rounds=7, K=K, threads=1)
    theirs = run_pydvl(proba, y)
    np.testing.assert_allclose(_exact(proba, y), theirs["values"], atol=1e-9)
    benchmark.extra_info.update(pydvl_s=theirs["time_s"], speedup_vs_pydvl=theirs["time_s"] / ours)
    print(f"\npyDVL 0.10 combinatorial exact K={K}: {theirs['time_s']:.2f} s; fibench {ours * 1e3:.2f} ms "
          f"-> x{theirs['time_s'] / ours:.0f}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "--benchmark-enable", "-s", "-q"]))
