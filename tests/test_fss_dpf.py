"""DPF comparison keys (issue 15, item 2): the kernels of ``fibench.kernels.dpf`` against a slow
reference (``reference.RefDPFCmp``) byte for byte and against plaintext on every edge value,
and the ``fss-dpf`` protocol (``ltz_bool`` 1 round, ``ltz`` and ``relu`` 2 rounds) against
plaintext, at the mask's wrap-around boundaries, with exact bytes and rounds."""
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_session
from reference import RefDPFCmp, mask_boundary_inputs, reconstruct
from fibench.kernels import bitslice as kbs
from fibench.kernels import dcf, dpf
from fibench.mpc.protocols.compare_dpf import (ltz_bool_dpf, ltz_dpf, ltz_dpf_offline, ltz_dpf_online,
                                              relu_dpf)

MOD = 1 << 64
M64 = MOD - 1


def _tweak(name: bytes) -> int:  # derived here independently of the module under test
    return int.from_bytes(hashlib.sha256(b"fibench/dpf/tweak/" + name).digest()[:16], "little")


_REF = RefDPFCmp(hashlib.sha256(b"fibench/dcf/mmo-key").digest()[:16], [_tweak(b"L"), _tweak(b"R"), _tweak(b"V")])


def u64(vals):
    return np.array([int(v) % MOD for v in vals], dtype=np.uint64)


def ints(a):
    return [int(v) for v in np.asarray(a).reshape(-1)]


def ref_key_bytes(alphas, L, seeds, flips):
    """Both parties' flat keys from the reference, laid out as the module docstring says."""
    n = len(alphas)
    D, _ = RefDPFCmp.split(L)
    nb = (n + 7) // 8
    keys = []
    out = [_REF.gen(a, L, int(s[0]) | int(s[1]) << 64, int(s[2]) | int(s[3]) << 64, f)
           for a, s, f in zip(alphas, seeds, flips)]
    for b in (0, 1):
        seed = [[r[0][b] & M64, r[0][b] >> 64] for r in out]
        scw = [[[r[1][i][0] & M64, r[1][i][0] >> 64] for r in out] for i in range(D)]
        leaf = [[r[2] & M64, r[2] >> 64] for r in out]
        tcw = np.zeros((D, 2, nb), dtype=np.uint8)
        for j, r in enumerate(out):
            for i in range(D):
                tcw[i, 0, j >> 3] |= r[1][i][1] << (j & 7)
                tcw[i, 1, j >> 3] |= r[1][i][2] << (j & 7)
        words = np.array(seed + [w for lvl in scw for w in lvl] + leaf, dtype=np.uint64).reshape(-1)
        keys.append(np.concatenate([words.view(np.uint8), tcw.reshape(-1)]))
    return keys, out


def both(k0, k1, x, L, **kw):
    return dpf.dpf_cmp_eval(0, k0, x, L, **kw) ^ dpf.dpf_cmp_eval(1, k1, x, L, **kw)


def edge_points(L):
    top = (1 << L) - 1
    base = {0, 1, 2, top, top - 1, top >> 1, (top >> 1) + 1, 127 & top, 128 & top, 129 & top, 63 & top, 64 & top}
    return sorted(v for v in base if v <= top)


# ------------------------------------------------------------------------------------------
# kernels
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L,n,chunk", [(1, 3, 8), (6, 9, 8), (7, 5, 8), (8, 11, 8), (12, 17, 16), (31, 13, 8),
                                       (63, 9, 8), (64, 10, 16)])
