"""Cryptographically secure pseudo-random generation.

Every random ring element of fibench comes from AES-128 in counter mode (OpenSSL through the
``cryptography`` package, so AES-NI is used) keyed by a 16-byte seed drawn from ``secrets``.
A seed is expanded into a stream of uint64 words; ``(seed, stream)`` pairs are domain separated
by the 16-byte CTR nonce, so one seed serves many independent requests.

Shapes and dtypes: ``expand(seed, stream, n)`` returns a fresh ``(n,)`` uint64 array, uniform
over Z_2^64; ``expand_into`` fills a preallocated uint64 buffer (about 3x faster than a fresh
allocation per call).
"""
from __future__ import annotations

import secrets

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

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


def expand_into(seed: bytes, stream: int, out: np.ndarray) -> np.ndarray:
    """Fill the contiguous uint64 array ``out`` with AES-128-CTR(seed, stream) output."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes")
    if out.dtype != np.uint64 or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous uint64 array")
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
