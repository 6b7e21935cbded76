"""Fixed-key AES-128 inside numba (``fibench.kernels.aes``) against OpenSSL byte for byte, the
key schedule against FIPS-197's known answer, and the FSS keys of both AES paths (numba and
OpenSSL) against each other byte for byte."""
import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from fibench.kernels import aes, dcf, dpf, fss_tree

needs_aesni = pytest.mark.skipif(not aes.available(), reason="no AES-NI for numba on this CPU")


def openssl_ecb(key: bytes, data: np.ndarray) -> np.ndarray:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return np.frombuffer(enc.update(data.tobytes()) + enc.finalize(), dtype=np.uint64)


def test_expand_key_fips197_appendix_a1():
    rk = aes.expand_key(bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"))
    assert rk.shape == (11, 2) and rk.dtype == np.uint64
    assert rk[10].tobytes().hex() == "d014f9a8c9ee2589e13f0cc8b6630ca6"
    assert rk[1].tobytes().hex() == "a0fafe1788542cb123a339392a6c7605"
    with pytest.raises(ValueError, match="16 bytes"):
        aes.expand_key(b"short")


def test_path_is_one_of_the_documented():
    assert aes.path() in ("vaes", "aesni", "openssl")
    assert aes.available() == (aes.path() != "openssl")


@needs_aesni
@pytest.mark.parametrize("nwords", [0, 2, 4, 6, 8, 10, 14, 16, 18, 131078])
def test_ecb_equals_openssl(nwords):
    rng = np.random.default_rng(nwords)
    src = rng.integers(0, 2**64 - 1, nwords + 4, dtype=np.uint64, endpoint=True)
    dst = np.full(nwords + 4, 7, dtype=np.uint64)
    aes.ecb_into(fss_tree.ROUND_KEYS, src, dst, nwords)
    assert np.array_equal(dst[:nwords], openssl_ecb(fss_tree.MMO_KEY, src[:nwords]))
    assert np.all(dst[nwords:] == 7)  # nothing written past nwords


@needs_aesni
@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 40))
def test_ecb_any_key_any_length(key, nblocks):
    src = np.frombuffer(np.random.default_rng(nblocks).bytes(16 * nblocks), dtype=np.uint64).copy()
    dst = np.empty_like(src)
    aes.ecb_into(aes.expand_key(key), src, dst, 2 * nblocks)
    assert np.array_equal(dst, openssl_ecb(key, src))


@needs_aesni
def test_ecb_bad_arguments():
    a = np.zeros(8, np.uint64)
    with pytest.raises(ValueError, match="nwords"):
        aes.ecb_into(fss_tree.ROUND_KEYS, a, a.copy(), 3)
    with pytest.raises(ValueError, match="nwords"):
        aes.ecb_into(fss_tree.ROUND_KEYS, a, a.copy(), 10)
    with pytest.raises(ValueError, match="src"):
        aes.ecb_into(fss_tree.ROUND_KEYS, a.astype(np.int64), a.copy(), 2)


def _both_paths(fn):
    """fn() on the numba AES (vector) path and on the OpenSSL (scalar) path. Swaps
    ``aes.available`` by hand: hypothesis tests cannot take the function-scoped monkeypatch."""
    fast = fn()
    real = aes.available
    try:
        aes.available = lambda: False
        slow = fn()
    finally:
        aes.available = real
    return fast, slow


def _edge_inputs(rng, alpha, L):
    """Inputs x: random, or alpha, alpha - 1, alpha + 1 (mod 2**L), 0 or 2**L - 1."""
    top = np.uint64(2**L - 1)
    x = rng.integers(0, 2**L - 1, alpha.size, dtype=np.uint64, endpoint=True)
    pick = rng.integers(0, 6, alpha.size)
    return np.select([pick == 0, pick == 1, pick == 2, pick == 3, pick == 4],
                     [alpha, (alpha - np.uint64(1)) & top, (alpha + np.uint64(1)) & top, np.uint64(0), top], x)


