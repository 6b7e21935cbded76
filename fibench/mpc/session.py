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
from fibench.mpc.context import Context
from fibench.mpc.dealer import Dealer
from fibench.mpc.encoding import check_frac_bits, decode, encode
from fibench.mpc.protocols import argmax as am
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols import sharing as sh
from fibench.mpc.shares import AShare

BACKENDS = ("local", "mpi")


class Session(Context):
    """Parameters
    ----------
    n_parties : int in [2, 16]
        Number of compute parties P (``backend="mpi"``: ``None`` takes the number of ranks).
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
        Seed of the dealer's randomness (``None``: fresh from ``secrets``). Input sharing and
        input masks always use fresh OS randomness.
    backend : {"local", "mpi"}, default "local"
        ``local``: every party in this process; ``mpi``: one MPI rank per compute party (call
        on every rank with the same arguments; see docs/mpi.md).
    comm : Communicator or None
        A ready communicator instead of ``backend``'s default.
    delay : link model or None
        ``backend="mpi"`` only: delay injection (an object with ``params(src, dst) ->
        (one-way seconds, bits per second)``, e.g. ``fibench.bench.network.LinkDelay``).
    """

    def __init__(self, n_parties: int | None = 2, frac_bits: int = config.FRAC_BITS,
                 protocol: str = config.COMPARISON_PROTOCOL, trunc: str = "auto", seed: bytes | None = None,
                 comm: Communicator | None = None, cmp_bits: int = 64, backend: str = "local", delay=None):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if not (backend == "mpi" and n_parties is None and comm is None):
            if isinstance(n_parties, bool) or not isinstance(n_parties, (int, np.integer)) or \
                    not config.MIN_PARTIES <= n_parties <= config.MAX_PARTIES:
                raise ValueError(f"n_parties must be an integer in [{config.MIN_PARTIES}, {config.MAX_PARTIES}], "
                                 f"got {n_parties!r}")
        frac_bits = check_frac_bits(frac_bits)
        if isinstance(seed, int):
            seed = int(seed).to_bytes(16, "little")
        if comm is None:
            if backend == "mpi":
                from fibench.mpc.comm.mpi import MPICommunicator

                comm = MPICommunicator(n_parties, delay=delay)
            else:
                comm = LocalCommunicator(int(n_parties))
        if n_parties is not None and comm.n_parties != n_parties:
            raise ValueError(f"comm has {comm.n_parties} parties, session asks for {n_parties}")
        super().__init__(comm, None, frac_bits, cmp_bits, protocol, trunc)  # validates the settings
        self.dealer = Dealer(comm, seed)  # then the dealer sends its seeds

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

    # -- comparison (the protocol in ``self.cmp``) ------------------------------------------------
    def ltz(self, x) -> AShare:
        """[x < 0] as an arithmetic 0/1 share (frac 0)."""
        return self.cmp.ltz(self, x)

    def lt(self, x, y) -> AShare:
        """[x < y] as an arithmetic 0/1 share."""
        return self.ltz(self.sub(x, y))

    def relu(self, x) -> AShare:
        return self.cmp.relu(self, x)

    def argmax(self, x, method: str = "pairs", one_hot: bool = False) -> AShare:
        """Argmax over the last axis of a 2-D share: labels (n,) or one-hot (n, C)."""
        return am.argmax(self, x, method=method, one_hot=one_hot)

    def argmax_reveal(self, x, to, method: str = "pairs"):
        """Argmax labels revealed to ``to`` only (uint64 (n,), ``None`` where ``to`` is not
        hosted); with ``fss`` and ``pairs`` in 2 rounds (see ``argmax_reveal_fss``)."""
        return am.argmax_reveal(self, x, to, method=method)

    # -- timing helpers -------------------------------------------------------------------------
    def timed(self, fn, *args, **kwargs):
        """Run ``fn`` and return (result, wall seconds, dealer seconds spent inside it)."""
        d0 = self.dealer.elapsed
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        return out, time.perf_counter() - t0, self.dealer.elapsed - d0
