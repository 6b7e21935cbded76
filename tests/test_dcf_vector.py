"""DCF with a two-word payload (m = 2): keys byte-exact against a slow reference of the PRG layout
(one value block per child, tweaks T_VL / T_VR; Convert = (high word, low word)), outputs against
plaintext at edge inputs and across chunk boundaries, key sizes and AES block counts, single-key
uniformity, validation; and m = 1 keys unchanged byte for byte."""
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RefDCF
from uniformity import bytes_look_uniform
from fibench.kernels import aes, dcf

M64 = 2**64 - 1


def _rand(rng, L, size):
    """Uniform uint64 values in [0, 2**L) (L <= 64)."""
    return rng.integers(0, 2**L - 1, size=size, dtype=np.uint64, endpoint=True)


def _plain(alpha, beta, gamma, x):
    """beta[:, w] * [x < alpha] + gamma[:, w] in Z_2^64, shape (n, 2)."""
    want = beta * (x < alpha).astype(np.uint64)[:, None]
    return want if gamma is None else want + gamma


def _check(alpha, beta, gamma, x, L, chunk_gen=dcf.CHUNK, chunk_eval=dcf.CHUNK, seeds=None):
    k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, chunk=chunk_gen)
    assert k0.dtype == np.uint8 and k0.size == k1.size == dcf.key_nbytes(alpha.size, L, 2)
    y0 = dcf.dcf_eval(0, k0, x, L, m=2, chunk=chunk_eval)
    y1 = dcf.dcf_eval(1, k1, x, L, m=2, chunk=chunk_gen)
    assert y0.shape == y1.shape == (x.size, 2) and y0.dtype == np.uint64
    assert np.array_equal(y0 + y1, _plain(alpha, beta, gamma, x))
    return k0, k1


# ------------------------------------------------------------------------------------------
# slow reference of the m = 2 construction (Python integers, one AES block at a time); the
# MMO key and the tweaks are derived here from their names, independently of the module
# ------------------------------------------------------------------------------------------
def _name_tweak(name: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"fibench/dcf/tweak/" + name).digest()[:16], "little")


T_L, T_R, T_VL, T_VR = (_name_tweak(nm) for nm in (b"L", b"R", b"VL", b"VR"))
_REF = RefDCF(hashlib.sha256(b"fibench/dcf/mmo-key").digest()[:16], [T_L, T_R, T_VL, T_VR], m=2)
ref_gen2, ref_eval2 = _REF.gen, _REF.eval


def test_tweaks_are_derived_from_their_names():
    as_int = [int.from_bytes(dcf.TWEAKS2[j].tobytes(), "little") for j in range(4)]
    assert as_int == [T_L, T_R, T_VL, T_VR]
    assert len({T_L, T_R, T_VL, T_VR, _name_tweak(b"V")}) == 5


@pytest.mark.parametrize("L,n,chunk", [(5, 11, 8), (20, 9, 8), (64, 3, 8)])
def test_keys_and_shares_match_reference_byte_exact(L, n, chunk):
    rng = np.random.default_rng(100 + L)
    alpha = _rand(rng, L, n)
    alpha[0] = 0
    beta = _rand(rng, 64, (n, 2))
    beta[-1] = [M64, 2**63]
    gamma = _rand(rng, 64, (n, 2))
    seeds = _rand(rng, 64, (n, 4))
    k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, chunk=chunk)
    sec = [dcf.key_sections(k, n, L, 2) for k in (k0, k1)]
    assert sec[0][2].shape == (L, n, 2) and sec[0][3].shape == (n, 2)
    x = _rand(rng, L, n)
    x[1] = alpha[1]
    y = [dcf.dcf_eval(b, k, x, L, chunk=chunk, m=2) for b, k in ((0, k0), (1, k1))]
    for j in range(n):
        s0 = int(seeds[j, 0]) | int(seeds[j, 1]) << 64
        s1 = int(seeds[j, 2]) | int(seeds[j, 3]) << 64
        roots, cws, last = ref_gen2(int(alpha[j]), [int(v) for v in beta[j]], L, s0, s1,
                                    [int(v) for v in gamma[j]])
        for b in (0, 1):
            seed, scw, vcw, cwl, tcw = sec[b]
            assert int(seed[j, 0]) | int(seed[j, 1]) << 64 == roots[b]
            for i in range(L):
                assert int(scw[i, j, 0]) | int(scw[i, j, 1]) << 64 == cws[i][0]
                assert [int(v) for v in vcw[i, j]] == cws[i][1]
                assert (int(tcw[i, 0, j >> 3]) >> (j & 7)) & 1 == cws[i][2]
                assert (int(tcw[i, 1, j >> 3]) >> (j & 7)) & 1 == cws[i][3]
            assert [int(v) for v in cwl[j]] == last
            assert [int(v) for v in y[b][j]] == ref_eval2(b, roots[b], cws, last, int(x[j]), L)
    # the two keys differ only in the root seeds
    assert np.array_equal(k0[16 * n:], k1[16 * n:]) and not np.array_equal(k0[: 16 * n], k1[: 16 * n])


