"""``Context``: the typed handle every protocol receives.

It holds the communicator (transport and accounting), the dealer (named correlations), the
numeric settings (``frac_bits``, ``cmp_bits``, ``trunc``) and the comparison protocol chosen
once (``cmp``, a ``ComparisonProtocol``). ``Session`` is a ``Context`` with the user-facing
methods on top.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc import config
from fibench.mpc.protocols.compare import ComparisonProtocol
from fibench.mpc.protocols.compare_a2b import A2B
from fibench.mpc.protocols.compare_fss import FSS

#: the comparison protocols by name (``Session(protocol=...)``)
COMPARISONS = {"a2b": A2B, "fss": FSS}
TRUNCATIONS = ("auto", "local", "dealer")


def comparison(name: str, n_parties: int) -> ComparisonProtocol:
    """The comparison protocol ``name`` for ``n_parties`` parties (ValueError if it cannot run)."""
    if name not in COMPARISONS:
        raise ValueError(f"protocol must be one of {tuple(COMPARISONS)}, got {name!r}")
    proto = COMPARISONS[name]()
    proto.check(n_parties)
    return proto


def check_cmp_bits(cmp_bits) -> int:
    if isinstance(cmp_bits, bool) or not isinstance(cmp_bits, (int, np.integer)) or not 2 <= cmp_bits <= 64:
        raise ValueError(f"cmp_bits must be an integer in [2, 64], got {cmp_bits!r}")
    return int(cmp_bits)


class Context:
    """Attributes: ``comm``, ``dealer``, ``n_parties`` (P), ``frac_bits``, ``cmp_bits`` (range
    promise of comparison inputs: [-2^(cmp_bits-1), 2^(cmp_bits-1)) as raw ring integers),
    ``trunc`` (truncation method), ``cmp`` (the comparison protocol), ``protocol`` (its name),
    ``parties`` (compute parties hosted by this process) and ``parties_all`` (0..P-1)."""

    def __init__(self, comm, dealer, frac_bits: int = config.FRAC_BITS, cmp_bits: int = 64,
                 protocol: str = config.COMPARISON_PROTOCOL, trunc: str = "auto"):
        self.comm = comm
        self.dealer = dealer
        self.n_parties = int(comm.n_parties)
        self.frac_bits = int(frac_bits)
        self.cmp_bits = check_cmp_bits(cmp_bits)
        self.cmp = comparison(protocol, self.n_parties)
        self.protocol = self.cmp.name
        if trunc not in TRUNCATIONS:
            raise ValueError(f"trunc must be one of {TRUNCATIONS}, got {trunc!r}")
        if trunc == "local" and self.n_parties != 2:
            raise ValueError(f"trunc 'local' needs n_parties = 2, got {self.n_parties}")
        self.trunc = trunc

    @property
    def parties(self) -> tuple:
        """Compute parties hosted by this process."""
        return tuple(p for p in self.comm.local_parties if isinstance(p, int))

    @property
    def parties_all(self) -> range:
        return range(self.n_parties)

    @property
    def stats(self):
        return self.comm.stats
