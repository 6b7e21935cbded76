"""Privacy accounting (fibench.fi.privacy): every epsilon recomputed by a second, independent
route (closed-form RDP by hand, Mironov's Laplace formula, pure composition, PATE's Theorem 6
in plain Python) to 1e-6; budgets; the missing-library error."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import gaussian_rdp_epsilon, laplace_rdp, pate_data_dependent_rdp

pv = pytest.importorskip("fibench.fi.privacy")
pytest.importorskip("dp_accounting")


@pytest.mark.parametrize("sigma", [1.0, 5.0, 40.0, 200.0])
@pytest.mark.parametrize("queries", [1, 100, 10_000])
@pytest.mark.parametrize("delta", [1e-5, 1e-8])
def test_gnmax_epsilon_closed_form(sigma, queries, delta):
    lib = pv.epsilon("gaussian", sigma, queries, delta)
    ref = gaussian_rdp_epsilon(sigma, 1.0, queries, delta, pv.ORDERS)
    assert lib == pytest.approx(ref, abs=1e-6, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(sigma=st.floats(0.5, 500), scale=st.floats(0.05, 1.0), queries=st.integers(1, 5000),
       delta=st.sampled_from([1e-3, 1e-5, 1e-7]))
def test_gnmax_epsilon_closed_form_property(sigma, scale, queries, delta):
    lib = pv.epsilon("gaussian", sigma, queries, delta, scale)
    assert lib == pytest.approx(gaussian_rdp_epsilon(sigma, scale, queries, delta, pv.ORDERS), abs=1e-6)


def test_gnmax_known_values_and_scaling():
    # sigma scales out: (sigma, c) and (sigma / c, 1) are the same mechanism
    assert pv.epsilon("gaussian", 40.0, 100, 1e-5, 0.5) == pytest.approx(pv.epsilon("gaussian", 80.0, 100, 1e-5))
    # more queries and less noise cost more
    e = [pv.epsilon("gaussian", 40.0, q) for q in (1, 10, 100, 1000)]
    assert e == sorted(e) and e[0] > 0
    assert pv.epsilon("gaussian", 20.0, 100) > pv.epsilon("gaussian", 40.0, 100)
    assert pv.epsilon("gaussian", 40.0, 0) == 0.0


@pytest.mark.parametrize("sigma", [2.0, 10.0, 40.0])
@pytest.mark.parametrize("queries", [1, 30, 1000])
def test_lnmax_epsilon_two_routes(sigma, queries):
    """RDP route by Mironov's formula (by hand) and pure composition T * 2/sigma; the library's
    epsilon is the smaller of the library-RDP route and pure composition."""
    delta = 1e-5
    eps1 = 2.0 / sigma
    by_hand = min(queries * laplace_rdp(eps1, a) + math.log1p(-1 / a) - math.log(delta * a) / (a - 1)
                  for a in pv.ORDERS if a > 1.01)
    expected = min(max(by_hand, 0.0), queries * eps1)
    assert pv.epsilon("laplace", sigma, queries, delta) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("noise", ["gaussian", "laplace"])
@pytest.mark.parametrize("sigma, budget", [(5.0, 2.0), (40.0, 2.0), (40.0, 8.0), (100.0, 8.0)])
def test_queries_within_is_the_largest(noise, sigma, budget):
    q = pv.queries_within(noise, sigma, budget, 1e-5)
    assert q >= 1
    assert pv.epsilon(noise, sigma, q, 1e-5) <= budget < pv.epsilon(noise, sigma, q + 1, 1e-5)


def test_queries_within_none_and_cap():
    assert pv.queries_within("gaussian", 0.5, 0.01) == 0
    assert pv.queries_within("gaussian", 1e5, 8.0, max_queries=1000) == 1000


def test_data_dependent_matches_plain_theorem6():
    rng = np.random.default_rng(3)
    for sigma, K in ((40.0, 250), (10.0, 50), (5.0, 10)):
        counts = rng.multinomial(K, rng.dirichlet(np.full(10, 0.3)), size=30).astype(float)
        lq = pv.gnmax_logq(counts, sigma)
        for row, l in zip(counts, lq):
            got = pv.rdp_gnmax_data_dependent(float(l), sigma)
            ref = [pate_data_dependent_rdp(row, sigma, 1.0, a) for a in pv.ORDERS]
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
        total = np.sum([[pate_data_dependent_rdp(r, sigma, 1.0, a) for a in pv.ORDERS] for r in counts], axis=0)
        ref_eps = min(max(t + math.log1p(-1 / a) - math.log(1e-5 * a) / (a - 1), 0) for t, a in zip(total, pv.ORDERS)
                      if a > 1.01)
        assert pv.data_dependent_epsilon(counts, sigma, 1e-5) == pytest.approx(ref_eps, abs=1e-6)


def test_data_dependent_never_worse_and_better_with_consensus():
    sigma = 40.0
    consensus = np.tile([240.0, 5, 5, 0, 0, 0, 0, 0, 0, 0], (100, 1))
    split = np.tile([60.0, 55, 50, 45, 40, 0, 0, 0, 0, 0], (100, 1))
    indep = pv.epsilon("gaussian", sigma, 100)
    assert pv.data_dependent_epsilon(consensus, sigma) < 0.5 * indep
    assert pv.data_dependent_epsilon(split, sigma) == pytest.approx(indep, abs=1e-9)
    # a unanimous vote: q tiny; epsilon then limited by the highest usable order (~ mu1)
    assert pv.data_dependent_epsilon(np.tile([250.0] + [0] * 9, (100, 1)), sigma) < 0.3 * indep


def test_logq_edge_values():
    lq = pv.gnmax_logq([[5, 5, 0]], 1.0)  # a tie: the bound is 1
    assert lq[0] == 0.0
    lq = pv.gnmax_logq([[10, 0]], 2.0)
    assert lq[0] == pytest.approx(-100 / 16)
    with pytest.raises(ValueError, match="counts"):
        pv.gnmax_logq([[1]], 1.0)


def test_confident_gnmax_epsilon_closed_form():
    """Threshold checks: Gaussian of L2 sensitivity c (noise multiplier sigma1 / c); answers:
    GNMax. By hand: RDP = asked * a c^2 / (2 s1^2) + answered * a c^2 / s2^2."""
    s1, s2, asked, answered, delta = 150.0, 40.0, 1000, 300, 1e-5
    by_hand = min(asked * a / (2 * s1 ** 2) + answered * a / s2 ** 2 + math.log1p(-1 / a) - math.log(delta * a) / (a - 1)
                  for a in pv.ORDERS if a > 1.01)
    assert pv.confident_epsilon(s1, s2, asked, answered, delta) == pytest.approx(by_hand, abs=1e-6)
    with pytest.raises(ValueError, match="answered"):
        pv.confident_epsilon(s1, s2, 5, 6)


@pytest.mark.parametrize("call, word", [
    (lambda: pv.epsilon("uniform", 1.0, 1), "noise"),
    (lambda: pv.epsilon("gaussian", 0.0, 1), "sigma"),
    (lambda: pv.epsilon("gaussian", 1.0, -1), "queries"),
    (lambda: pv.epsilon("gaussian", 1.0, 1, delta=0.0), "delta"),
    (lambda: pv.epsilon("gaussian", 1.0, 1, delta=1.0), "delta"),
    (lambda: pv.epsilon("gaussian", 1.0, 1, scale=0), "scale"),
    (lambda: pv.queries_within("gaussian", 1.0, 0.0), "budget"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_missing_library_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dp_accounting", None)
    assert not pv.available()
    with pytest.raises(ImportError, match=r"pip install 'fibench\[privacy\]'"):
        pv.epsilon("gaussian", 40.0, 1)
