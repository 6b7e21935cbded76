"""Containers for secret-shared values held by the local parties of one process.

``AShare``: additive shares over Z_2^64, ``x = sum_p shares[p] mod 2**64``; ``frac`` is the
number of fractional bits of the fixed-point value (0 for integers and bits).
``BShare``: XOR shares of bit-sliced values; ``shares[p]`` has shape ``(nbits, nwords)``,
word ``w`` of plane ``j`` holds bit ``j`` of values ``64w .. 64w+63``; ``n`` is the count of
values. Neither class ever prints its shares.
"""
from __future__ import annotations

import numpy as np


class AShare:
    __slots__ = ("shares", "shape", "frac")

    def __init__(self, shares: dict, shape: tuple, frac: int):
        self.shares = shares
        self.shape = tuple(shape)
        self.frac = int(frac)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def map(self, fn, shape=None, frac=None) -> "AShare":
        """Apply ``fn(share)`` to each local share (a local, communication-free operation)."""
        return AShare(
            {p: fn(s) for p, s in self.shares.items()},
            self.shape if shape is None else shape,
            self.frac if frac is None else frac,
        )

    def reshape(self, *shape) -> "AShare":
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        out = self.map(lambda s: s.reshape(shape))
        out.shape = next(iter(out.shares.values())).shape if out.shares else tuple(shape)
        return out

    def __getitem__(self, idx) -> "AShare":
        parts = {p: np.ascontiguousarray(s[idx]) for p, s in self.shares.items()}
        shape = next(iter(parts.values())).shape
        return AShare(parts, shape, self.frac)

    def __repr__(self) -> str:
        return f"AShare(shape={self.shape}, frac={self.frac}, parties={sorted(self.shares, key=str)})"


class BShare:
    __slots__ = ("shares", "n")

    def __init__(self, shares: dict, n: int):
        self.shares = shares
        self.n = int(n)

    def __repr__(self) -> str:
        return f"BShare(n={self.n}, parties={sorted(self.shares, key=str)})"