# ------------------------------------------------------------------------------------------
# against plaintext
# ------------------------------------------------------------------------------------------
def _edge_inputs(rng, L, n):
    """alpha (a quarter 0, a few at the top of the domain) and x cycling through alpha - 1,
    alpha, alpha + 1 (mod 2**L), 0, 2**L - 1 and uniform values."""
    top = np.uint64(M64 if L == 64 else 2**L - 1)
    alpha = _rand(rng, L, n)
    alpha[: n // 4] = 0
    alpha[n // 4: n // 4 + n // 16] = top
    x = _rand(rng, L, n)
    kind = np.arange(n) % 6
    with np.errstate(over="ignore"):
        x = np.where(kind == 0, alpha - np.uint64(1), x)
        x = np.where(kind == 1, alpha, x)
        x = np.where(kind == 2, alpha + np.uint64(1), x)
    x = np.where(kind == 3, np.uint64(0), x)
    x = np.where(kind == 4, top, x)
    x &= top  # alpha - 1 and alpha + 1 wrap inside the domain
    return alpha, x


@pytest.mark.parametrize("L", [1, 2, 5, 31, 63, 64])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1000])
def test_two_words_vs_plaintext_at_edges(L, n):
    rng = np.random.default_rng(L * 10000 + n)
    alpha, x = _edge_inputs(rng, L, n)
    beta = _rand(rng, 64, (n, 2))
    wrap = np.array([[M64, 2**63], [2**63, M64], [M64, M64]], dtype=np.uint64)
    beta[: min(n, 3)] = wrap[: min(n, 3)]
    _check(alpha, beta, None, x, L, chunk_gen=8, chunk_eval=16)
    gamma = _rand(rng, 64, (n, 2))
    gamma[: min(n, 3)] = wrap[::-1][: min(n, 3)]
    _check(alpha, beta, gamma, x, L, chunk_gen=16, chunk_eval=8)


@pytest.mark.parametrize("L", [1, 2, 3])
def test_two_words_exhaustive_small_domains(L):
    N = 1 << L
    alpha = np.repeat(np.arange(N, dtype=np.uint64), N)
    x = np.tile(np.arange(N, dtype=np.uint64), N)
    rng = np.random.default_rng(L)
    _check(alpha, _rand(rng, 64, (N * N, 2)), _rand(rng, 64, (N * N, 2)), x, L, chunk_gen=8, chunk_eval=8)


def test_keys_chunk_independent_and_words_independent():
    rng = np.random.default_rng(3)
    L, n = 20, 1001
    alpha, x = _rand(rng, L, n), _rand(rng, L, n)
    beta = _rand(rng, 64, (n, 2))
    seeds = _rand(rng, 64, (n, 4))
    keys = [dcf.dcf_gen(alpha, beta, L, seeds=seeds, chunk=c) for c in (8, 24, 4096)]
    assert all(np.array_equal(k[b], keys[0][b]) for k in keys for b in (0, 1))
    for c in (8, 256, 4096):
        y = dcf.dcf_eval(0, keys[0][0], x, L, chunk=c, m=2) + dcf.dcf_eval(1, keys[0][1], x, L, chunk=c, m=2)
        assert np.array_equal(y, _plain(alpha, beta, None, x))
    # same seeds: the tree (seeds, seed and control-bit corrections) does not depend on beta
    other = dcf.dcf_gen(alpha, beta[:, ::-1].copy(), L, seeds=seeds)
    s_a, s_b = dcf.key_sections(keys[0][0], n, L, 2), dcf.key_sections(other[0], n, L, 2)
    for q in (0, 1, 4):
        assert np.array_equal(s_a[q], s_b[q])


