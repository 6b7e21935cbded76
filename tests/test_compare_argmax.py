"""Secure comparison (a2b), ReLU and argmax vs plaintext."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference as naive
from conftest import make_session
from uniformity import bytes_look_uniform
from fibench.mpc import encoding as fp
from fibench.kernels import bitslice as kbs

PS = [2, 3, 5, 8]
EDGE_RAW = [0, 1, -1, 2, -2, 2**62 - 1, -(2**62) + 1, 2**63 - 1, -(2**63), 2**32, -(2**32), 12345, -12345]


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 130, 64 * 32 - 1, 64 * 32 + 1, 64 * 128, 64 * 130 + 7])
def test_bitslice_matches_naive(n, rng):
    v = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    assert (kbs.bitslice(v) == naive.bitslice(v, 64)).all()
    for nbits in (1, 31, 63):
        assert (kbs.bitslice(v, nbits) == naive.bitslice(v, nbits)).all()
    for j in (0, 31, 63):
        if n:
            assert (kbs.unslice_bit(kbs.bitslice(v)[j], n) == (v >> np.uint64(j)) & np.uint64(1)).all()
    assert (kbs.pack_bits(v & np.uint64(1)) == naive.bitslice(v, 1)[0]).all()


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 4097])
def test_unslice_planes_and_the_fused_difference(n, rng):
    nw = (n + 63) // 64
    planes = rng.integers(0, 2**64, (3, nw), dtype=np.uint64)
    bits = np.stack([naive.bitslice_inverse(pl, n) for pl in planes]) if n else np.zeros((3, 0), np.uint64)
    assert (kbs.unslice_planes(planes, n) == bits).all()
    acc = rng.integers(0, 2**64, (3, n), dtype=np.uint64)
    want = bits - acc
    assert (kbs.unslice_planes(planes, n, minus=acc) == want).all()
    assert kbs.unslice_planes(planes, n, minus=acc, out=acc) is acc and (acc == want).all()  # in place
    with pytest.raises(ValueError, match="out must be"):
        kbs.unslice_planes(planes, n, out=np.empty((2, n), np.uint64))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300))
def test_bitslice_property(vals):
    v = np.array(vals, dtype=np.uint64)
    assert (kbs.bitslice(v) == naive.bitslice(v)).all()
    part = v[::-1].copy()  # the planes of a sum of two parts
    assert (kbs.bitslice(v - part, plus=part) == naive.bitslice(v)).all()


@pytest.mark.parametrize("nodes", [32, 16, 8, 4])
@pytest.mark.parametrize("nw", [1, 3, 300])
@pytest.mark.parametrize("first", [True, False])
def test_fused_level_kernels_match_the_unfused_steps(nodes, nw, first, rng):
    """level_masked / level_finish (a pair's two ANDs share their first operand's mask) against
    level_operands, and_finish and level_combine with that mask spelled out per AND."""
    from fibench.kernels import compare as kc

    k = nodes // 2
    G, P = (rng.integers(0, 2**64, (nodes, nw), dtype=np.uint64) for _ in range(2))
    A = rng.integers(0, 2**64, (k, nw), dtype=np.uint64)
    B, C = (rng.integers(0, 2**64, (nodes - 1, nw), dtype=np.uint64) for _ in range(2))
    X, Y = kc.level_operands(G, P)
    A_all = kc.shared_first_operand(A)
    assert (X == kc.shared_first_operand(X[:k])).all()  # the rows that share a are equal
    msg = kc.level_masked(G, P, A, B)
    assert msg.shape == (k + nodes - 1, nw)
    assert (msg[:k] == X[:k] ^ A).all() and (msg[k:] == Y ^ B).all()
    d = rng.integers(0, 2**64, (k, nw), dtype=np.uint64)
    e = rng.integers(0, 2**64, (nodes - 1, nw), dtype=np.uint64)
    want_G, want_P = kc.level_combine(G, kc.and_finish(kc.shared_first_operand(d), e, A_all, B, C, first))
    part = rng.integers(0, 2**64, msg.shape, dtype=np.uint64)  # the opened message as two XOR parts
    got_G, got_P = kc.level_finish(part, np.concatenate([d, e]) ^ part, A, B, C, G, first)
    assert (got_G == want_G).all() and (got_P == want_P).all()


@pytest.mark.parametrize("P", [2, 3, 5])
def test_a2b_truth_table_is_the_last_and_masked(P):
    """The dealer's table U[2i + j] = m ^ ((i ^ alpha) & (j ^ beta)) on the opened masks, each
    single share uniform over its bytes."""
    s = make_session(P)
    n = 4000
    pre = s.dealer.a2b_masks(n)
    table = naive.reconstruct(pre.table)
    fin = np.bitwise_xor.reduce(np.stack([pre.fin[p] for p in range(P)]), axis=0)
    al, be, m = (naive.bitslice_inverse(fin[k], n) for k in range(3))
    for i in (0, 1):
        for j in (0, 1):
            assert (table[2 * i + j] == m ^ ((i ^ al) & (j ^ be))).all()
    for p in range(P):
        assert pre.table[p].shape == (4, n) and pre.gamma is None
        assert bytes_look_uniform(pre.table[p])
    assert s.dealer.a2b_masks(n, "bool").table is None


@pytest.mark.parametrize("P", PS)
def test_ltz_edge_values(P):
    s = make_session(P)
    raw = np.array(EDGE_RAW, dtype=np.int64)
    x = s.share_raw(raw, 0)
    got = s.reveal_raw(s.ltz(x))
    assert got.tolist() == [int(v < 0) for v in EDGE_RAW]


@pytest.mark.parametrize("P", PS)
def test_lt_random_and_bytes(P, rng):
    s = make_session(P)
    n = 640
    a, b = rng.normal(size=n) * 10, rng.normal(size=n) * 10
    b[:5] = a[:5]  # equal values: not less
    m = s.stats.mark()
    x, y = s.share(a, 0), s.share(b, 1)
    m = s.stats.mark()
    bit = s.lt(x, y)
    st = s.stats.since(m).summary()
    ea, eb = fp.encode(a).view(np.int64), fp.encode(b).view(np.int64)
    assert s.reveal_raw(bit).tolist() == (ea < eb).astype(int).tolist()
    assert st["online_rounds"] == 6
    # 8 B open + 30 shared d bits + 56 e bits + 3 bits, per element and per peer
    assert st["online_bytes_sent_per_party"] == (P - 1) * (8 * n + (30 + 56 + 3) * n // 8)
    assert st["online_bytes_sent_per_party"] / n / (P - 1) <= 40


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=70), st.sampled_from([2, 3, 5]))
def test_ltz_property_any_int64(vals, P):
    s = make_session(P)
    got = s.reveal_raw(s.ltz(s.share_raw(np.array(vals, dtype=np.int64), 0)))
    assert got.tolist() == [int(v < 0) for v in vals]


@pytest.mark.parametrize("P", [2, 3])
def test_ltz_empty_and_shapes(P):
    s = make_session(P)
    x = s.share(np.zeros((0,)), 0)
    assert s.reveal_raw(s.ltz(x)).shape == (0,)
    x = s.share(np.array([[1.0, -1.0], [-3.0, 0.0]]), 0)
    assert s.reveal_raw(s.ltz(x)).tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("P", PS)
def test_relu(P, rng):
    s = make_session(P)
    a = np.concatenate([rng.normal(size=200) * 100, [0.0, 2.0**-16, -(2.0**-16), 5e6, -5e6]])
    got = s.reveal(s.relu(s.share(a, 0)))
    assert np.abs(got - np.maximum(fp.decode(fp.encode(a), 16), 0)).max() <= 2.0**-16


@pytest.mark.parametrize("P", PS)
@pytest.mark.parametrize("method", ["pairs", "tree"])
@pytest.mark.parametrize("C", [1, 2, 3, 7, 10])
def test_argmax_vs_plaintext_with_ties(P, method, C, rng):
    s = make_session(P)
    X = rng.integers(-3, 3, size=(40, C)).astype(float)  # many ties: lowest index wins
    x = s.share(X, 0)
    ref = [naive.argmax_lowest(row) for row in X.tolist()]
    assert s.reveal_raw(s.argmax(x, method=method)).tolist() == ref
    oh = s.reveal_raw(s.argmax(x, method=method, one_hot=True))
    assert (oh == np.eye(C, dtype=np.uint64)[ref]).all()


def test_argmax_rounds_and_bytes_1000x10():
    s = make_session(2)
    x = s.share(np.random.default_rng(0).normal(size=(1000, 10)), 0)
    m = s.stats.mark()
    s.argmax(x, method="pairs")
    st = s.stats.since(m).summary()
    assert st["online_rounds"] == 11  # 6 (comparison) + 4 (AND tree of 9 bits) + 1 (to arithmetic)
    assert st["online_bytes_sent_per_party"] <= 1.1e6  # CrypTen: 7.4 MB
    m = s.stats.mark()
    s.argmax(x, method="tree")
    assert s.stats.since(m).summary()["online_rounds"] == 28


def test_argmax_validation_and_empty():
    s = make_session(2)
    with pytest.raises(ValueError, match="method"):
        s.argmax(s.share(np.ones((2, 3)), 0), method="bogus")
    with pytest.raises(ValueError, match="2-D"):
        s.argmax(s.share(np.ones(3), 0))
    assert s.reveal_raw(s.argmax(s.share(np.ones((0, 4)), 0))).shape == (0,)


@pytest.mark.parametrize("C", [1, 2, 5, 10])
def test_argmax_fss_counts_wins_in_two_rounds(C, rng):
    s = make_session(2, protocol="fss")
    X = rng.integers(-3, 3, size=(30, C)).astype(float)
    ref = [naive.argmax_lowest(row) for row in X.tolist()]
    x = s.share(X, 0)
    m = s.stats.mark()
    lab = s.argmax(x)
    assert s.stats.since(m).summary()["online_rounds"] == (2 if C > 1 else 0)
    assert s.reveal_raw(lab).tolist() == ref
    assert (s.reveal_raw(s.argmax(x, one_hot=True)) == np.eye(C, dtype=np.uint64)[ref]).all()


@pytest.mark.skipif(not __import__("fibench.kernels.bitslice_simd", fromlist=["x"]).available(),
                    reason="no AVX-512 BW + VBMI for numba here")
@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3 * 64 * 64 + 130), nbits=st.sampled_from([1, 7, 8, 9, 31, 56, 63, 64]),
       with_plus=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_vector_bitslice_equals_the_scalar_transpose(n, nbits, with_plus, seed):
    """The 512-bit shuffle kernel against the scalar transpose, on any n (partial blocks and
    partial groups of eight blocks), any plane count and with the two-part sum."""
    from fibench.kernels import bitslice_simd

    rng = np.random.default_rng(seed)
    v = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    v[: min(n, 3)] = [0, 2**64 - 1, 2**63][: min(n, 3)]
    plus = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True) if with_plus else v
    nw = (n + 63) // 64
    fast, slow = (np.full((nbits, nw), 5, dtype=np.uint64) for _ in range(2))
    if n:
        bitslice_simd.bitslice_vector(v, plus, with_plus, nbits, fast)
        kbs._bitslice(v, plus, with_plus, nbits, slow)
    assert np.array_equal(fast, slow)
    assert np.array_equal(fast, naive.bitslice(v + plus if with_plus else v, nbits))


def test_bitslice_without_vbmi_takes_the_scalar_transpose(tmp_path):
    """Compiled for a CPU without AVX-512 VBMI (a fresh process and numba cache) the planes are
    the same, from the scalar transpose."""
    import os
    import subprocess
    import sys
    code = ("import numpy as np\nfrom fibench.kernels import bitslice as kbs, bitslice_simd\n"
            "v = np.arange(5000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)\n"
            "p = kbs.bitslice(v)\n"
            "assert all(((p[j, i // 64] >> np.uint64(i % 64)) & np.uint64(1)) == ((v[i] >> np.uint64(j)) & np.uint64(1))"
            " for j in (0, 17, 63) for i in range(0, 5000, 7))\n"
            "print(bitslice_simd.available())")
    env = dict(os.environ, NUMBA_CPU_FEATURES="-avx512vbmi", NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200, 1000])
@pytest.mark.parametrize("first", [True, False])
def test_final_arith_matches_the_reference(n, first, rng):
    """The last a2b step (entry selection and the public XOR) against the element-by-element
    reference, table words at 0, 1, 2^63 and 2^64 - 1 included."""
    from fibench.kernels import compare as kc

    nw = (n + 63) // 64
    d, e, w, c63 = (rng.integers(0, 2**64, nw, dtype=np.uint64) for _ in range(4))
    table = rng.integers(0, 2**64, (4, n), dtype=np.uint64)
    table[:, :4] = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)[: min(n, 4)]
    got = kc.final_arith(d, e, w, c63, table, first, n)
    assert np.array_equal(got, naive.a2b_final_share(d, e, w, c63, table, first, n))
