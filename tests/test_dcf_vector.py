"""DCF with a two-word payload (m = 2) against plaintext; m = 1 keys unchanged byte for byte."""
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibench.kernels import dcf

M64 = 2**64 - 1


def _rand(rng, L, size):
    return rng.integers(0, 2**L, size=size, dtype=np.uint64) if L < 64 else rng.integers(0, M64, size=size,
                                                                                           dtype=np.uint64)


def _check(alpha, beta, gamma, x, L, chunk=dcf.CHUNK):
    k0, k1 = dcf.dcf_gen(alpha, beta, L, gamma=gamma, chunk=chunk)
    assert k0.size == k1.size == dcf.key_nbytes(alpha.size, L, 2)
    y = dcf.dcf_eval(0, k0, x, L, m=2, chunk=chunk) + dcf.dcf_eval(1, k1, x, L, m=2)
    want = beta * (x < alpha).astype(np.uint64)[:, None] + (0 if gamma is None else gamma)
    assert y.shape == (x.size, 2) and np.array_equal(y, want)


@pytest.mark.parametrize("L", [1, 2, 5, 31, 63, 64])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 200])
def test_two_words_vs_plaintext_at_edges(L, n):
    rng = np.random.default_rng(L * 1000 + n)
    alpha = _rand(rng, L, n)
    alpha[: n // 4] = 0
    x = _rand(rng, L, n)
    third = n // 3
    x[third: 2 * third] = alpha[third: 2 * third]  # x == alpha: not below
    x[2 * third:] = alpha[2 * third:] - np.uint64(1) if L == 64 else (alpha[2 * third:] - np.uint64(1)) % np.uint64(2**L)
    if n:
        x[0] = 0
        x[-1] = M64 if L == 64 else 2**L - 1
    beta = _rand(rng, 64, (n, 2))
    if n:
        beta[0] = [M64, 2**63]
    _check(alpha, beta, None, x, L, chunk=8)
    _check(alpha, beta, _rand(rng, 64, (n, 2)), x, L, chunk=16)


def test_m1_keys_unchanged():
    alpha = np.array([5, 9, 0, 100], dtype=np.uint64)
    beta = np.array([1, 2, 3, M64], dtype=np.uint64)
    seeds = np.arange(16, dtype=np.uint64).reshape(4, 4) * np.uint64(0x9E3779B97F4A7C15)
    k0, k1 = dcf.dcf_gen(alpha, beta, 8, seeds=seeds, gamma=np.uint64(7))
    digest = hashlib.sha256(k0.tobytes() + k1.tobytes()).hexdigest()
    assert digest == "a9048c61e5c1e401e10e449e15f5ee571a73c89a9cbb21d7c93d29a2df73a977"


def test_key_size_and_aes_blocks():
    assert dcf.key_nbytes(8000, 31, 2) / 8000 == 32 * 32 + 31 / 4
    assert dcf.key_nbytes(8000, 63, 2) / 8000 == 32 * 64 + 63 / 4
    rng = np.random.default_rng(1)
    n, L = 64, 20
    prof_g, prof_e = {}, {}
    k0, _ = dcf.dcf_gen(_rand(rng, L, n), _rand(rng, 64, (n, 2)), L, profile=prof_g)
    dcf.dcf_eval(0, k0, _rand(rng, L, n), L, m=2, profile=prof_e)
    assert prof_g["aes_blocks"] == 8 * L * n and prof_e["aes_blocks"] == 2 * L * n


def test_single_key_output_looks_uniform():
    rng = np.random.default_rng(2)
    n, L = 4096, 16
    alpha = _rand(rng, L, n)
    k0, k1 = dcf.dcf_gen(alpha, np.ones((n, 2), dtype=np.uint64), L)
    x = _rand(rng, L, n)
    for p, k in ((0, k0), (1, k1)):
        y = dcf.dcf_eval(p, k, x, L, m=2)
        bits = np.unpackbits(np.ascontiguousarray(y).view(np.uint8))
        assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)


def test_validation():
    a = np.zeros(3, dtype=np.uint64)
    with pytest.raises(ValueError, match="beta"):
        dcf.dcf_gen(a, np.zeros((3, 3), dtype=np.uint64), 8)
    with pytest.raises(ValueError, match="gamma"):
        dcf.dcf_gen(a, np.zeros((3, 2), dtype=np.uint64), 8, gamma=np.zeros(3, dtype=np.uint64))
    k0, _ = dcf.dcf_gen(a, np.zeros((3, 2), dtype=np.uint64), 8)
    with pytest.raises(ValueError, match="m \\(payload words\\)"):
        dcf.dcf_eval(0, k0, a, 8, m=3)
    with pytest.raises(ValueError, match="key must be"):
        dcf.dcf_eval(0, k0, a, 8, m=1)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 16), st.lists(st.tuples(st.integers(0, 2**16 - 1), st.integers(0, 2**16 - 1),
                                               st.integers(0, M64), st.integers(0, M64)), min_size=1, max_size=12))
def test_two_words_property(L, rows):
    mask = 2**L - 1
    alpha = np.array([r[0] & mask for r in rows], dtype=np.uint64)
    x = np.array([r[1] & mask for r in rows], dtype=np.uint64)
    beta = np.array([[r[2], r[3]] for r in rows], dtype=np.uint64)
    _check(alpha, beta, beta[:, ::-1].copy(), x, L, chunk=8)
