"""One-round FSS gates (issue 8): ReLU with a two-word DCF payload, comparisons scaled by
dealer words, the 2-round argmax revealed to one receiver, and M2 inference on top of them —
against plaintext, with edge values, mask wrap-around, reduced width and exact counts."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_session
from reference import reconstruct
from fibench.kernels import dcf
from fibench.mpc.protocols.argmax import argmax_reveal
from fibench.mpc.protocols.compare_fss import argmax_reveal_fss
from fibench.mpc.protocols.compare_fss import ltz_fss_scaled, relu_fss

EDGES = [0, 1, -1, 2, -2, 2**62, -(2**62), 2**62 - 1, -(2**62) + 1, 2**63 - 1, -(2**63), -(2**63) + 1,
         12345, -12345]


def fss(**kw):
    return make_session(2, protocol="fss", **kw)


def relu_ref(vals):
    return [max(int(v), 0) for v in vals]


def run_relu(vals, bits=64, s=None):
    s = s or fss()
    x = s.share_raw(np.asarray(vals, dtype=np.int64))
    return s, s.reveal_raw(relu_fss(s, x, bits)).view(np.int64).tolist()


def test_relu_edges_and_random():
    rng = np.random.default_rng(3)
    vals = EDGES + rng.integers(-(2**63), 2**63 - 1, size=300, dtype=np.int64).tolist()
    _, out = run_relu(vals)
    assert out == relu_ref(vals)


def test_relu_reduced_width():
    rng = np.random.default_rng(4)
    edges = [0, 1, -1, 2**31 - 1, -(2**31), -(2**31) + 1, 2**30, -(2**30)]
    vals = edges + rng.integers(-(2**31), 2**31, size=300).tolist()
    _, out = run_relu(vals, bits=32)
    assert out == relu_ref(vals)
    _, out2 = run_relu([1, -2, 0, -1], bits=2)
    assert out2 == [1, 0, 0, 0]


@pytest.mark.parametrize("bits", [64, 32])
def test_relu_at_mask_wraparound(bits):
    """x chosen (via a twin of the seeded dealer) so that c = x + r hits c_low == r_low,
    r_low +- 1, 0 and the top of the low range, with both values of the opened msb."""
    n = 40
    half = 1 << (bits - 1)
    r = [int(v) for v in reconstruct(fss().dealer.random_shares((n,)))]  # the first mask a fresh dealer draws
    xs = []
    for j in range(n):
        rl, rm = r[j] & (half - 1), (r[j] >> (bits - 1)) & 1
        c_low = [rl, rl, (rl + 1) % half, (rl - 1) % half, 0, half - 1, 0, half - 1][j % 8]
        c_msb = [rm, 1 - rm][(j // 8) % 2]
        xl = (c_low + c_msb * half - r[j]) % (1 << bits)
        xs.append(xl - (1 << bits) if xl >= half else xl)
    s = fss()
    _, out = run_relu(xs, bits, s)
    assert out == relu_ref(xs)
    assert 0 in xs and -half in xs


@pytest.mark.parametrize("bits", [64, 32])
def test_relu_one_round_and_exact_bytes(bits):
    s = fss()
    n = 96
    x = s.share(np.linspace(-3, 3, n))
    m = s.stats.mark()
    y = relu_fss(s, x, bits)
    st_ = s.stats.since(m)
    summ = st_.summary()
    assert summ["online_rounds"] == 1 and summ["online_bytes_sent_per_party"] == 8 * n
    assert summ["offline_bytes_per_party"] == dcf.key_nbytes(n, bits - 1, 2)
    assert [r.label for r in st_.rounds] == ["dealer/dcf", "fss/open"]
    assert y.frac == x.frac and y.shape == x.shape
    ref = np.maximum(np.round(np.linspace(-3, 3, n) * 2**16), 0) / 2**16
    assert np.array_equal(s.reveal(y), ref)


def test_relu_empty_one_shapes_and_front_end():
    s = fss()
    e = relu_fss(s, s.share_int(np.zeros(0, dtype=np.int64)))
    assert e.shape == (0,)
    assert run_relu([-5])[1] == [0] and run_relu([5])[1] == [5]
    x = np.arange(-6, 6).reshape(3, 4) / 4
    y = s.relu(s.share(x))  # the session dispatches to relu_fss
    assert y.shape == (3, 4) and np.array_equal(s.reveal(y), np.maximum(x, 0))
    with pytest.raises(TypeError):
        relu_fss(s, np.zeros(3))
    with pytest.raises(ValueError, match="bits"):
        relu_fss(s, s.share([1.0]), bits=1)


def test_relu_output_shares_look_uniform():
    s = fss(dealer_seed=None)
    n = 4096
    y = relu_fss(s, s.share_int(np.full(n, 7)))
    for arr in y.shares.values():
        bits = np.unpackbits(np.ascontiguousarray(arr).view(np.uint8))
        assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=16))
def test_relu_property(vals):
    assert run_relu(vals)[1] == relu_ref(vals)


@pytest.mark.parametrize("bits", [64, 16])
def test_scaled_comparison(bits):
    s = fss()
    rng = np.random.default_rng(9)
    vals = np.array([0, 1, -1, 2**(bits - 1) - 1, -(2**(bits - 1))] + rng.integers(-(2**15), 2**15, 60).tolist())
    out, w_sh = ltz_fss_scaled(s, s.share_raw(vals), bits=bits)  # w: the dealer's random words
    w = reconstruct(w_sh)
    got = out[0] + out[1]
    want = w * (vals < 0).astype(np.uint64)[:, None]
    assert np.array_equal(got, want)


def _argmax_reveal(x, s=None, method="pairs"):
    s = s or fss()
    return s, argmax_reveal(s, s.share(x), "querier", method=method)


def test_argmax_reveal_fss_vs_numpy_with_ties():
    rng = np.random.default_rng(1)
    x = np.round(rng.normal(size=(300, 10)) * 4) / 4  # many ties
    x[0] = 0.0
    x[1] = [5, 5, 1, 5, 0, 0, 0, 0, 0, 0]
    x[2, 9] = 100.0
    _, lab = _argmax_reveal(x)
    assert lab.tolist() == np.argmax(x, axis=1).tolist()


@pytest.mark.parametrize("C", [1, 2, 3, 16])
def test_argmax_reveal_shapes(C):
    rng = np.random.default_rng(C)
    for n in (0, 1, 7):
        x = rng.normal(size=(n, C))
        _, lab = _argmax_reveal(x)
        assert lab.shape == (n,) and lab.tolist() == np.argmax(x, axis=1).tolist() if n else lab.shape == (0,)


def test_argmax_reveal_two_rounds_label_to_querier_only():
    s = fss()
    x = s.share(np.random.default_rng(2).normal(size=(50, 10)))
    m = s.stats.mark()
    argmax_reveal_fss(s, x, "querier")
    rounds = [r for r in s.stats.since(m).rounds if r.phase == "online"]
    assert [r.label for r in rounds] == ["fss/open", "argmax/reveal"]
    assert set(rounds[-1].links) == {(0, "querier"), (1, "querier")}
    assert rounds[-1].links[(0, "querier")] == 8 * 50 * 10


def test_argmax_reveal_losers_look_uniform(monkeypatch):
    """What the querier sees: 0 for the winner, uniform ring elements for every other class."""
    from fibench.mpc.protocols import compare_fss

    s = fss(dealer_seed=None)
    n = 2000
    x = s.share(np.tile([3.0, 1.0, 2.0, 0.5], (n, 1)))
    seen = {}
    orig = compare_fss.reveal

    def spy(ctx, v, to=None, label="reveal"):
        seen["v"] = v.shares[0] + v.shares[1]
        return orig(ctx, v, to, label)

    monkeypatch.setattr(compare_fss, "reveal", spy)
    lab = argmax_reveal_fss(s, x, "querier")
    v = seen["v"]
    assert lab.tolist() == [0] * n and (v[:, 0] == 0).all()
    bits = np.unpackbits(np.ascontiguousarray(v[:, 1:]).view(np.uint8))
    assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)


def test_argmax_reveal_a2b_falls_back_to_argmax_then_reveal():
    s = make_session(3)
    x = np.random.default_rng(5).normal(size=(20, 5))
    lab = argmax_reveal(s, s.share(x), "querier")
    assert lab.tolist() == np.argmax(x, axis=1).tolist()


@pytest.mark.parametrize("cmp_bits, rounds", [(64, 6), (32, 7)])
def test_m2_mlp_fss_rounds_and_agrees(cmp_bits, rounds):
    """M2 MLP logit sum, T2 S=2, fss: masked inputs (1 round), exact truncation (1), ReLU (1),
    hidden opening (1), exact truncation (1; at l = 64 not needed: the argmax compares the
    unrescaled products), argmax comparisons (1), label to the querier (1) = 7 or 6 online
    rounds (5 with the probabilistic trunc="local")."""
    from fibench.fi.secure_inference import m2_labels

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 12))
    owners = [[(rng.normal(size=(12, 8)) / 3, rng.normal(size=8) * 0.1),
               (rng.normal(size=(8, 5)) / 3, rng.normal(size=5) * 0.1)] for _ in range(3)]
    s = fss(cmp_bits=cmp_bits)
    m = s.stats.mark()
    lab = m2_labels(s, X, owners, "logit_sum", "T2", to="querier").view(np.int64)
    summ = s.stats.since(m).summary()
    assert summ["online_rounds"] == rounds
    loose = fss(cmp_bits=cmp_bits, trunc="local")
    m = loose.stats.mark()
    m2_labels(loose, X, owners, "logit_sum", "T2", to="querier")
    assert loose.stats.since(m).summary()["online_rounds"] == 5
    logits = sum(np.maximum(X @ W1 + b1, 0) @ W2 + b2 for (W1, b1), (W2, b2) in owners)
    assert np.mean(lab == np.argmax(logits, axis=1)) >= 0.98


def test_session_cmp_bits_validation():
    for bad in (1, 65, 2.5, True):
        with pytest.raises(ValueError, match="cmp_bits"):
            make_session(2, protocol="fss", cmp_bits=bad)