def test_shapes_and_m1_unaffected():
    rng = np.random.default_rng(4)
    L = 12
    alpha = _rand(rng, L, 12)
    x = _rand(rng, L, 12).reshape(3, 4)
    beta2 = _rand(rng, 64, (12, 2))
    k0, k1 = dcf.dcf_gen(alpha, beta2, L)
    y = dcf.dcf_eval(0, bytes(k0), x, L, m=2) + dcf.dcf_eval(1, k1, x, L, m=2)
    assert y.shape == (3, 4, 2)
    assert np.array_equal(y.reshape(12, 2), _plain(alpha, beta2, None, x.reshape(-1)))
    # m = 1: scalar or 1-D beta, 1-D output, key size and sections as before
    for beta in (np.uint64(7), np.full(12, 7, dtype=np.uint64)):
        j0, j1 = dcf.dcf_gen(alpha, beta, L)
        assert j0.size == dcf.key_nbytes(12, L) == dcf.key_nbytes(12, L, 1) == 24 * 12 * (L + 1) + 2 * L * 2
        z = dcf.dcf_eval(0, j0, x, L) + dcf.dcf_eval(1, j1, x, L, m=1)
        assert z.shape == (3, 4) and np.array_equal(z.reshape(-1), np.where(x.reshape(-1) < alpha, 7, 0).astype(np.uint64))
        _, _, vcw, cwl, _ = dcf.key_sections(j0, 12, L)
        assert vcw.shape == (L, 12) and cwl.shape == (12,)


# the SHA-256 of (key0 || key1) of fixed-seed m = 1 key pairs, computed with kernels/dcf.py as
# it was before the two-word payload was added (commit 3d8a289~1)
M1_DIGESTS = {
    "small": "a9048c61e5c1e401e10e449e15f5ee571a73c89a9cbb21d7c93d29a2df73a977",
    "l31_gamma": "c2c81b8d753b5572a20c1c0fb1fd0ca70edfdf4d662e3ab9a9419878bc17e8fe",
    "l64_scalar": "2152a48eefe03c851c721a30441b5feee96aec4acd2dd91aed3388672dd7fe7b",
}


def test_m1_keys_unchanged():
    def digest(k):
        return hashlib.sha256(k[0].tobytes() + k[1].tobytes()).hexdigest()

    alpha = np.array([5, 9, 0, 100], dtype=np.uint64)
    beta = np.array([1, 2, 3, M64], dtype=np.uint64)
    seeds = np.arange(16, dtype=np.uint64).reshape(4, 4) * np.uint64(0x9E3779B97F4A7C15)
    assert digest(dcf.dcf_gen(alpha, beta, 8, seeds=seeds, gamma=np.uint64(7))) == M1_DIGESTS["small"]
    rng = np.random.default_rng(123)
    n, L = 37, 31
    a = rng.integers(0, 2**L, n, dtype=np.uint64)
    b = rng.integers(0, M64, n, dtype=np.uint64, endpoint=True)
    g = rng.integers(0, M64, n, dtype=np.uint64, endpoint=True)
    s = rng.integers(0, M64, (n, 4), dtype=np.uint64, endpoint=True)
    assert digest(dcf.dcf_gen(a, b, L, seeds=s, gamma=g, chunk=16)) == M1_DIGESTS["l31_gamma"]
    assert digest(dcf.dcf_gen(a, np.uint64(3), 64, seeds=s, chunk=8)) == M1_DIGESTS["l64_scalar"]


def test_key_size_and_aes_blocks():
    for n in (0, 1, 7, 8, 9, 1000):
        for L in (1, 31, 63, 64):
            nb = (n + 7) // 8
            assert dcf.key_nbytes(n, L, 2) == 8 * n * (2 + 2 * L + 2 * L + 2) + 2 * L * nb
            assert dcf.key_nbytes(n, L, 1) == 8 * n * (2 + 2 * L + L + 1) + 2 * L * nb
            assert dcf.key_nbytes(n, L, 2) == 32 * n * (L + 1) + 2 * L * nb
    assert dcf.key_nbytes(8000, 31, 2) / 8000 == 1031.75
    assert dcf.key_nbytes(8000, 63, 2) / 8000 == 2063.75
    rng = np.random.default_rng(1)
    n, L = 100, 20
    prof_g, prof_e = {}, {}
    k0, _ = dcf.dcf_gen(_rand(rng, L, n), _rand(rng, 64, (n, 2)), L, chunk=16, profile=prof_g)
    dcf.dcf_eval(0, k0, _rand(rng, L, n), L, m=2, chunk=16, profile=prof_e)
    assert prof_g["aes_blocks"] == 8 * L * n and prof_e["aes_blocks"] == 2 * L * n
    for p in (prof_g, prof_e):
        if aes.available():  # the vector path: AES runs inside the loop, not timed apart
            assert "aes_s" not in p and p["total_s"] > 0
        else:
            assert 0 < p["aes_s"] <= p["total_s"]


# ------------------------------------------------------------------------------------------
# a single key reveals nothing (loose statistical checks on fixed seeds)
# ------------------------------------------------------------------------------------------
def _top_byte(v):
    return (np.asarray(v, dtype=np.uint64).reshape(-1) >> np.uint64(56)).astype(np.uint8)


def _bit_bias(v):
    bits = np.unpackbits(np.ascontiguousarray(v).view(np.uint8))
    return abs(bits.mean() - 0.5) * 2 * np.sqrt(bits.size)  # in standard deviations


