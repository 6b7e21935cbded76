"""Discrete noise of the noisy vote: the sampler's distribution (moments, KS over 10^6 draws
against the exact target), its hard bound, the dealer's noise shares (sum distributed as
claimed, single views uniform, costs) and the local noisy-count protocol."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from conftest import make_session
from reference import discrete_laplace_cdf, reconstruct

from fibench.mpc import noise as dpnoise
from fibench.mpc import prg
from fibench.mpc.protocols import noise as noisy
from fibench.mpc.shares import AShare

N = 10**6
#: KS critical value at level 1e-3 (continuous case; conservative for discrete targets)
KS_CRIT = 1.95 / math.sqrt(N)


def _words():
    return prg.SeededStream(b"noise-test-seed!").next


def _ks(z, cdf_at):
    """sup_k |F_n(k) - F(k)| over the integers k in the sample's range (for an integer
    distribution the supremum is attained at these points)."""
    vals, counts = np.unique(z, return_counts=True)
    emp = np.cumsum(counts) / len(z)
    exact = np.array([cdf_at(int(k)) for k in vals]) if len(vals) < 5000 else cdf_at(vals)
    below = np.concatenate([[0.0], emp[:-1]])
    exact_below = np.array([cdf_at(int(k) - 1) for k in vals]) if len(vals) < 5000 else cdf_at(vals - 1)
    return max(np.max(np.abs(emp - exact)), np.max(np.abs(below - exact_below)))


def _dgauss_cdf(sigma):
    lim = int(math.ceil(14 * sigma)) + 2
    z = np.arange(-lim, lim + 1)
    p = np.exp(-(z.astype(np.float64) ** 2) / (2 * sigma * sigma))
    c = np.cumsum(p / p.sum())
    return lambda k: 0.0 if k < -lim else (1.0 if k >= lim else float(c[k + lim]))


@pytest.mark.parametrize("sigma", [0.5, 3.0, 40.0])
def test_discrete_gaussian_ks_and_moments(sigma):
    z = dpnoise.sample("gaussian", sigma, N, _words())
    assert z.dtype == np.int64 and z.shape == (N,)
    var = dpnoise.variance("gaussian", sigma)
    assert abs(z.mean()) < 5 * math.sqrt(var / N)
    assert abs(z.var() / var - 1) < 0.01
    assert abs(stats.kurtosis(z)) < 0.05 or sigma < 1  # Gaussian-like (tiny sigma: a 3-point law)
    assert _ks(z, _dgauss_cdf(sigma)) < KS_CRIT


@pytest.mark.parametrize("t", [0.5, 3.0, 40.0])
def test_discrete_laplace_ks_and_moments(t):
    z = dpnoise.sample("laplace", t, N, _words())
    var = dpnoise.variance("laplace", t)
    assert abs(z.mean()) < 5 * math.sqrt(var / N)
    assert abs(z.var() / var - 1) < 0.02
    assert _ks(z, lambda k: discrete_laplace_cdf(k, t)) < KS_CRIT
    # pmf at 0 and 1 within 5 standard errors
    for k in (0, 1):
        p = float(dpnoise.pmf("laplace", t, k))
        assert abs(np.mean(z == k) - p) < 5 * math.sqrt(p * (1 - p) / N)


def test_large_scale_against_the_continuous_limit():
    """At the vote pipeline's raw scale (sigma 40 votes at f = 16) the discrete Gaussian's CDF is
    the normal CDF at k + 1/2 to ~1e-12; Laplace is checked exactly."""
    s = 40.0 * 2**16
    z = dpnoise.sample("gaussian", s, N, _words())
    assert stats.kstest(z + 0.5, stats.norm(scale=s).cdf).statistic < KS_CRIT
    assert abs(z.var() / (s * s) - 1) < 0.01
    zl = dpnoise.sample("laplace", s, N, _words())
    q = math.exp(-1 / s)
    cdf = lambda k: np.where(k >= 0, 1 - q ** (k + 1.0) / (1 + q), q ** (-k * 1.0) / (1 + q))  # noqa: E731
    assert _ks(zl, cdf) < KS_CRIT


def test_a_wrong_distribution_fails_the_ks_check():
    """The checks can fail: a Gaussian of 5% more spread is rejected."""
    z = dpnoise.sample("gaussian", 40.0 * 1.05, N, _words())
    assert _ks(z, _dgauss_cdf(40.0)) > KS_CRIT


@pytest.mark.parametrize("kind", dpnoise.KINDS)
@pytest.mark.parametrize("scale", [1e-3, 0.5, 7.0, 2.0**40])
def test_max_abs_is_a_hard_bound(kind, scale):
    bound = dpnoise.max_abs(kind, scale)
    # the extreme uniform 2^-53 gives the largest geometric: below the bound
    t = math.floor(scale) + 1 if kind == "gaussian" else scale
    assert math.floor(-t * math.log(2.0**-53)) <= bound
    words = lambda m: np.zeros(m, dtype=np.uint64)  # noqa: E731  every uniform = 2^-53
    z = dpnoise.discrete_laplace(t, 8, words)
    assert np.all(np.abs(z) <= bound)
    z = dpnoise.sample(kind, scale, 2000, _words())
    assert np.abs(z).max() <= bound


def test_edge_sizes():
    assert dpnoise.sample("gaussian", 3.0, 0, _words()).shape == (0,)
    assert dpnoise.sample("laplace", 3.0, 1, _words()).shape == (1,)


@pytest.mark.parametrize("call, word", [
    (lambda: dpnoise.sample("uniform", 1.0, 3, _words()), "noise must be one of"),
    (lambda: dpnoise.sample("gaussian", 0.0, 3, _words()), "scale"),
    (lambda: dpnoise.sample("gaussian", -1.0, 3, _words()), "scale"),
    (lambda: dpnoise.sample("gaussian", float("nan"), 3, _words()), "scale"),
    (lambda: dpnoise.sample("gaussian", True, 3, _words()), "scale"),
    (lambda: dpnoise.sample("gaussian", 2.0**60, 3, _words()), "scale"),
    (lambda: dpnoise.sample("gaussian", 1.0, -1, _words()), "n must be"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()


# -- the dealer's named correlation -------------------------------------------------------------

@pytest.mark.parametrize("P", [2, 3, 5])
def test_dealer_noise_shares_sum_and_single_views(P):
    s = make_session(P)
    mark = s.stats.mark()
    shape = (1000, 10) if P == 2 else (200, 5)
    z = s.dealer.noise_shares(shape, "gaussian", 40.0)
    st = s.stats.since(mark).summary()
    n = int(np.prod(shape))
    assert st["online_bytes_sent_per_party"] == 0 and st["online_rounds"] == 0
    assert s.stats.since(mark).party_summary("offline")["dealer"]["bytes_sent"] == 8 * n
    total = reconstruct(z.z).view(np.int64)
    assert total.shape == shape and np.abs(total).max() <= dpnoise.max_abs("gaussian", 40.0)
    if P == 2:
        assert abs(total.var() / dpnoise.variance("gaussian", 40.0) - 1) < 0.05
    # every single share, and every sum of P - 1 shares, looks uniform: each bit is 1 half the time
    views = [z.z[p] for p in range(P)] + [reconstruct({q: z.z[q] for q in range(P) if q != p}) for p in range(P)]
    for v in views:
        bits = ((v.reshape(-1)[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
        assert np.all(np.abs(bits - 0.5) < 6 * 0.5 / math.sqrt(v.size))
    assert "parties" in repr(z) and str(int(z.z[0].reshape(-1)[0])) not in repr(z)


def test_dealer_noise_distribution_over_a_million_draws():
    s = make_session(2)
    z = s.dealer.noise_shares((N,), "laplace", 3.0)
    total = reconstruct(z.z).view(np.int64)
    assert _ks(total, lambda k: discrete_laplace_cdf(k, 3.0)) < KS_CRIT


def test_add_noise_protocol_local_and_exact():
    s = make_session(3)
    counts = np.array([[3, 0, 2], [0, 0, 0], [1, 1, 1]], dtype=np.int64)
    sh = s.share_int(counts, owner=0)
    mark = s.stats.mark()
    got = {}
    real = s.dealer.noise_shares

    def spy(shape, kind, scale):
        out = real(shape, kind, scale)
        got["z"] = reconstruct(out.z).view(np.int64)
        got["scale"] = scale
        return out

    s.dealer.noise_shares = spy
    out = noisy.add_noise(s, sh, "gaussian", 2.0)
    assert s.stats.since(mark).summary()["online_rounds"] == 0
    assert out.frac == s.frac_bits and got["scale"] == 2.0 * 2**s.frac_bits
    opened = s.reveal_raw(out).view(np.int64)
    assert np.array_equal(opened, counts * 2**s.frac_bits + got["z"])
    # counts already at frac f are not rescaled; more fractional bits are refused
    f = AShare(sh.shares, sh.shape, s.frac_bits)
    assert noisy.to_frac(f, s.frac_bits) is f
    with pytest.raises(ValueError, match="fractional bits"):
        noisy.to_frac(AShare(sh.shares, sh.shape, s.frac_bits + 1), s.frac_bits)
    with pytest.raises(ValueError, match="sigma"):
        noisy.add_noise(s, sh, "gaussian", 0)