def test_keys_and_outputs_match_reference_byte_exact(L, n, chunk):
    rng = np.random.default_rng(L * 100 + n)
    top = (1 << L) - 1
    alphas = [int(v) for v in rng.integers(0, top, n, dtype=np.uint64, endpoint=True)]
    alphas[0], alphas[-1] = 0, top
    seeds = rng.integers(0, M64, (n, 4), dtype=np.uint64, endpoint=True)
    flips = [int(v) for v in rng.integers(0, 2, n)]
    k0, k1 = dpf.dpf_cmp_gen(u64(alphas), L, seeds=seeds, flip=u64(flips), chunk=chunk)
    (r0, r1), ref = ref_key_bytes(alphas, L, seeds, flips)
    assert k0.size == dpf.key_nbytes(n, L) == r0.size
    assert np.array_equal(k0, r0) and np.array_equal(k1, r1)
    for x in ([a for a in alphas], [(a + 1) & top for a in alphas], [(a - 1) & top for a in alphas],
              [int(v) for v in rng.integers(0, top, n, dtype=np.uint64, endpoint=True)]):
        z = [dpf.dpf_cmp_eval(b, k, u64(x), L, chunk=chunk) for b, k in ((0, k0), (1, k1))]
        for b in (0, 1):
            want = [_REF.eval(b, r[0][b], r[1], r[2], xv, L) for r, xv in zip(ref, x)]
            assert ints(z[b]) == want
        assert ints(z[0] ^ z[1]) == [int(xv < a) ^ f for xv, a, f in zip(x, alphas, flips)]


@pytest.mark.parametrize("L", [1, 2, 3, 6, 7, 8, 9])
def test_exhaustive_small_domains(L):
    N = 1 << L
    a = np.repeat(np.arange(N, dtype=np.uint64), N)
    x = np.tile(np.arange(N, dtype=np.uint64), N)
    k0, k1 = dpf.dpf_cmp_gen(a, L, chunk=64)
    assert np.array_equal(both(k0, k1, x, L, chunk=16).astype(bool), x < a)


@pytest.mark.parametrize("L", [10, 16, 31, 32, 48, 62, 63, 64])
def test_edge_thresholds_and_inputs(L):
    """alpha and x at 0, 1, 2^L - 1, 2^(L-1) +- 1, the leaf boundaries (63, 64, 127, 128, 129)
    and alpha +- 1: every pair."""
    pts = edge_points(L)
    pairs = [(a, xv) for a in pts for xv in pts + [(a + 1) % (1 << L), (a - 1) % (1 << L)]]
    a = u64([p[0] for p in pairs])
    x = u64([p[1] for p in pairs])
    k0, k1 = dpf.dpf_cmp_gen(a, L)
    assert np.array_equal(both(k0, k1, x, L).astype(bool), x < a)


def test_random_and_chunk_independent():
    rng = np.random.default_rng(7)
    n, L = 1000, 63
    a = rng.integers(0, 1 << L, n, dtype=np.uint64)
    x = rng.integers(0, 1 << L, n, dtype=np.uint64)
    x[::4] = a[::4]
    seeds = rng.integers(0, M64, (n, 4), dtype=np.uint64, endpoint=True)
    keys = [dpf.dpf_cmp_gen(a, L, seeds=seeds, chunk=c) for c in (8, 24, 1000, 4096)]
    for k in keys[1:]:
        assert np.array_equal(k[0], keys[0][0]) and np.array_equal(k[1], keys[0][1])
    outs = [both(*keys[0], x, L, chunk=c) for c in (8, 40, 2048)]
    for o in outs:
        assert np.array_equal(o, outs[0])
    assert np.array_equal(outs[0].astype(bool), x < a)


def test_reused_buffers_give_the_same_keys():
    rng = np.random.default_rng(3)
    n, L = 100, 31
    a = rng.integers(0, 1 << L, n, dtype=np.uint64)
    seeds = rng.integers(0, M64, (n, 4), dtype=np.uint64, endpoint=True)
    k = dpf.dpf_cmp_gen(a, L, seeds=seeds)
    bufs = (np.full(dpf.key_nbytes(n, L), 0xAB, dtype=np.uint8), np.full(dpf.key_nbytes(n, L), 0xCD, dtype=np.uint8))
    out = dpf.dpf_cmp_gen(a, L, seeds=seeds, out=bufs)
    assert out[0] is bufs[0] and np.array_equal(bufs[0], k[0]) and np.array_equal(bufs[1], k[1])


