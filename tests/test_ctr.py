"""AES-128-CTR key streams (``fibench.kernels.ctr``, the PRG's numba path) against OpenSSL's
AES-128-CTR, byte for byte, on every mode and on edge lengths and counters."""
import os
import subprocess
import sys

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from fibench.kernels import aes, ctr
from fibench.mpc import prg

needs_aesni = pytest.mark.skipif(not ctr.available(), reason="numba has no AES-NI here")
OPS = {"set": lambda src, ks: ks, "xor": np.bitwise_xor, "sub": np.subtract, "add": np.add}
T = ctr.TASK_WORDS
EDGE_N = [0, 1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, T - 1, T, T + 1, 2 * T - 8, 2 * T + 7, 5 * T + 33]
EDGE_STREAMS = [0, 1, 2**32, 2**63, 2**64 - 1]


def openssl_ctr(key: bytes, stream: int, n: int) -> np.ndarray:
    enc = Cipher(algorithms.AES(key), modes.CTR(stream.to_bytes(8, "big") + bytes(8))).encryptor()
    return np.frombuffer(enc.update(bytes(8 * n)), dtype=np.uint64)


def _check(key, stream, n, mode, seed=0):
    src = np.random.default_rng(seed).integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    want = OPS[mode](src, openssl_ctr(key, stream, n))
    out = np.full(n, 0xAB, dtype=np.uint64)
    ctr.ctr_into(key, stream, out, None if mode == "set" else src, mode)
    assert np.array_equal(out, want), (n, stream, mode)
    if mode != "set":  # src may be dst itself
        ctr.ctr_into(key, stream, src, src, mode)
        assert np.array_equal(src, want)


@needs_aesni
@pytest.mark.parametrize("mode", list(ctr.MODES))
@pytest.mark.parametrize("n", EDGE_N)
def test_ctr_equals_openssl_edge_lengths(n, mode):
    for stream in EDGE_STREAMS:
        _check(bytes(range(16)) if stream else bytes(16), stream, n, mode, seed=n)


@needs_aesni
@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), stream=st.integers(0, 2**64 - 1),
       n=st.integers(0, 3 * T + 100), mode=st.sampled_from(list(ctr.MODES)))
def test_ctr_equals_openssl_any(key, stream, n, mode):
    _check(key, stream, n, mode)


@needs_aesni
def test_ctr_of_a_2d_array_is_its_flat_stream():
    key = bytes(range(16, 32))
    out = np.empty((3, 41), dtype=np.uint64)
    ctr.ctr_into(key, 9, out)
    assert np.array_equal(out.reshape(-1), openssl_ctr(key, 9, out.size))


@needs_aesni
def test_ctr_bad_arguments():
    out = np.empty(8, dtype=np.uint64)
    with pytest.raises(ValueError, match="mode"):
        ctr.ctr_into(bytes(16), 0, out, out, "mul")
    with pytest.raises(ValueError, match="key"):
        ctr.ctr_into(bytes(15), 0, out)
    with pytest.raises(ValueError, match="stream"):
        ctr.ctr_into(bytes(16), 2**64, out)
    with pytest.raises(ValueError, match="needs src"):
        ctr.ctr_into(bytes(16), 0, out, None, "sub")
    with pytest.raises(ValueError, match="src"):
        ctr.ctr_into(bytes(16), 0, out, np.empty(7, dtype=np.uint64), "xor")
    with pytest.raises(ValueError, match="dst"):
        ctr.ctr_into(bytes(16), 0, np.empty(8, dtype=np.int64))


@pytest.mark.parametrize("mode", ["sub", "xor", "add"])
def test_prg_expand_combine_on_both_paths(mode, monkeypatch):
    seed = prg.new_seed()
    src = np.random.default_rng(3).integers(0, 2**64 - 1, 1001, dtype=np.uint64, endpoint=True)
    want = OPS[mode](src, openssl_ctr(seed, 77, src.size))
    got = [prg.expand_combine(seed, 77, np.empty_like(src), src, mode)]
    monkeypatch.setattr(ctr, "available", lambda: False)
    got.append(prg.expand_combine(seed, 77, np.empty_like(src), src, mode))
    got.append(prg.expand_into(seed, 77, np.empty_like(src)))
    assert np.array_equal(got[0], want) and np.array_equal(got[1], want)
    assert np.array_equal(got[2], openssl_ctr(seed, 77, src.size))
    with pytest.raises(ValueError, match="mode"):
        prg.expand_combine(seed, 0, src, src, "and")
    with pytest.raises(ValueError, match="src has"):
        prg.expand_combine(seed, 0, src, src[:5].copy(), "xor")


