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


class MaskedInput:
    """An input ``x = e + a`` held in *masked* form (shape ``shape``, uint64 over Z_2^64).

    ``e`` (public to every compute party) was sent by the input's owner, who knows the dealer
    mask ``a``; ``mask`` is the dealer's ``InputMask`` (the parties' additive shares of ``a``
    and the handle under which the dealer keeps its view). A Beaver product with this operand
    needs no opening for it.
    """

    __slots__ = ("e", "mask", "shape", "frac")

    def __init__(self, e: np.ndarray, mask, shape: tuple, frac: int):
        self.e, self.mask = e, mask
        self.shape = tuple(shape)
        self.frac = int(frac)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def as_ashare(self, first_party: int = 0) -> AShare:
        """Additive shares of x: the mask shares, ``first_party`` adds ``e`` (local)."""
        return AShare({p: (s + self.e if p == first_party else s.copy()) for p, s in self.mask.shares.items()},
                      self.shape, self.frac)

    def __repr__(self) -> str:
        return f"MaskedInput(shape={self.shape}, frac={self.frac}, parties={sorted(self.mask.shares, key=str)})"