def test_key_size_and_aes_blocks():
    assert dpf.key_nbytes(8000, 63) / 8000 == 942.0  # l = 64 (the DCF: 1551.75)
    assert dpf.key_nbytes(8000, 31) / 8000 == 422.0  # l = 32 (the DCF: 775.75)
    assert dpf.key_nbytes(8, 7) == dpf.key_nbytes(8, 1) == 8 * 32  # no tree: seed and leaf only
    assert dpf.key_nbytes(1, 63) == 16 * 56 + 32 + 2 * 56
    for L in (1, 7, 8, 31, 63, 64):
        n = 50
        a = np.zeros(n, dtype=np.uint64)
        prof_g, prof_e = {}, {}
        k0, _ = dpf.dpf_cmp_gen(a, L, profile=prof_g)
        dpf.dpf_cmp_eval(0, k0, a, L, profile=prof_e)
        assert prof_g["aes_blocks"] == n * dpf.gen_aes_blocks(L) == n * (4 * dpf.tree_levels(L) + 2)
        assert prof_e["aes_blocks"] == n * dpf.eval_aes_blocks(L) == n * (2 * dpf.tree_levels(L) + 1)
    assert dpf.eval_aes_blocks(63) == 113 and dpf.gen_aes_blocks(63) == 226


def test_empty_one_and_shapes():
    k0, k1 = dpf.dpf_cmp_gen(np.zeros(0, dtype=np.uint64), 63)
    assert k0.size == k1.size == 0
    assert dpf.dpf_cmp_eval(0, k0, np.zeros(0, dtype=np.uint64), 63).shape == (0,)
    for L in (1, 63, 64):
        for a, x in ((0, 0), (5 % (1 << L), 4 % (1 << L)), ((1 << L) - 1, 0)):
            k0, k1 = dpf.dpf_cmp_gen(u64([a]), L)
            assert ints(both(k0, k1, u64([x]), L)) == [int(x < a)]
    a = np.arange(12, dtype=np.uint64)
    k0, k1 = dpf.dpf_cmp_gen(a, 8)
    z = both(k0, k1, np.full((3, 4), 6, dtype=np.uint64), 8)
    assert z.shape == (3, 4) and z.dtype == np.uint8 and ints(z) == [int(6 < v) for v in range(12)]


def test_validation():
    a = np.zeros(4, dtype=np.uint64)
    for bad in (0, 65, 3.0, "8"):
        with pytest.raises(ValueError, match="nbits"):
            dpf.dpf_cmp_gen(a, bad)
    with pytest.raises(ValueError, match="alpha must be a uint64"):
        dpf.dpf_cmp_gen(np.zeros(4, dtype=np.int64), 8)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 2\*\*8\)"):
        dpf.dpf_cmp_gen(u64([256]), 8)
    with pytest.raises(ValueError, match="seeds"):
        dpf.dpf_cmp_gen(a, 8, seeds=np.zeros((4, 3), dtype=np.uint64))
    with pytest.raises(ValueError, match="flip"):
        dpf.dpf_cmp_gen(a, 8, flip=u64([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="chunk"):
        dpf.dpf_cmp_gen(a, 8, chunk=12)
    with pytest.raises(ValueError, match=r"out\[1\]"):
        dpf.dpf_cmp_gen(a, 8, out=(np.empty(dpf.key_nbytes(4, 8), np.uint8), np.empty(3, np.uint8)))
    k0, _ = dpf.dpf_cmp_gen(a, 8)
    with pytest.raises(ValueError, match="party"):
        dpf.dpf_cmp_eval(2, k0, a, 8)
    with pytest.raises(ValueError, match="key must be"):
        dpf.dpf_cmp_eval(0, k0[:-1], a, 8)
    with pytest.raises(ValueError, match="key must be"):
        dpf.dpf_cmp_eval(0, k0, a, 9)  # a key for another width
    with pytest.raises(ValueError, match=r"x must lie in \[0, 2\*\*8\)"):
        dpf.dpf_cmp_eval(0, k0, u64([0, 0, 0, 300]), 8)
    with pytest.raises(ValueError, match="x must be a uint64"):
        dpf.dpf_cmp_eval(0, k0, np.zeros(4, dtype=np.int32), 8)


def test_single_key_looks_uniform():
    """Either key alone: balanced bits in its root seed, correction words, leaf and control-bit
    corrections, whatever alpha (the extremes compared), and a balanced output share."""
    n, L = 2048, 20
    for a in (0, (1 << L) - 1):
        alpha = np.full(n, a, dtype=np.uint64)
        k0, k1 = dpf.dpf_cmp_gen(alpha, L)
        for b, k in ((0, k0), (1, k1)):
            seed, scw, leaf, tcw = dpf.key_sections(k, n, L)
            for words, first in ((seed[:, 0], 0), (seed[:, 1], 0), (scw[..., 0], 1), (scw[..., 1], 0),
                                 (leaf[:, 0], 0), (leaf[:, 1], 0)):
                bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), bitorder="little").reshape(-1, 64)[:, first:]
                assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)
            tb = np.unpackbits(tcw)
            assert abs(tb.mean() - 0.5) < 5 * 0.5 / np.sqrt(tb.size)
            z = dpf.dpf_cmp_eval(b, k, np.full(n, 12345, dtype=np.uint64), L)
            assert abs(z.mean() - 0.5) < 5 * 0.5 / np.sqrt(n)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 64), st.lists(st.tuples(st.integers(0, M64), st.integers(0, M64)), min_size=1, max_size=12))
