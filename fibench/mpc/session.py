"""``Session``: the user-facing handle on one MPC computation among P compute parties.

A session owns a communicator (``backend="local"``: all parties in this process), a dealer
(correlated randomness, offline) and the numeric settings (fixed-point ``frac_bits``,
comparison ``protocol``, truncation method). Values are ``AShare`` objects; reals are encoded
in fixed point with ``frac_bits`` fractional bits and products are rescaled automatically.

Example
-------
>>> s = Session(n_parties=3, seed=b"0123456789abcdef")
>>> x = s.share([1.5, -2.0], owner=0); y = s.share([2.0, 4.0], owner=1)
>>> s.reveal(s.mul(x, y)).tolist()
[3.0, -8.0]
"""
from __future__ import annotations

import time

import numpy as np

from fibench.mpc import config
from fibench.mpc.comm import Communicator, LocalCommunicator
from fibench.mpc.dealer import Dealer
from fibench.mpc.shares import AShare
from fibench.mpc.encoding import check_frac_bits, decode, encode
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols import sharing as sh


class Session:
    """Parameters
    ----------
    n_parties : int in [2, 16]
        Number of compute parties P.
    frac_bits : int in [0, 30], default 16
        Fractional bits f of the fixed-point encoding.
    protocol : {"a2b", "fss"}, default "a2b"
        Secure comparison protocol (``"fss"`` needs P = 2).
    trunc : {"auto", "local", "dealer"}
        Truncation after fixed-point products (``auto``: local at P = 2, dealer otherwise).
    cmp_bits : int in [2, 64], default 64
        Range promise for comparisons: their inputs lie in [-2^(cmp_bits-1), 2^(cmp_bits-1))
        (raw ring integers, fixed-point scale included). ``fss`` then compares only the low
        ``cmp_bits`` bits (keys and evaluation proportionally cheaper, openings narrower); 64
        promises nothing. ``a2b`` ignores it.
    seed : bytes (16) or None
        Seed of the dealer's randomness (``None``: fresh from ``secrets``). Input sharing
        always uses fresh OS randomness.
    comm : Communicator or None
        A backend; default ``LocalCommunicator(n_parties)``.
    """

    def __init__(self, n_parties: int = 2, frac_bits: int = config.FRAC_BITS, protocol: str = config.COMPARISON_PROTOCOL,
                 trunc: str = "auto", seed: bytes | None = None, comm: Communicator | None = None,
                 cmp_bits: int = 64):
        if not isinstance(n_parties, (int, np.integer)) or not config.MIN_PARTIES <= n_parties <= config.MAX_PARTIES:
            raise ValueError(f"n_parties must be an integer in [{config.MIN_PARTIES}, {config.MAX_PARTIES}], got {n_parties!r}")
        self.frac_bits = check_frac_bits(frac_bits)
        if protocol not in config.COMPARISON_PROTOCOLS:
            raise ValueError(f"protocol must be one of {config.COMPARISON_PROTOCOLS}, got {protocol!r}")
        if protocol == "fss" and n_parties != 2:
            raise ValueError(f"protocol 'fss' needs n_parties = 2, got {n_parties}")
        if trunc not in ("auto", "local", "dealer"):
            raise ValueError(f"trunc must be 'auto', 'local' or 'dealer', got {trunc!r}")
        if trunc == "local" and n_parties != 2:
            raise ValueError(f"trunc 'local' needs n_parties = 2, got {n_parties}")
        if isinstance(cmp_bits, bool) or not isinstance(cmp_bits, (int, np.integer)) or not 2 <= cmp_bits <= 64:
            raise ValueError(f"cmp_bits must be an integer in [2, 64], got {cmp_bits!r}")
        self.cmp_bits = int(cmp_bits)
        if isinstance(seed, int):
            seed = int(seed).to_bytes(16, "little")
        self.n_parties = int(n_parties)
        self.protocol = protocol
        self.trunc = trunc
        self.comm = comm if comm is not None else LocalCommunicator(self.n_parties)
        if self.comm.n_parties != self.n_parties:
            raise ValueError(f"comm has {self.comm.n_parties} parties, session asks for {self.n_parties}")
        # a backend may need its own dealer (mpi: only one process hosts it)
        self.dealer = getattr(self.comm, "dealer_class", Dealer)(self.comm, seed)

    # -- context attributes used by protocols ----------------------------------------------
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

    def __repr__(self) -> str:
        return f"Session(P={self.n_parties}, frac_bits={self.frac_bits}, protocol={self.protocol!r})"

    # -- input / output ----------------------------------------------------------------------
    def share(self, x, owner=0, shape=None) -> AShare:
        """Secret-share reals ``x`` (array-like) held by ``owner`` (party id or entity name)."""
        raw = encode(x, self.frac_bits) if self.comm.is_local(owner) else None
        shape = raw.shape if raw is not None else tuple(shape)
        return sh.share(self, raw, owner, shape, self.frac_bits)

    def share_int(self, x, owner=0, shape=None) -> AShare:
        """Secret-share integers (int64 array-like, e.g. votes or labels) without scaling."""
        raw = np.asarray(x, dtype=np.int64).view(np.uint64) if self.comm.is_local(owner) else None
        shape = raw.shape if raw is not None else tuple(shape)
        return sh.share(self, raw, owner, shape, 0)

    def reveal_raw(self, x: AShare, to=None):
        return sh.reveal(self, x, to)

    def reveal(self, x: AShare, to=None):
        """Open ``x`` (to all parties, or to ``to`` only) and decode with its fractional bits."""
        raw = sh.reveal(self, x, to)
        return None if raw is None else decode(raw, x.frac)

    # -- arithmetic ------------------------------------------------------------------------------
    def add(self, x, y):
        return ar.add(x, y)

    def sub(self, x, y):
        return ar.sub(x, y)

    def _rescale(self, z: AShare) -> AShare:
        extra = z.frac - self.frac_bits
        return ar.truncate(self, z, extra, self.trunc) if extra > 0 else z

    def mul(self, x, y) -> AShare:
        """Elementwise product, rescaled to ``frac_bits`` when both inputs are fixed point."""
        return self._rescale(ar.mul(self, x, y))

    def matmul(self, x, y) -> AShare:
        return self._rescale(ar.matmul(self, x, y))

    def mul_public(self, x, c) -> AShare:
        """x * c for public reals c (fixed point, rescaled)."""
        return self._rescale(ar.mul_public(x, encode(c, self.frac_bits), self.frac_bits))

    def add_public(self, x, c) -> AShare:
        return ar.add_public(x, encode(c, x.frac))

    # -- comparison (see fibench.mpc.protocols.compare) -------------------------------------------
    def ltz(self, x) -> AShare:
        """[x < 0] as an arithmetic 0/1 share (frac 0)."""
        from fibench.mpc.protocols.compare import ltz

        return ltz(self, x, self.protocol)

    def lt(self, x, y) -> AShare:
        """[x < y] as an arithmetic 0/1 share."""
        return self.ltz(self.sub(x, y))

    def relu(self, x) -> AShare:
        from fibench.mpc.protocols.compare import relu

        return relu(self, x, self.protocol)

    def argmax(self, x, method: str = "pairs", one_hot: bool = False) -> AShare:
        """Argmax over the last axis of a 2-D share: labels (n,) or one-hot (n, C)."""
        from fibench.mpc.protocols.argmax import argmax

        return argmax(self, x, method=method, one_hot=one_hot, protocol=self.protocol)

    def argmax_reveal(self, x, to, method: str = "pairs"):
        """Argmax labels revealed to ``to`` only (uint64 (n,), ``None`` where ``to`` is not
        hosted); with ``fss`` and ``pairs`` in 2 rounds (see ``argmax_reveal_fss``)."""
        from fibench.mpc.protocols.argmax import argmax_reveal

        return argmax_reveal(self, x, to, method=method, protocol=self.protocol)

    # -- timing helpers -------------------------------------------------------------------------
    def timed(self, fn, *args, **kwargs):
        """Run ``fn`` and return (result, wall seconds, dealer seconds spent inside it)."""
        d0 = self.dealer.elapsed
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        return out, time.perf_counter() - t0, self.dealer.elapsed - d0
