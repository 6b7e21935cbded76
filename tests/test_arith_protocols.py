"""Beaver products and truncation vs plaintext, P = 2, 3, 5, 8."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference as naive
from conftest import make_session
from fibench.mpc import encoding as fp
from fibench.mpc.protocols import arithmetic as ar

PS = [2, 3, 5, 8]
F = 16
ULP = 2.0**-F


@pytest.mark.parametrize("P", PS)
def test_mul_exact_on_integers_with_wraparound(P):
    s = make_session(P)
    vals = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1, 12345678901234567], dtype=np.uint64)
    other = vals[::-1].copy()
    x = s.share_raw(vals.view(np.int64), 0)
    y = s.share_raw(other.view(np.int64), 1)
    got = s.reveal_raw(ar.mul(s, x, y))
    assert got.tolist() == naive.ring_mul(vals.tolist(), other.tolist())


@pytest.mark.parametrize("P", PS)
def test_fixed_point_mul_within_one_ulp(P, rng):
    s = make_session(P)
    a, b = rng.normal(size=500) * 50, rng.normal(size=500) * 50
    a[:4] = [0.0, ULP, -ULP, 1000.0]
    b[:4] = [123.0, -1.0, -1.0, -1000.0]
    got = s.reveal(s.mul(s.share(a, 0), s.share(b, 1)))
    ref = fp.decode(fp.encode(a), F) * fp.decode(fp.encode(b), F)
    assert np.abs(got - ref).max() <= 1.01 * ULP


@pytest.mark.parametrize("P", PS)
def test_beaver_mul_bytes_and_rounds(P):
    s = make_session(P)
    n = 1000
    x, y = s.share(np.ones(n), 0), s.share(np.ones(n), 1)
    m = s.stats.mark()
    ar.mul(s, x, y)
    st = s.stats.since(m).summary()
    assert st["online_rounds"] == 1
    assert st["online_bytes_sent_per_party"] == 16 * n * (P - 1)
    assert st["offline_bytes_per_party"] == 8 * n  # party 0's correction of c only


@pytest.mark.parametrize("P", PS)
def test_matmul_vs_float(P, rng):
    s = make_session(P)
    A, B = rng.normal(size=(6, 5)), rng.normal(size=(5, 4))
    got = s.reveal(s.matmul(s.share(A, 0), s.share(B, "querier")))
    ref = fp.decode(fp.encode(A), F) @ fp.decode(fp.encode(B), F)
    assert np.abs(got - ref).max() <= 1.01 * ULP


@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (0, 3, 2), (3, 0, 2)])
def test_matmul_edge_shapes(n, k, m):
    s = make_session(2)
    A, B = np.ones((n, k)), np.ones((k, m))
    got = s.reveal(s.matmul(s.share(A, 0), s.share(B, 1)))
    assert got.shape == (n, m) and np.allclose(got, A @ B)


@pytest.mark.parametrize("P", [2, 3, 5, 8])
def test_dealer_truncation_exact_to_one_ulp(P, rng):
    s = make_session(P, trunc="dealer")
    # values with 2f fractional bits near the extremes of the allowed range
    raw = np.concatenate([rng.integers(-(2**61), 2**61, size=2000), [0, 1, -1, 2**61, -(2**61), 2**62 - 1, -(2**62) + 1]])
    x = s.share_int(raw, 0)
    x.frac = 2 * F
    got = s.reveal_raw(ar.truncate(s, x, F, "dealer")).view(np.int64)
    ref = raw >> F
    assert np.abs(got - ref).max() <= 1


def test_local_truncation_two_parties(rng):
    s = make_session(2)
    raw = rng.integers(-(2**40), 2**40, size=5000)
    x = s.share_int(raw, 0)
    got = s.reveal_raw(ar.truncate(s, x, F, "local")).view(np.int64)
    assert np.abs(got - (raw >> F)).max() <= 1


def test_truncation_method_validation():
    s = make_session(3)
    x = s.share([1.0], 0)
    with pytest.raises(ValueError, match="2 parties"):
        ar.truncate(s, x, F, "local")
    with pytest.raises(ValueError, match="method"):
        ar.truncate(s, x, F, "magic")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=20), st.sampled_from([2, 3, 5]))
def test_mul_property(xs, P):
    s = make_session(P)
    a = np.array(xs)
    got = s.reveal(s.mul(s.share(a, 0), s.share(a[::-1].copy(), 1)))
    ref = fp.decode(fp.encode(a), F) * fp.decode(fp.encode(a[::-1]), F)
    assert np.abs(got - ref).max() <= 1.01 * ULP


# -- masked inputs (owner sends x - a for a dealer mask a) ------------------------------------

def _masked(s, x, owner, frac=F):
    from fibench.mpc.protocols.sharing import share_many

    raw = fp.encode(x) if frac else np.asarray(x).astype(np.int64).view(np.uint64)
    return share_many(s, [(raw, owner, np.shape(x), frac, "masked")], "m")[0]


@pytest.mark.parametrize("P", PS)
@pytest.mark.parametrize("owner", [0, 1, "querier"])
def test_masked_input_is_the_value_and_e_is_masked(P, owner, rng):
    s = make_session(P)
    owner = min(owner, P - 1) if isinstance(owner, int) else owner
    xv = np.array([0, 1, -1, 2**62 - 1, -(2**62)], dtype=np.int64)
    m = _masked(s, xv, owner, frac=0)
    assert s.reveal_raw(m.as_ashare()).view(np.int64).tolist() == xv.tolist()
    assert not np.array_equal(m.e, xv.view(np.uint64))  # what the parties see is x - a
    assert str(int(m.mask.owner_value[0])) not in repr(m) and str(int(m.e[0])) not in repr(m)


@pytest.mark.parametrize("P", PS)
def test_masked_input_costs(P):
    s = make_session(P)
    n = 1000
    mark = s.stats.mark()
    _masked(s, np.ones(n), "querier")
    st = s.stats.since(mark)
    q = st.party_summary("online")["querier"]
    assert q["bytes_sent"] == 8 * n * P and st.summary()["online_rounds"] == 1
    off = st.party_summary("offline")
    assert off["querier"]["bytes_recv"] == 16  # one seed
    assert off[0]["bytes_recv"] == 8 * n  # party 0's correction of the mask


@pytest.mark.parametrize("P", PS)
@pytest.mark.parametrize("which", ["x", "y", "both"])
def test_matmul_with_masked_operands(P, which, rng):
    s = make_session(P)
    A, B = rng.normal(size=(7, 5)) * 10, rng.normal(size=(5, 3)) * 10
    x = _masked(s, A, "querier") if which in ("x", "both") else s.share(A, 0)
    y = _masked(s, B, "owner1") if which in ("y", "both") else s.share(B, P - 1)
    mark = s.stats.mark()
    z = ar.matmul(s, x, y)
    st = s.stats.since(mark).summary()
    opened = {"x": 5 * 3, "y": 7 * 5, "both": 0}[which]
    assert st["online_rounds"] == (0 if which == "both" else 1)
    assert st["online_bytes_sent_per_party"] == 8 * opened * (P - 1)
    got = s.reveal(s._rescale(z))
    ref = fp.decode(fp.encode(A), F) @ fp.decode(fp.encode(B), F)
    assert np.abs(got - ref).max() <= 1.01 * ULP


@pytest.mark.parametrize("P", [2, 3])
def test_mul_with_masked_operand_exact_on_ring(P):
    s = make_session(P)
    vals = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1], dtype=np.uint64)
    x = _masked(s, vals.view(np.int64), "querier", frac=0)
    y = s.share_raw(vals[::-1].copy().view(np.int64), 0)
    got = s.reveal_raw(ar.mul(s, x, y))
    assert got.tolist() == naive.ring_mul(vals.tolist(), vals[::-1].tolist())


def test_share_many_rejects_unknown_item_flag():
    from fibench.mpc.protocols.sharing import share_many

    s = make_session(2)
    with pytest.raises(ValueError, match="5th field"):
        share_many(s, [(np.zeros(2, dtype=np.uint64), 0, (2,), 0, "bogus")])