def test_prg_stream_looks_uniform():
    """Each of the 64 bit positions of a 2^16-word expansion is 1 about half the time (a
    stuck lane, a repeated block or a counter that does not move would fail this)."""
    words = prg.expand(prg.new_seed(), 5, 1 << 16)
    bits = (words[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    freq = bits.mean(axis=0)
    assert np.all(np.abs(freq - 0.5) < 0.01), freq
    assert np.unique(words).size == words.size


_BOTH = """
import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fibench.kernels import aes, ctr
for n in (1, 9, 33, 1000, 3 * ctr.TASK_WORDS + 5):
    key = bytes(range(n % 7, n % 7 + 16))
    want = np.frombuffer(Cipher(algorithms.AES(key), modes.CTR((n).to_bytes(8, "big") + bytes(8))).encryptor()
                         .update(bytes(8 * n)), dtype=np.uint64)
    out = np.empty(n, dtype=np.uint64)
    assert np.array_equal(ctr.ctr_into(key, n, out), want), n
    assert np.array_equal(ctr.ctr_into(key, n, out, out, "xor"), np.zeros(n, dtype=np.uint64)), n
print(aes.path())
"""


@needs_aesni
@pytest.mark.parametrize("features", ["-vaes", "-avx512f,-vaes"])
def test_ctr_without_vaes_or_avx512(features, tmp_path):
    """Compiled for a CPU without VAES (four AES-NI blocks per vector) and without AVX-512 (a
    fresh process and numba cache, so that the kernel is compiled for those features)."""
    env = dict(os.environ, NUMBA_CPU_FEATURES=features, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _BOTH], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["aesni"]


def test_key_schedule_in_kernel_matches_fips197():
    """The in-kernel AESKEYGENASSIST schedule (seen through the stream of FIPS-197's key)
    equals OpenSSL's; and the Python schedule of ``aes.expand_key`` is the same key."""
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    if ctr.available():
        assert np.array_equal(ctr.ctr_into(key, 3, np.empty(6, dtype=np.uint64)), openssl_ctr(key, 3, 6))
    assert aes.expand_key(key)[10].tobytes().hex() == "d014f9a8c9ee2589e13f0cc8b6630ca6"


def _bits_case(k, n, seed=0):
    rng = np.random.default_rng(seed)
    planes = rng.integers(0, 2**64 - 1, (k, (n + 63) // 64), dtype=np.uint64, endpoint=True)
    if n % 64:
        planes[:, -1] &= np.uint64((1 << (n % 64)) - 1)  # bit-sliced padding is 0
    bits = ((planes[:, np.arange(n) // 64] >> (np.arange(n, dtype=np.uint64) % np.uint64(64))) & np.uint64(1))
    return planes, bits


@pytest.mark.parametrize("k,n", [(1, 1), (4, 7), (4, 64), (3, 65), (4, ctr.BITS_CHUNK - 1), (2, ctr.BITS_CHUNK + 9),
                                 (4, 3 * ctr.BITS_CHUNK + 1), (4, 20011)])
@pytest.mark.parametrize("path", ["kernel", "openssl"])
def test_bits_minus_stream(k, n, path, monkeypatch):
    """prg.bits_minus_into = the planes' bits minus the (k, n) stream (rows that start at a
    word inside a block and inside a vector: n odd, n % 8 != 0)."""
    if path == "openssl":
        monkeypatch.setattr(ctr, "available", lambda: False)
    elif not ctr.available():
        pytest.skip("numba has no AES-NI here")
    planes, bits = _bits_case(k, n, seed=n)
    key = bytes(range(3, 19))
    want = bits - openssl_ctr(key, 2**64 - 2, k * n).reshape(k, n)
    out = np.full((k, n), 7, dtype=np.uint64)
    assert np.array_equal(prg.bits_minus_into(key, 2**64 - 2, planes, n, out), want)


@needs_aesni
def test_bits_minus_bad_arguments():
    planes, _ = _bits_case(2, 100)
    with pytest.raises(ValueError, match="planes"):
        ctr.bits_minus_into(bytes(16), 0, planes, 200, np.empty((2, 200), dtype=np.uint64))
    with pytest.raises(ValueError, match="dst"):
        ctr.bits_minus_into(bytes(16), 0, planes, 100, np.empty((2, 99), dtype=np.uint64))