@needs_aesni
@pytest.mark.parametrize("L", [1, 7, 8, 31, 63, 64])
@pytest.mark.parametrize("n", [1, 9, 1030])
def test_dpf_keys_and_outputs_same_on_both_paths(L, n):
    rng = np.random.default_rng(L * 1000 + n)
    alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    x = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    x[: n // 2] = alpha[: n // 2]
    seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
    flip = rng.integers(0, 2, n, dtype=np.uint8)

    def run():
        k0, k1 = dpf.dpf_cmp_gen(alpha, L, seeds, flip=flip, chunk=16)
        return k0, k1, dpf.dpf_cmp_eval(0, k0, x, L, chunk=8), dpf.dpf_cmp_eval(1, k1, x, L)

    (a0, a1, e0, e1), (b0, b1, f0, f1) = _both_paths(run)
    assert np.array_equal(a0, b0) and np.array_equal(a1, b1)
    assert np.array_equal(e0, f0) and np.array_equal(e1, f1)
    assert np.array_equal(e0 ^ e1, (x < alpha).astype(np.uint8) ^ flip)


@needs_aesni
@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), L=st.integers(1, 64), groups=st.integers(1, 20), data=st.data())
def test_dpf_vector_keygen_equals_scalar_any_size(n, L, groups, data):
    """The vector key generation (runs of ``groups`` groups of 8, a padded last group) writes
    the scalar kernels' keys byte for byte, for any n, nbits and run length."""
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
    flip = rng.integers(0, 2, n, dtype=np.uint8)
    fast, slow = _both_paths(lambda: dpf.dpf_cmp_gen(alpha, L, seeds, flip=flip, chunk=8 * groups))
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])


@needs_aesni
@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), L=st.integers(1, 64), groups=st.integers(1, 20), data=st.data())
def test_dpf_vector_eval_equals_scalar_any_size(n, L, groups, data):
    """The vector evaluation gives the scalar kernels' output bits, and the two parties' bits
    XOR to [x < alpha] ^ flip, with x at alpha, alpha - 1, alpha + 1 and the range ends."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    x = _edge_inputs(rng, alpha, L)
    flip = rng.integers(0, 2, n, dtype=np.uint8)
    k0, k1 = dpf.dpf_cmp_gen(alpha, L, flip=flip)
    fast, slow = _both_paths(lambda: [dpf.dpf_cmp_eval(p, k, x, L, chunk=8 * groups) for p, k in ((0, k0), (1, k1))])
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    assert np.array_equal(fast[0] ^ fast[1], (x < alpha).astype(np.uint8) ^ flip)


@needs_aesni
@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 200), L=st.integers(1, 64), groups=st.integers(1, 20), with_gamma=st.booleans(),
       m=st.sampled_from([1, 2]), data=st.data())
def test_dcf_vector_equals_scalar_any_size(n, L, groups, with_gamma, m, data):
    """The vector DCF (one or two payload words) writes the scalar kernels' keys and outputs
    byte for byte, and the outputs sum to beta [x < alpha] + gamma, x at alpha, alpha +- 1, 0
    and the top of the range."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    shape = (n,) if m == 1 else (n, 2)
    beta = rng.integers(0, 2**64 - 1, shape, dtype=np.uint64, endpoint=True)
    gamma = rng.integers(0, 2**64 - 1, shape, dtype=np.uint64, endpoint=True) if with_gamma else None
    seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
    x = _edge_inputs(rng, alpha, L)

    def run():
        k = dcf.dcf_gen(alpha, beta, L, seeds, gamma=gamma, chunk=8 * groups)
        return k + tuple(dcf.dcf_eval(p, k[p], x, L, chunk=8 * groups, m=m) for p in (0, 1))

    fast, slow = _both_paths(run)
    assert all(np.array_equal(a, b) for a, b in zip(fast, slow))
    lt = (x < alpha).astype(np.uint64)
    want = beta * (lt if m == 1 else lt[:, None]) + (np.uint64(0) if gamma is None else gamma)
    assert np.array_equal(fast[2] + fast[3], want)