def test_property_vs_plaintext(L, pairs):
    top = (1 << L) - 1
    a = u64([p[0] & top for p in pairs])
    x = u64([p[1] & top for p in pairs])
    k0, k1 = dpf.dpf_cmp_gen(a, L, chunk=8)
    assert np.array_equal(both(k0, k1, x, L, chunk=8).astype(bool), x < a)


# ------------------------------------------------------------------------------------------
# the fss-dpf protocol
# ------------------------------------------------------------------------------------------
def dpf_session(**kw):
    return make_session(2, protocol="fss-dpf", **kw)


EDGES = [0, 1, -1, 2, -2, 2**62, -(2**62), 2**62 - 1, -(2**62) + 1, 2**63 - 1, -(2**63), -(2**63) + 1,
         2**63 - 2, 12345, -12345]


def _bool_bits(planes, n):
    return ints(kbs.unslice_bit(planes[0].reshape(-1) ^ planes[1].reshape(-1), n))


@pytest.mark.parametrize("bits", [64, 32, 9, 8, 2])
def test_ltz_relu_bool_edges_and_random(bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    rng = np.random.default_rng(bits)
    vals = sorted({v for v in EDGES if lo <= v <= hi} | {lo, lo + 1, hi, hi - 1, 0, -1, 1})
    vals += [int(v) for v in rng.integers(lo, hi, 300, endpoint=True)]
    s = dpf_session()
    x = s.share_raw(np.array(vals, dtype=np.int64))
    assert ints(s.reveal_raw(ltz_dpf(s, x, bits))) == [int(v < 0) for v in vals]
    assert _bool_bits(ltz_bool_dpf(s, x, bits), len(vals)) == [int(v < 0) for v in vals]
    assert s.reveal_raw(relu_dpf(s, x, bits)).view(np.int64).tolist() == [max(v, 0) for v in vals]


def _twin_mask(n):
    return reconstruct(dpf_session().dealer.random_shares((n,)))


@pytest.mark.parametrize("bits", [64, 32, 8])
def test_ltz_at_mask_wraparound_boundaries(bits):
    """c = x + r (r predicted by a twin of the seeded dealer) at the mask's wrap-around
    boundaries (``reference.mask_boundary_inputs``: x = 0 and x = -2^(l-1) occur)."""
    n = 40
    r = ints(_twin_mask(n))
    xs = mask_boundary_inputs(r, bits)
    s = dpf_session()
    pre = ltz_dpf_offline(s, n, bits, "arith")
    assert ints(pre.r[0] + pre.r[1]) == r
    x = s.share_raw(np.array(xs, dtype=np.int64))
    assert ints(s.reveal_raw(ltz_dpf_online(s, x, pre))) == [int(v < 0) for v in xs]
    assert 0 in xs and -(1 << (bits - 1)) in xs


@pytest.mark.parametrize("bits", [64, 32])
def test_exact_bytes_and_rounds(bits):
    n = 100
    width = 8 if bits == 64 else 4
    key = dpf.key_nbytes(n, bits - 1)
    bitwords = 8 * ((n + 63) // 64)  # the second round: 1 bit per element, bit-sliced words
    for op, rounds, online, extra, labels in (
            (lambda s, x: ltz_bool_dpf(s, x, bits), 1, width * n, 0, ["dealer/dpf", "fss-dpf/open"]),
            (lambda s, x: ltz_dpf(s, x, bits), 2, width * n + bitwords, 8 * n,
             ["dealer/dpf", "fss-dpf/open", "fss-dpf/b2a"]),
            (lambda s, x: relu_dpf(s, x, bits), 2, 8 * n + bitwords, 16 * n,
             ["dealer/dpf", "fss-dpf/open", "fss-dpf/b2a"])):
        s = dpf_session()
        x = s.share_int(np.arange(-50, 50))
        m = s.stats.mark()
        op(s, x)
        since = s.stats.since(m)
        summ = since.summary()
        assert summ["online_rounds"] == rounds and summ["offline_rounds"] == 1
        assert summ["online_bytes_sent_per_party"] == online == summ["online_bytes_recv_per_party"]
        assert [r.label for r in since.rounds] == labels
        per_party = _offline_bytes_to(since)
        assert per_party == {0: key + extra, 1: key}
    assert dpf.key_nbytes(8000, bits - 1) / 8000 == {64: 942.0, 32: 422.0}[bits]


def _offline_bytes_to(since):
    """Bytes the dealer sent to each party in ``since`` (from the per-link records)."""
    out = {0: 0, 1: 0}
    for r in since.rounds:
        if r.label.startswith("dealer/"):
            for (src, dst), nb in r.links.items():
                if src == "dealer":
                    out[dst] += nb
    return out


def test_empty_one_shapes_and_front_end():
    s = dpf_session()
    x0 = s.share_int(np.zeros(0, dtype=np.int64))
    m = s.stats.mark()
    for out in (ltz_dpf(s, x0), relu_dpf(s, x0)):
        assert out.shape == (0,) and all(v.shape == (0,) for v in out.shares.values())
    assert all(v.shape == (1, 0) for v in ltz_bool_dpf(s, x0).values())
    assert s.stats.since(m).summary()["online_rounds"] == 0 and s.stats.since(m).summary()["offline_rounds"] == 0
    one = s.share_int([-7])
    assert ints(s.reveal_raw(s.ltz(one))) == [1] and ints(s.reveal_raw(s.relu(one))) == [0]
    v = np.arange(-6, 6).reshape(3, 4)
    x = s.share_int(v)
    b = s.ltz(x)
    assert b.shape == (3, 4) and b.frac == 0 and s.reveal_raw(b).tolist() == (v < 0).astype(int).tolist()
    r = s.relu(s.share(v / 4))
    assert r.shape == (3, 4) and np.allclose(s.reveal(r), np.maximum(v / 4, 0))
    assert ints(s.reveal_raw(s.lt(s.share_int([1, 5, 3]), s.share_int([2, 5, 1])))) == [1, 0, 0]
    scores = np.array([[3, 9, 9, 1], [7, 2, 7, 7], [0, 0, 0, 0], [-5, -1, -9, -1]])
    xs = s.share_int(scores)
    assert ints(s.reveal_raw(s.argmax(xs))) == [1, 0, 0, 1]  # ties to the lowest index
    assert ints(s.argmax_reveal(xs, to=0)) == [1, 0, 0, 1]


def test_validation_and_repr():
    s = dpf_session()
    x = s.share_int([1, 2])
    for bad in (1, 65, 0, 3.0):
        with pytest.raises(ValueError, match="bits"):
            ltz_dpf(s, x, bad)
    with pytest.raises(ValueError, match="'fss-dpf' needs n_parties = 2"):
        make_session(3, protocol="fss-dpf")
    s3 = make_session(3)
    with pytest.raises(ValueError, match="n_parties = 2"):
        ltz_dpf(s3, s3.share_int([1, 2]))
    with pytest.raises(TypeError, match="AShare"):
        ltz_dpf(s, [1, 2])
    pre = ltz_dpf_offline(s, 3, 64, "arith")
    with pytest.raises(ValueError, match="preprocessing"):
        ltz_dpf_online(s, x, pre)
    with pytest.raises(ValueError, match="output 'arith'"):
        ltz_dpf_online(s, s.share_int([1, 2, 3]), ltz_dpf_offline(s, 3, 64, "bool"))
    with pytest.raises(ValueError, match="output must be one of"):
        s.dealer.dpf_keys(3, 64, output="xor")
    assert repr(pre) == "FssDpfPre(n=3, bits=64, output='arith', parties=[0, 1])"


def test_views_look_uniform():
    """Party 1's view for constant x: the opened c, the opened bit [x < 0] ^ m and its output
    share are balanced."""
    n = 4096
    for v in (0, -1):
        s = dpf_session(dealer_seed=None)
        x = s.share_int(np.full(n, v))
        pre = ltz_dpf_offline(s, n, 64, "arith")
        c = x.shares[0] + x.shares[1] + pre.r[0] + pre.r[1]
        e = (pre.m[0] + pre.m[1]) ^ np.uint64(int(v < 0))  # the opened bit
        out = ltz_dpf_online(s, x, pre)
        for arr in (c, out.shares[1]):
            bits = np.unpackbits(np.ascontiguousarray(arr).view(np.uint8))
            assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)
        assert abs(e.astype(float).mean() - 0.5) < 5 * 0.5 / np.sqrt(n)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
def test_protocol_property(vals):
    s = dpf_session()
    x = s.share_raw(np.array(vals, dtype=np.int64))
    assert ints(s.reveal_raw(s.ltz(x))) == [int(v < 0) for v in vals]
    assert s.reveal_raw(s.relu(x)).view(np.int64).tolist() == [max(v, 0) for v in vals]


def test_dcf_keys_unaffected():
    """``fss`` still ships its DCF keys (key bytes pinned in test_dcf_vector)."""
    s = make_session(2, protocol="fss")
    m = s.stats.mark()
    s.ltz(s.share_int(np.arange(-4, 4)))
    assert _offline_bytes_to(s.stats.since(m)) == {0: dcf.key_nbytes(8, 63), 1: dcf.key_nbytes(8, 63)}


_MPI_SCRIPT = r"""
import numpy as np
from fibench.mpc import Session
s = Session(2, dealer_seed=b"fibench-test-000", protocol="fss-dpf", backend="mpi")
vals = np.array([0, 1, -1, 2**31 - 1, -2**31, 7, -7, 12345, -12345] * 3, dtype=np.int64)
x = s.share_raw(vals if s.comm.rank == 0 else None, owner=0, shape=vals.shape)
res = []
for op in (s.ltz, s.relu):
    m = s.stats.mark()
    y = op(x)
    summ = s.stats.since(m).summary()
    out = s.reveal_raw(y).view(np.int64)
    want = (vals < 0).astype(np.int64) if op == s.ltz else np.maximum(vals, 0)
    res.append((bool((out == want).all()), summ["online_rounds"], summ["online_bytes_sent_per_party"],
                summ["offline_bytes_per_party"]))
import sys
with open(f"{sys.argv[1]}/rank{s.comm.rank}.txt", "w") as fh:
    fh.write(repr(res))
"""


def _local_counts():
    vals = np.array([0, 1, -1, 2**31 - 1, -2**31, 7, -7, 12345, -12345] * 3, dtype=np.int64)
    s = dpf_session()
    x = s.share_raw(vals)
    res = []
    for op in (s.ltz, s.relu):
        m = s.stats.mark()
        op(x)
        summ = s.stats.since(m).summary()
        res.append((True, summ["online_rounds"], summ["online_bytes_sent_per_party"], summ["offline_bytes_per_party"]))
    return repr(res)


@pytest.mark.mpi
def test_fss_dpf_mpi_backend_matches_local(tmp_path):
    """Two MPI ranks (the dealer on rank 0, party 1 expanding its seeds): same outputs and the
    same exact counts as the local backend."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("mpi4py")
    if shutil.which("mpiexec") is None:
        pytest.skip("mpiexec not found")
    script = tmp_path / "dpf_mpi.py"
    script.write_text(_MPI_SCRIPT)
    cmd = ["mpiexec", "-n", "2", sys.executable, str(script), str(tmp_path)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expect = _local_counts()
    for rank in (0, 1):
        assert (tmp_path / f"rank{rank}.txt").read_text() == expect