@pytest.mark.parametrize("which", ["random", "alpha0", "alpha_top"])
def test_single_key_output_shares_look_uniform(which):
    rng = np.random.default_rng({"random": 21, "alpha0": 22, "alpha_top": 23}[which])
    n, L = 10000, 16  # 20000 output words per party
    alpha = {"random": _rand(rng, L, n), "alpha0": np.zeros(n, dtype=np.uint64),
             "alpha_top": np.full(n, 2**L - 1, dtype=np.uint64)}[which]
    beta = np.tile(np.array([1, 0], dtype=np.uint64), (n, 1))  # a small value and a constant 0
    x = np.full(n, 12345, dtype=np.uint64)  # the same public input everywhere
    k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=_rand(rng, 64, (n, 4)), chunk=1024)
    y = [dcf.dcf_eval(b, k, x, L, m=2) for b, k in ((0, k0), (1, k1))]
    for share in y:
        for w in (0, 1):
            assert bytes_look_uniform(_top_byte(share[:, w]))
            assert _bit_bias(share[:, w]) < 5
        secs = [dcf.key_sections(k0[lo:hi], k, L, 2) for _, k, lo, hi in dcf.key_slabs(n, L, 2)]
        assert len(secs) > 1  # n spans several slabs
        for q in (2, 3):  # value correction words and the last one
            assert _bit_bias(np.concatenate([sec[q].reshape(-1) for sec in secs])) < 5
    # the checks can fail: the reconstructed output (0 or 1, and 0) is far from uniform
    total = y[0] + y[1]
    assert not bytes_look_uniform(_top_byte(total[:, 0])) and _bit_bias(total[:, 1]) > 5


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------
def test_validation():
    a = np.zeros(3, dtype=np.uint64)
    pairs = np.zeros((3, 2), dtype=np.uint64)
    for bad in (np.zeros((3, 3), dtype=np.uint64), np.zeros((3, 1), dtype=np.uint64),
                np.zeros((2, 2), dtype=np.uint64), np.zeros((3, 2), dtype=np.int64)):
        with pytest.raises(ValueError, match="beta"):
            dcf.dcf_gen(a, bad, 8)
    for bad in (np.zeros(3, dtype=np.uint64), np.uint64(1), np.zeros((3, 3), dtype=np.uint64),
                np.zeros((3, 2), dtype=np.int64)):
        with pytest.raises(ValueError, match="gamma"):
            dcf.dcf_gen(a, pairs, 8, gamma=bad)
    with pytest.raises(ValueError, match="gamma"):
        dcf.dcf_gen(a, np.uint64(1), 8, gamma=pairs)  # m = 1 with a two-word gamma
    k0, _ = dcf.dcf_gen(a, pairs, 8)
    j0, _ = dcf.dcf_gen(a, np.uint64(1), 8)
    for bad_m in (0, 3, True, 2.0, "2", None):
        with pytest.raises(ValueError, match=r"m \(payload words\)"):
            dcf.dcf_eval(0, k0, a, 8, m=bad_m)
    with pytest.raises(ValueError, match="key must be"):
        dcf.dcf_eval(0, k0, a, 8, m=1)  # an m = 2 key read as m = 1
    with pytest.raises(ValueError, match="key must be"):
        dcf.dcf_eval(0, j0, a, 8, m=2)  # and the other way round
    with pytest.raises(ValueError, match="key must be"):
        dcf.dcf_eval(0, k0[:-1], a, 8, m=2)
    with pytest.raises(ValueError, match="x must lie"):
        dcf.dcf_eval(0, k0, np.array([0, 0, 256], dtype=np.uint64), 8, m=2)
    assert dcf.dcf_eval(0, k0, a, 8, m=np.int64(2)).shape == (3, 2)


# ------------------------------------------------------------------------------------------
# property
# ------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 16), st.booleans(),
       st.lists(st.tuples(st.integers(0, 2**16 - 1), st.integers(0, 2**16 - 1), st.integers(0, M64),
                          st.integers(0, M64), st.integers(0, M64), st.integers(0, M64)), min_size=1, max_size=20))
def test_two_words_property(L, with_gamma, rows):
    mask = 2**L - 1
    alpha = np.array([r[0] & mask for r in rows], dtype=np.uint64)
    x = np.array([r[1] & mask for r in rows], dtype=np.uint64)
    beta = np.array([[r[2], r[3]] for r in rows], dtype=np.uint64)
    gamma = np.array([[r[4], r[5]] for r in rows], dtype=np.uint64) if with_gamma else None
    _check(alpha, beta, gamma, x, L, chunk_gen=8, chunk_eval=16)