@needs_aesni
@pytest.mark.parametrize("kind", ["dpf", "dcf1", "dcf2"])
def test_vector_kernels_over_threads_equal_scalar(kind):
    """Above ``threads.PARALLEL_MIN`` comparisons the vector kernels split their runs over
    numba's threads (two here when the machine has them): the same keys and outputs as the
    scalar path, n not a multiple of 8."""
    from fibench.kernels import threads
    n, L = threads.PARALLEL_MIN + 13, 64
    rng = np.random.default_rng(11)
    alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    x = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
    beta = rng.integers(0, 2**64 - 1, (n, 2) if kind == "dcf2" else n, dtype=np.uint64, endpoint=True)

    def run():
        if kind == "dpf":
            k = dpf.dpf_cmp_gen(alpha, L, seeds)
            return k + tuple(dpf.dpf_cmp_eval(p, k[p], x, L) for p in (0, 1))
        k = dcf.dcf_gen(alpha, beta, L, seeds)
        return k + tuple(dcf.dcf_eval(p, k[p], x, L, m=beta.ndim) for p in (0, 1))

    def on_two_threads():
        with threads.num_threads(2):
            return run()

    fast, slow = _both_paths(on_two_threads)
    assert all(np.array_equal(a, b) for a, b in zip(fast, slow))


_DPF_BOTH_PATHS = """
import numpy as np
from fibench.kernels import aes, dcf, dpf
rng = np.random.default_rng(7)
real = aes.available
for L in (1, 8, 31, 64):
    for n in (1, 9, 100):
        alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
        seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
        x = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
        fast = dpf.dpf_cmp_gen(alpha, L, seeds, chunk=16)
        fast += tuple(dpf.dpf_cmp_eval(p, fast[p], x, L, chunk=16) for p in (0, 1))
        aes.available = lambda: False
        slow = dpf.dpf_cmp_gen(alpha, L, seeds, chunk=16)
        slow += tuple(dpf.dpf_cmp_eval(p, slow[p], x, L, chunk=16) for p in (0, 1))
        aes.available = real
        assert all(np.array_equal(a, b) for a, b in zip(fast, slow)), (L, n)
        for m in (1, 2):
            beta = rng.integers(0, 2**64 - 1, (n,) if m == 1 else (n, 2), dtype=np.uint64, endpoint=True)
            fast = dcf.dcf_gen(alpha, beta, L, seeds, chunk=16)
            fast += tuple(dcf.dcf_eval(p, fast[p], x, L, chunk=16, m=m) for p in (0, 1))
            aes.available = lambda: False
            slow = dcf.dcf_gen(alpha, beta, L, seeds, chunk=16)
            slow += tuple(dcf.dcf_eval(p, slow[p], x, L, chunk=16, m=m) for p in (0, 1))
            aes.available = real
            assert all(np.array_equal(a, b) for a, b in zip(fast, slow)), ("dcf", m, L, n)
print(aes.path())
"""


@needs_aesni
@pytest.mark.parametrize("features", ["-vaes", "-avx512f,-vaes"])
def test_fss_vector_kernels_without_vaes_or_avx512(features, tmp_path):
    """The vector kernels compiled for a CPU without VAES (four AES-NI blocks per vector) and
    without AVX-512 (LLVM splits the vectors) give the same keys and outputs (a fresh process and numba
    cache, so that the kernels are compiled for those features)."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_CPU_FEATURES=features, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _DPF_BOTH_PATHS], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["aesni"]


@needs_aesni
@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("L", [1, 31, 64])
def test_dcf_keys_and_outputs_same_on_both_paths(m, L):
    n = 37
    rng = np.random.default_rng(L + 100 * m)
    alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    x = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
    beta = rng.integers(0, 2**64 - 1, (n, m) if m == 2 else n, dtype=np.uint64, endpoint=True)
    seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)

    def run():
        k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds, chunk=8)
        return k0, k1, dcf.dcf_eval(0, k0, x, L, m=m), dcf.dcf_eval(1, k1, x, L, m=m)

    (a0, a1, e0, e1), (b0, b1, f0, f1) = _both_paths(run)
    assert np.array_equal(a0, b0) and np.array_equal(a1, b1)
    assert np.array_equal(e0, f0) and np.array_equal(e1, f1)
    lt = (x < alpha).astype(np.uint64)
    want = beta * (lt if m == 1 else lt[:, None])
    assert np.array_equal(e0 + e1, want)


@pytest.mark.parametrize("var", ["FIBENCH_AES=openssl", "NUMBA_DISABLE_JIT=1"])
def test_openssl_path_when_forced_or_without_jit(var):
    import os
    import subprocess
    import sys
    name, value = var.split("=")
    env = dict(os.environ, **{name: value})
    code = "from fibench.kernels import aes; print(aes.path(), aes.available())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["openssl", "False"]
