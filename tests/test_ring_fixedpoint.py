import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference as naive
from fibench.mpc import encoding as fp
from fibench.kernels import ring

U64 = st.integers(min_value=0, max_value=2**64 - 1)
EDGE = [0, 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1, 2**32, 2**62]


def arr(xs):
    return np.array(xs, dtype=np.uint64)


@settings(max_examples=60, deadline=None)
@given(st.lists(U64, min_size=0, max_size=40), st.data())
def test_ring_ops_match_python_ints(a, data):
    b = data.draw(st.lists(U64, min_size=len(a), max_size=len(a)))
    A, B = arr(a), arr(b)
    assert ring.ring_add(A, B).tolist() == naive.ring_add(a, b)
    assert ring.ring_mul(A, B).tolist() == naive.ring_mul(a, b)
    assert ring.ring_sub(A, B).tolist() == [(x - y) % naive.MOD for x, y in zip(a, b)]
    assert ring.ring_neg(A).tolist() == [(-x) % naive.MOD for x in a]


def test_ring_edge_values_wrap():
    A = arr(EDGE)
    B = arr(EDGE[::-1])
    assert ring.ring_add(A, B).tolist() == naive.ring_add(EDGE, EDGE[::-1])
    assert ring.ring_mul(A, B).tolist() == naive.ring_mul(EDGE, EDGE[::-1])
    assert ring.ring_sum(np.stack([A, B, A])).tolist() == [(2 * x + y) % naive.MOD for x, y in zip(EDGE, EDGE[::-1])]


def test_ring_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shapes"):
        ring.ring_add(arr([1, 2]), arr([1]))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 5), st.integers(1, 6), st.data())
def test_ring_matmul_matches_python(n, k, m, data):
    A = data.draw(st.lists(st.lists(U64, min_size=k, max_size=k), min_size=n, max_size=n))
    B = data.draw(st.lists(st.lists(U64, min_size=m, max_size=m), min_size=k, max_size=k))
    got = ring.ring_matmul(np.array(A, dtype=np.uint64).reshape(n, k), np.array(B, dtype=np.uint64).reshape(k, m))
    assert got.tolist() == (naive.matmul(A, B) if k else [[0] * m for _ in range(n)])


def test_matmul_bad_shapes():
    with pytest.raises(ValueError, match="matmul"):
        ring.ring_matmul(np.zeros((2, 3), np.uint64), np.zeros((2, 3), np.uint64))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), max_size=30), st.integers(0, 30))
def test_encode_decode_matches_reference(xs, f):
    raw = fp.encode(xs, f)
    assert raw.tolist() == [naive.encode(x, f) for x in xs]
    assert fp.decode(raw, f).tolist() == [naive.decode(naive.encode(x, f), f) for x in xs]


def test_decode_negative_is_exact_no_off_by_one():
    f = 16
    raw = arr([2**64 - 1, 2**64 - 2**16, 2**64 - 2**16 - 1, 1])
    assert fp.decode(raw, f).tolist() == [-(2.0**-16), -1.0, -1.0 - 2.0**-16, 2.0**-16]


@pytest.mark.parametrize("f", [0, 8, 16, 24, 30])
def test_extreme_fixed_point_values_roundtrip(f):
    m = fp.max_value(f)
    xs = [0.0, m, -m, 2.0**-f, -(2.0**-f)]
    assert fp.decode(fp.encode(xs, f), f).tolist() == xs


def test_encode_rejects_bad_input():
    with pytest.raises(ValueError, match="finite"):
        fp.encode([1.0, np.nan])
    with pytest.raises(ValueError, match="finite"):
        fp.encode([np.inf])
    with pytest.raises(ValueError, match="fixed-point range"):
        fp.encode([fp.max_value(16) * 2], 16)
    with pytest.raises(ValueError, match="frac_bits"):
        fp.encode([1.0], 31)
    with pytest.raises(ValueError, match="frac_bits"):
        fp.encode([1.0], -1)
    with pytest.raises(ValueError, match="uint64"):
        fp.decode(np.array([1], dtype=np.int64))


@pytest.mark.parametrize("f", [0, 16, 30])
def test_encode_range_limit_one_ulp(f):
    m = fp.max_value(f)
    above = np.nextafter(m, np.inf)
    assert fp.decode(fp.encode([m, -m], f), f).tolist() == [m, -m]
    for bad in ([above], [-above], [0.0, 1e300], [-1e300]):
        with pytest.raises(ValueError, match="fixed-point range"):
            fp.encode(bad, f)


def test_encode_nonfinite_wins_over_range_and_2d_shape_kept():
    with pytest.raises(ValueError, match="finite"):
        fp.encode([1e300, -np.inf])  # both bad: finiteness is named, as before any range check
    x = np.arange(6.0).reshape(2, 3) - 2.5
    assert fp.encode(x).shape == (2, 3)
    assert fp.decode(fp.encode(x), 16).tolist() == x.tolist()


def test_empty_inputs():
    assert fp.encode([]).shape == (0,)
    assert ring.ring_add(arr([]), arr([])).shape == (0,)
    assert ring.ring_matmul(np.zeros((0, 3), np.uint64), np.zeros((3, 2), np.uint64)).shape == (0, 2)
