"""Cryptographically secure pseudo-random generation.

Every random ring element of fibench comes from AES-128 in counter mode keyed by a 16-byte seed
drawn from ``secrets``: ``fibench.kernels.ctr`` (VAES / AES-NI inside numba, about 2-3x
OpenSSL's rate) where numba can use AES-NI, else OpenSSL through the ``cryptography`` package.
Both give the same stream, byte for byte.
A seed is expanded into a stream of uint64 words; ``(seed, stream)`` pairs are domain separated
by the 16-byte CTR nonce, so one seed serves many independent requests.

Shapes and dtypes: ``expand(seed, stream, n)`` returns a fresh ``(n,)`` uint64 array, uniform
over Z_2^64; ``expand_into`` fills a preallocated uint64 buffer (about 3x faster than a fresh
allocation per call); ``expand_combine`` combines the stream into an existing array
(``src - stream``, ``src ^ stream``, ``src + stream``) in the same pass.
"""
from __future__ import annotations

import secrets

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fibench.kernels import bitslice as kbs
from fibench.kernels import ctr

SEED_BYTES = 16
_ZEROS = np.zeros(0, dtype=np.uint8)


def new_seed() -> bytes:
    """A fresh 16-byte seed from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def _zeros(nbytes: int) -> np.ndarray:
    global _ZEROS
    if _ZEROS.size < nbytes:
        _ZEROS = np.zeros(max(nbytes, 2 * _ZEROS.size), dtype=np.uint8)
    return _ZEROS


def _nonce(stream: int) -> bytes:
    if not 0 <= stream < 2**64:
        raise ValueError("stream must be in [0, 2**64)")
    # high 8 bytes: stream id; low 8 bytes: AES block counter (starts at 0)
    return int(stream).to_bytes(8, "big") + bytes(8)


def _check(seed: bytes, out: np.ndarray, name: str = "out") -> None:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes")
    if out.dtype != np.uint64 or not out.flags.c_contiguous:
        raise ValueError(f"{name} must be a C-contiguous uint64 array")


def expand_into(seed: bytes, stream: int, out: np.ndarray) -> np.ndarray:
    """Fill the contiguous uint64 array ``out`` with AES-128-CTR(seed, stream) output."""
    _check(seed, out)
    if ctr.available():
        return ctr.ctr_into(seed, stream, out)
    return _openssl_into(seed, stream, out)


_OPS = {"sub": np.subtract, "xor": np.bitwise_xor, "add": np.add}


def expand_combine(seed: bytes, stream: int, out: np.ndarray, src: np.ndarray, mode: str) -> np.ndarray:
    """``out = src OP AES-128-CTR(seed, stream)`` word by word, ``mode`` one of ``"sub"`` (mod
    2^64), ``"xor"``, ``"add"``; ``src`` (same size, may be ``out``) is read once. Returns out."""
    if mode not in _OPS:
        raise ValueError(f"mode must be one of {tuple(_OPS)}, got {mode!r}")
    _check(seed, out)
    _check(seed, src, "src")
    if src.size != out.size:
        raise ValueError(f"src has {src.size} words, out {out.size}")
    if ctr.available():
        return ctr.ctr_into(seed, stream, out, src, mode)
    ks = _openssl_into(seed, stream, np.empty(out.shape, dtype=np.uint64))
    _OPS[mode](src.reshape(out.shape), ks, out=out)
    return out


def bits_minus_into(seed: bytes, stream: int, planes: np.ndarray, n: int, out: np.ndarray) -> np.ndarray:
    """``out`` ``(k, n)`` = the bits of ``planes`` ``(k, ceil(n / 64))`` (bit-sliced, see
    ``fibench.kernels.bitslice``) as 0/1 words minus AES-128-CTR(seed, stream) read as ``(k, n)``
    words, mod 2^64: a dealt bit table's correction in one pass. Returns out."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes")
    if ctr.available():
        return ctr.bits_minus_into(seed, stream, planes, n, out)
    _check(seed, out)
    expand_into(seed, stream, out)
    return kbs.unslice_planes(planes, n, minus=out, out=out)


def _openssl_into(seed: bytes, stream: int, out: np.ndarray) -> np.ndarray:
    """``expand_into`` through OpenSSL (where numba has no AES-NI)."""
    nbytes = out.size * 8
    if nbytes == 0:
        return out
    enc = Cipher(algorithms.AES(seed), modes.CTR(_nonce(stream))).encryptor()
    flat = out.reshape(-1).view(np.uint8)
    # update_into needs len(buf) >= len(data) + 15: encrypt all but the last 16-31 bytes in
    # place, then the tail separately (body + 15 <= nbytes always holds)
    body = nbytes - (nbytes % 16) - 16 if nbytes > 16 else 0
    if body > 0:
        enc.update_into(memoryview(_zeros(body))[:body], flat[: body + 15])
        rest = enc.update(bytes(nbytes - body))
        flat[body:] = np.frombuffer(rest, dtype=np.uint8)
    else:
        flat[:] = np.frombuffer(enc.update(bytes(nbytes)), dtype=np.uint8)
    return out


def expand(seed: bytes, stream: int, n: int) -> np.ndarray:
    """``n`` uniform uint64 words from AES-128-CTR(seed, stream)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return expand_into(seed, stream, np.empty(n, dtype=np.uint64))


class SeededStream:
    """A counter of streams under one seed: each ``next(n)`` call uses a new stream id."""

    def __init__(self, seed: bytes | None = None):
        self._seed = new_seed() if seed is None else seed
        if len(self._seed) != SEED_BYTES:
            raise ValueError(f"seed must be {SEED_BYTES} bytes")
        self.counter = 0

    def next(self, n: int) -> np.ndarray:
        out = expand(self._seed, self.counter, n)
        self.counter += 1
        return out

    def __repr__(self) -> str:  # never show the seed
        return f"SeededStream(counter={self.counter})"
