"""The secure softmax (fibench.mpc.protocols.softmax): exp, reciprocal and softmax against numpy
over the ranges the M2 soft-vote pipeline produces, in checking mode; exact costs."""
import numpy as np
import pytest

from fibench.mpc import Session
from fibench.mpc.protocols import softmax as smx


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logits(n=100, C=10, seed=0):
    """Pipeline-like logits: moderate and large spreads, ties, and owners' unseen classes (-1e4)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 4, (n, C))
    X[:10] = rng.normal(0, 30, (10, C))       # spreads up to ~100
    X[10:20, 3] = -1e4                         # an unseen class
    X[20:25, :7] = -1e4                        # an owner that saw 3 classes
    X[25:28] = 0.0                             # all tied
    X[28:31, :2] = X[28:31, 2:3]               # a tie at the max
    return X


def test_exp_error_over_the_clamped_range():
    f = 16
    L = smx.exp_lower(f)
    assert np.isclose(np.exp(L), 2.0 ** -(f + 1)) and L > -12  # exp(x) < half an ulp below L
    x = np.concatenate([np.linspace(L, 0, 3001), [-12.5, -40.0, -1e4]])  # below L: clamped
    s = Session(2, check=True)
    got = s.reveal(smx.exp_nonpositive(s, s.share(x)))
    err = np.abs(got - np.exp(x))
    assert err.max() <= 7.5e-5                  # order 2, n = 6: 5.5e-5 + ~1 ulp (docstring)
    assert np.all(got[-3:] <= 2.0**-16)         # exp below the clamp is (at most 1 ulp of) 0
    # order 1 (CrypTen's limit) undershoots by at most 2 e^-2 / 2^n, plus about 1 ulp
    for n in (8, 10):
        s1 = Session(2, check=True)
        e1 = s1.reveal(smx.exp_nonpositive(s1, s1.share(x[:-3]), n, order=1))
        d = np.exp(x[:-3]) - e1
        assert d.max() <= 2 * np.exp(-2) / 2**n + 2 * 2.0**-16 and d.min() >= -2 * 2.0**-16


def test_reciprocal_over_one_to_C():
    C, f = 10, 16
    assert smx.newton_iters(C, f) == 5 and abs(smx.initial_guess(C)[2] - 81 / 161) < 1e-12
    S = np.linspace(1.0, C, 2001)
    s = Session(3, check=True)
    y = s.reveal(smx.reciprocal(s, s.share(S), C))
    assert np.max(np.abs(y - 1 / S)) <= 2 * 2.0**-16  # measured 1.25 ulp


@pytest.mark.parametrize("protocol,P", [("a2b", 2), ("fss", 2), ("a2b", 3)])
@pytest.mark.parametrize("max_method", ["tree", "pairs"])
def test_softmax_matches_numpy_in_checking_mode(protocol, P, max_method):
    X = _logits()
    s = Session(P, protocol=protocol, check=True)
    p = s.reveal(smx.softmax(s, s.share(X), max_method=max_method))
    ref = _softmax(X)
    assert np.max(np.abs(p - ref)) <= 3.5e-4
    assert np.max(np.abs(p.sum(axis=1) - 1)) <= 1e-3
    assert np.all(p[10:20, 3] <= 2.0**-16)     # unseen classes: 0
    assert np.array_equal(np.argmax(p[:10], axis=1), np.argmax(ref[:10], axis=1))


def test_row_max_is_exact():
    X = _logits(40, 7)
    for method in ("tree", "pairs"):
        s = Session(2, check=True)
        m = s.reveal(smx.row_max(s, s.share(X), method))
        assert np.array_equal(m, np.max(np.round(X * 2**16) / 2**16, axis=1))


@pytest.mark.parametrize("protocol,rounds,sent", [("a2b", 69, 305_984), ("fss", 39, 252_800)])
def test_cost_of_100_queries_by_10_classes(protocol, rounds, sent):
    """The counts in the module docstring (P = 2): deterministic for the shape."""
    s = Session(2, protocol=protocol)
    x = s.share(_logits())
    mark = s.stats.mark()
    smx.softmax(s, x)
    summ = s.stats.since(mark).summary()
    assert summ["online_rounds"] == rounds and summ["online_bytes_sent_per_party"] == sent


def test_bad_parameters():
    s = Session(2)
    x = s.share(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="exp_iters must be <= 14"):
        smx.softmax(s, x, exp_iters=15)
    with pytest.raises(ValueError, match="exp_order"):
        smx.softmax(s, x, exp_order=3)
    with pytest.raises(ValueError, match="max_method"):
        smx.softmax(s, x, max_method="all")
    with pytest.raises(ValueError, match="2-D"):
        smx.softmax(s, s.share(np.zeros(3)))
    with pytest.raises(ValueError, match="frac"):
        smx.softmax(s, s.share_int(np.zeros((2, 3), dtype=np.int64)))
    with pytest.raises(TypeError, match="AShare"):
        smx.softmax(s, np.zeros((2, 3)))
    empty = smx.softmax(s, s.share(np.zeros((0, 3))))
    assert empty.shape == (0, 3)
