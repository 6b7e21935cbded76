"""``Session``: the user-facing handle on one MPC computation among P compute parties.

A session owns a communicator (``backend="local"``: all parties in this process), a dealer
(correlated randomness, offline) and the numeric settings (fixed-point ``frac_bits``,
comparison ``protocol``, truncation method). Values are ``AShare`` objects; reals are encoded
in fixed point with ``frac_bits`` fractional bits and products are rescaled automatically.

Example
-------
>>> s = Session(n_parties=3)
>>> x = s.share([1.5, -2.0], owner=0); y = s.share([2.0, 4.0], owner=1)
>>> s.reveal(s.mul(x, y)).tolist()
[3.0, -8.0]
"""
from __future__ import annotations

import time

import numpy as np

from fibench.mpc import config
from fibench.mpc.comm import Communicator, LocalCommunicator
from fibench.mpc.context import Context, check_sharing
from fibench.mpc.dealer import Dealer, NoDealer
from fibench.mpc.encoding import check_frac_bits, decode, encode
from fibench.mpc.protocols import argmax as am
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols import replicated_sharing as rs
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
    protocol : {"a2b", "fss", "fss-dpf"}, default "a2b"
        Secure comparison protocol (``"fss"`` and ``"fss-dpf"`` need P = 2; ``"fss-dpf"``: DPF
        keys of 942 instead of 1552 B per comparison at l = 64, one more round where additive
        shares are needed, see ``fibench.mpc.protocols.compare_dpf``).
    trunc : {"dealer", "local"}, default "dealer"
        Truncation after fixed-point products. ``dealer``: exact to 1 ulp for every value in
        the documented range, any P; costs one round and 8 bytes per element per peer online
        (16 bytes per element offline, to party 0). ``local`` (opt-in, P = 2 only): SecureML's
        local truncation, 0 rounds and 0 bytes, but a product is wrong by about 2^(64-f) ulp
        with probability about |x*y| / 2^(63-2f) per element (reals; 6 % of products with
        |x|, |y| <= 2^15 at f = 16).
    cmp_bits : int in [2, 64], default 64
        Range promise for comparisons: their inputs lie in [-2^(cmp_bits-1), 2^(cmp_bits-1))
        (raw ring integers, fixed-point scale included). ``fss`` then compares only the low
        ``cmp_bits`` bits (keys and evaluation proportionally cheaper, openings narrower); 64
        promises nothing. ``a2b`` ignores it.
    dealer_seed : bytes (16) or None
        Testing only: makes the dealer's correlated randomness reproducible — and therefore
        known to whoever knows the seed, which breaks every guarantee. ``None`` (the default,
        and what every pipeline and suite uses): fresh from ``secrets``. Input sharing and input
        masks always use fresh OS randomness. Counts never depend on randomness.
    backend : {"local", "mpi"}, default "local"
        ``local``: every party in this process; ``mpi``: one MPI rank per compute party (call
        on every rank with the same arguments; see docs/mpi.md).
    comm : Communicator or None
        A ready communicator instead of ``backend``'s default.
    delay : link model or None
        ``backend="mpi"`` only: delay injection (an object with ``params(src, dst) ->
        (one-way seconds, bits per second)``, e.g. ``fibench.bench.network.LinkDelay``).
    sharing : {"additive", "replicated"}, default "additive"
        ``additive``: P-party additive shares, correlated randomness from the dealer (offline).
        ``replicated``: honest-majority 2-out-of-3 replicated shares among exactly 3 servers
        (Araki et al. 2016 / ABY3; semi-honest, one corrupt server out of three): no dealer at
        all (0 offline bytes), correlated randomness from pairwise AES keys set up in one round
        of 16 bytes per server; ``protocol`` must be ``"a2b"`` (bit decomposition), ``trunc``
        ``"dealer"`` (the exact method, one server in the dealer's place) and ``dealer_seed``
        ``None``. Costs: ``fibench.mpc.protocols.replicated_*``.
    check : bool, default False
        Checking mode (``local`` backend only): reconstruct intermediates and raise
        ``fibench.mpc.checking.RangeError`` naming the op when a product, sum, comparison input
        or truncation leaves its range (see ``fibench.mpc.checking``). For tests and debugging.

    Ranges (raw fixed-point integers v = round(x * 2^f)): inputs |v| < 2^62 (``encode``,
    ``share_int``); products |v_x * v_y| < 2^62 before truncation, i.e. reals |x * y| <
    2^(62 - 2f) (2^30 at f = 16), and for matmul the sum over k of |x_ik y_kj| within the same
    bound; sums and differences |v| < 2^63; comparison inputs within ``cmp_bits``.
    """

    def __init__(self, n_parties: int | None = 2, frac_bits: int = config.FRAC_BITS,
                 protocol: str = config.COMPARISON_PROTOCOL, trunc: str = "dealer", dealer_seed: bytes | None = None,
                 comm: Communicator | None = None, cmp_bits: int = 64, backend: str = "local", delay=None,
                 check: bool = False, sharing: str = "additive"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if not (backend == "mpi" and n_parties is None and comm is None):
            if isinstance(n_parties, bool) or not isinstance(n_parties, (int, np.integer)) or \
                    not config.MIN_PARTIES <= n_parties <= config.MAX_PARTIES:
                raise ValueError(f"n_parties must be an integer in [{config.MIN_PARTIES}, {config.MAX_PARTIES}], "
                                 f"got {n_parties!r}")
        frac_bits = check_frac_bits(frac_bits)
        if sharing == "replicated" and n_parties is not None and comm is None:
            check_sharing(sharing, n_parties, protocol)  # before any communicator starts
        if sharing == "replicated" and dealer_seed is not None:
            raise ValueError("dealer_seed must be None with sharing='replicated' (it has no dealer)")
        if dealer_seed is not None and (not isinstance(dealer_seed, bytes) or len(dealer_seed) != 16):
            raise ValueError("dealer_seed must be None or 16 bytes")
        if comm is None:
            if backend == "mpi":
                from fibench.mpc.comm.mpi import MPICommunicator

                comm = MPICommunicator(n_parties, delay=delay)
            else:
                comm = LocalCommunicator(int(n_parties))
        if n_parties is not None and comm.n_parties != n_parties:
            raise ValueError(f"comm has {comm.n_parties} parties, session asks for {n_parties}")
        super().__init__(comm, None, frac_bits, cmp_bits, protocol, trunc, check, sharing)  # validates the settings
        if self.sharing == "replicated":
            self.dealer = NoDealer(comm)
            self.prf = rs.setup_keys(self)  # once: pairwise PRF keys, one round of 16 bytes per server
            return
        self.dealer = Dealer(comm, dealer_seed)  # then the dealer sends its seeds
        self.input_keys = sh.setup_input_keys(self)  # once: sharing by compute parties is then free

    def __repr__(self) -> str:
        extra = ", sharing='replicated'" if self.sharing == "replicated" else ""
        return f"Session(P={self.n_parties}, frac_bits={self.frac_bits}, protocol={self.protocol!r}{extra})"

    # -- input / output ----------------------------------------------------------------------
    def share(self, x, owner=0, shape=None) -> AShare:
        """Secret-share reals ``x`` (array-like) held by ``owner`` (party id or entity name)."""
        self.check_party(owner, "owner")
        raw = encode(x, self.frac_bits) if self.comm.is_local(owner) else None
        return sh.share(self, raw, owner, self._shape(raw, shape), self.frac_bits)

    def share_int(self, x, owner=0, shape=None) -> AShare:
        """Secret-share integers (e.g. votes or labels) without scaling; |x| <= 2^62 - 1, the
        raw range of ``encode``, so that sums and differences of two inputs never wrap."""
        self.check_party(owner, "owner")
        raw = None
        if self.comm.is_local(owner):
            raw = _as_int64(x, "x")
            if raw.size and int(np.max(np.abs(raw.astype(object)))) > config.MAX_RAW:
                raise ValueError(f"x must hold integers with |x| <= 2^62 - 1 (= {config.MAX_RAW}); "
                                 "use share_raw for arbitrary ring elements")
            raw = raw.view(np.uint64)
        return sh.share(self, raw, owner, self._shape(raw, shape), 0)

    def share_raw(self, x, owner=0, shape=None) -> AShare:
        """Secret-share ring elements as they are (int64 or uint64 array-like, no range promise;
        comparisons read them as signed). For tests and protocol work on raw values."""
        self.check_party(owner, "owner")
        raw = None
        if self.comm.is_local(owner):
            a = np.asarray(x)
            raw = a.astype(np.uint64) if a.dtype == np.uint64 else _as_int64(a, "x").view(np.uint64)
        return sh.share(self, raw, owner, self._shape(raw, shape), 0)

    @staticmethod
    def _shape(raw, shape) -> tuple:
        if raw is not None:
            return raw.shape
        if shape is None:
            raise ValueError("shape is required where this process does not host the input's owner")
        return tuple(shape)

    def reveal_raw(self, x: AShare, to=None):
        """Open ``x`` as uint64 ring elements (to all parties, or to ``to`` only)."""
        self.check_operand(x)
        if to is not None:
            self.check_party(to, "to")
        return sh.reveal(self, x, to)

    def reveal(self, x: AShare, to=None):
        """Open ``x`` (to all parties, or to ``to`` only) and decode with its fractional bits."""
        raw = self.reveal_raw(x, to)
        return None if raw is None else decode(raw, x.frac)

    # -- arithmetic ------------------------------------------------------------------------------
    def _operands(self, *xs) -> None:
        for name, x in zip("xy", xs):
            self.check_operand(x, name)

    def add(self, x, y):
        self._operands(x, y)
        if self.checker:
            self.checker.no_wrap(x, y, +1, "add")
        return ar.add(x, y)

    def sub(self, x, y):
        self._operands(x, y)
        if self.checker:
            self.checker.no_wrap(x, y, -1, "sub")
        return ar.sub(x, y)

    def _rescale(self, z: AShare) -> AShare:
        extra = z.frac - self.frac_bits
        return ar.truncate(self, z, extra, self.trunc) if extra > 0 else z

    def _product(self, x, y, matmul: bool, rescale: bool = True) -> AShare:
        if not rescale:
            return ar.matmul(self, x, y) if matmul else ar.mul(self, x, y)
        if self.sharing == "replicated" and x.frac + y.frac > self.frac_bits:  # fused: 2 rounds in all
            return ar.mul_trunc(self, x, y, self.frac_bits, matmul, "matmul" if matmul else "mul")
        return self._rescale(ar.matmul(self, x, y) if matmul else ar.mul(self, x, y))

    def mul(self, x, y, rescale: bool = True) -> AShare:
        """Elementwise product, rescaled to ``frac_bits`` when both inputs are fixed point
        (``rescale=False``: the raw product, frac = x.frac + y.frac, for ``relu_of_product``)."""
        self._operands(x, y)
        return self._product(x, y, False, rescale)

    def matmul(self, x, y, rescale: bool = True) -> AShare:
        """Matrix product ``(n, k) @ (k, m)``, rescaled like ``mul``."""
        self._operands(x, y)
        return self._product(x, y, True, rescale)

    @property
    def fuses_relu_rescale(self) -> bool:
        """Whether ``relu_of_product`` saves a round over ``relu(rescaled product)`` here
        (exact dealer truncation and a protocol that fuses them: additive ``a2b``)."""
        return self.trunc == "dealer" and self.cmp.fuses_rescale

    def mul_public(self, x, c) -> AShare:
        """x * c for public reals c (fixed point, rescaled)."""
        self._operands(x)
        return self._rescale(ar.mul_public(x, encode(c, self.frac_bits), self.frac_bits))

    def add_public(self, x, c) -> AShare:
        self._operands(x)
        return ar.add_public(x, encode(c, x.frac))

    # -- comparison (the protocol in ``self.cmp``) ------------------------------------------------
    def ltz(self, x) -> AShare:
        """[x < 0] as an arithmetic 0/1 share (frac 0)."""
        self._operands(x)
        return self.cmp.ltz(self, x)

    def lt(self, x, y) -> AShare:
        """[x < y] as an arithmetic 0/1 share."""
        return self.ltz(self.sub(x, y))

    def relu(self, x) -> AShare:
        self._operands(x)
        return self.cmp.relu(self, x)

    def relu_of_product(self, z) -> AShare:
        """max(z, 0) rescaled to ``frac_bits``, for a product not rescaled yet (``mul`` /
        ``matmul`` with ``rescale=False``, frac > frac_bits): with ``a2b`` the truncation opens in
        the comparison's first round (7 rounds instead of 1 + 7), elsewhere truncate, then relu."""
        self._operands(z)
        extra = z.frac - self.frac_bits
        if extra <= 0:
            raise ValueError(f"relu_of_product needs a product with more than frac_bits={self.frac_bits} "
                             f"fractional bits, got frac={z.frac} (use relu)")
        return self.cmp.relu_rescale(self, z, extra)

    def argmax(self, x, method: str = "pairs", one_hot: bool = False) -> AShare:
        """Argmax over the last axis of a 2-D share: labels (n,) or one-hot (n, C)."""
        self._operands(x)
        return am.argmax(self, x, method=method, one_hot=one_hot)

    def argmax_reveal(self, x, to, method: str = "pairs"):
        """Argmax labels revealed to ``to`` only (uint64 (n,), ``None`` where ``to`` is not
        hosted); with ``fss`` and ``pairs`` in 2 rounds (see ``argmax_reveal_fss``)."""
        self._operands(x)
        self.check_party(to, "to")
        return am.argmax_reveal(self, x, to, method=method)

    # -- timing helpers -------------------------------------------------------------------------
    def timed(self, fn, *args, **kwargs):
        """Run ``fn`` and return (result, wall seconds, dealer seconds spent inside it)."""
        d0 = self.dealer.elapsed
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        return out, time.perf_counter() - t0, self.dealer.elapsed - d0


def _as_int64(x, name: str) -> np.ndarray:
    """Integer array-like as int64 (integer-valued floats accepted), else ValueError naming it."""
    a = np.asarray(x)
    if a.dtype == np.uint64:
        if a.size and int(a.max()) >= 2**63:
            raise ValueError(f"{name} must hold int64 integers, got uint64 values >= 2^63")
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.integer) or a.dtype == bool:
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.floating) and np.all(np.isfinite(a)) and np.all(a == np.round(a)) \
            and (not a.size or np.max(np.abs(a)) < 2.0**63):
        return a.astype(np.int64)
    raise ValueError(f"{name} must hold integers (int64), got dtype {a.dtype}")
