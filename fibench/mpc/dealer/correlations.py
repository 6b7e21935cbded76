"""The correlations a dealer hands out, as plain containers of the LOCAL parties' shares.

Every field maps a compute-party id to that party's share (uint64 arrays; XOR shares for the
boolean parts). None of them holds the dealer's plaintext view, and none prints a share.
"""
from __future__ import annotations

from dataclasses import dataclass


def _parties(d: dict) -> list:
    return sorted(d, key=str)


class _Hidden:
    """A repr that names the class and the parties, never a share."""

    def __repr__(self) -> str:
        first = getattr(self, next(iter(self.__dataclass_fields__)))
        return f"{type(self).__name__}(parties={_parties(first)})"


@dataclass(repr=False)
class Triple(_Hidden):
    """Beaver triple shares: c = a * b (elementwise), a @ b (matrix) or a & b (boolean)."""

    a: dict
    b: dict
    c: dict


@dataclass(repr=False)
class TruncPair(_Hidden):
    """Shares of a uniform r, of its top bit and of ``(r mod 2^63) >> bits`` (exact truncation)."""

    r: dict
    msb: dict
    low: dict


@dataclass(repr=False)
class InputMask:
    """Shares of a dealer mask ``a`` for an input sent in masked form (``x - a``).

    ``handle`` names the dealer's view (kept by the dealer, for Beaver triples on this mask);
    ``owner_value`` is ``a`` itself where this process hosts the input's owner (the owner got
    the seed of ``a``), else ``None``."""

    handle: int
    shares: dict
    owner_value: object
    shape: tuple

    def __repr__(self) -> str:
        return f"InputMask(shape={self.shape}, parties={_parties(self.shares)})"


@dataclass(repr=False)
class A2BMasks(_Hidden):
    """Preprocessing of one ``a2b`` comparison batch (see ``fibench.mpc.protocols.compare_a2b``)."""

    r: dict
    r_planes: dict
    q: dict
    C: list
    A: list
    B: list
    fin: dict
    gamma: dict | None = None  # output "bool": shares of alpha & beta (1, nwords)
    table: dict | None = None  # output "arith": (4, n) shares of the last level's truth table


@dataclass(repr=False)
class FssLtzPre:
    """Preprocessed material of one batch of ``n`` FSS comparisons, for the local parties.

    ``r[p]``: party p's additive share of the mask; ``key[p]``: its flat DCF key (uint8);
    ``m``: payload words per comparison (1: the bit itself; 2: two dealer-chosen words scaled
    by the bit); ``w[p]``: (n, 2) shares of those words (m = 2).
    """

    n: int
    bits: int
    r: dict
    key: dict
    m: int = 1
    w: dict | None = None

    def __repr__(self) -> str:  # never show key material
        return f"FssLtzPre(n={self.n}, bits={self.bits}, m={self.m}, parties={sorted(self.key)})"


@dataclass(repr=False)
class NoiseShares(_Hidden):
    """Additive shares of dealer-drawn discrete noise z (``fibench.mpc.noise``): ``z[p]`` is
    party p's uint64 share; ``kind`` and ``scale`` (raw lattice units) say what z follows."""

    z: dict
    kind: str
    scale: float
    shape: tuple


@dataclass(repr=False)
class FssDpfPre:
    """Preprocessed material of one batch of ``n`` DPF comparisons (``fss-dpf``), local parties.

    ``r[p]``: party p's additive share of the mask; ``key[p]``: its flat DPF comparison key
    (uint8, ``fibench.kernels.dpf``); ``output``: ``"bool"`` (the keys give XOR shares of
    [x < 0] itself), ``"arith"`` (XOR shares of [x < 0] ^ m for a random bit m, with additive
    shares ``m[p]`` of m) or ``"relu"`` (as ``"arith"``, plus additive shares ``mr[p]`` of m r).
    """

    n: int
    bits: int
    r: dict
    key: dict
    output: str = "bool"
    m: dict | None = None
    mr: dict | None = None

    def __repr__(self) -> str:  # never show key material
        return f"FssDpfPre(n={self.n}, bits={self.bits}, output={self.output!r}, parties={sorted(self.key)})"
