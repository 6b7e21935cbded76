"""The dealer: a trusted third party that hands out NAMED correlations offline.

Protocols ask for what they need (``beaver_triple``, ``trunc_pair``, ``and_triple``,
``b2a_bits``, ``a2b_masks``, ``dcf_keys``, ``dpf_keys``, ``input_mask``, ``random_mask``, ``random_shares``,
``noise_shares``) and receive
the shares of the compute parties hosted by this process, never the dealer's plaintext view.
The view exists only in the process that hosts the dealer (``comm.is_local("dealer")``); a
process that does not host it expands its own parties' seeds, books the dealer's messages and
never allocates or computes the dealer's values (the ``mpi`` backend hosts the dealer on
rank 0).

Seed compression: at set-up the dealer sends every compute party p a 16-byte seed s_p (one
offline round). For request number t, party p's share of a *random* value is AES-CTR(s_p, t)
— nobody sends it. For a *derived* value v (e.g. c = a*b of a Beaver triple) parties 1..P-1
still expand their seeds and party 0 receives one explicit correction
``v - sum_{p>=1} share_p`` (XOR for boolean shares). So a triple costs 8 bytes per element,
sent to party 0 only.

All dealer traffic is booked in the ``offline`` phase; ``elapsed`` accumulates the dealer's
compute time so that online compute can be reported apart from it.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import time
import weakref
from typing import NamedTuple

import numpy as np

from fibench.kernels import bitslice as kbs
from fibench.kernels import compare as kc
from fibench.kernels import dcf as kdcf
from fibench.kernels import dpf as kdpf
from fibench.kernels import fss_tree
from fibench.kernels.ring import ring_matmul
from fibench.mpc import noise as dpnoise
from fibench.mpc import prg
from fibench.mpc.dealer.correlations import A2BMasks, FssDpfPre, FssLtzPre, InputMask, NoiseShares, TruncPair, Triple

U0 = np.uint64(0)
U1 = np.uint64(1)
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
DCF_PAYLOADS = (None, "relu", "random")
#: outputs of ``dpf_keys`` and the additive values each one comes with (shared like ``_deal``)
DPF_OUTPUTS = {"bool": 0, "arith": 1, "relu": 2}


class BitsOf(NamedTuple):
    """A value to deal given by its bit planes: the bits ``(k, n)`` of ``planes`` ``(k, nwords)``
    as 0/1 ring elements (unsliced only as party 0's correction is written)."""

    planes: np.ndarray
    n: int


def _offline(fn):
    """Run a request inside the dealer's offline block (traffic booked offline, time added)."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with self.offline():
            return fn(self, *args, **kwargs)

    return wrapper


class Dealer:
    """Provider of named correlations for the compute parties of one communicator.

    Parameters
    ----------
    comm : Communicator
        Books the offline traffic and says where the dealer and the parties live.
    seed : bytes (16) or None
        Seed of the dealer's own randomness (``None``: from ``secrets``). Fixing it makes every
        dealer output reproducible (tests, deterministic benchmarks). Only the process that
        hosts the dealer uses it.
    """

    def __init__(self, comm, seed: bytes | None = None):
        self.comm = comm
        self.P = comm.n_parties
        self.hosts_dealer = comm.is_local("dealer")
        self.parties = tuple(p for p in comm.local_parties if isinstance(p, int))
        self._counter = 0
        self.elapsed = 0.0
        self._depth = 0
        self._masks: dict = {}  # input-mask views by handle (dealer host only)
        self._handles = itertools.count(1)
        self._setup_seeds(seed)

    def _setup_seeds(self, seed: bytes | None) -> None:
        """Draw the parties' 16-byte seeds and send them (one offline round)."""
        with self.comm.offline():
            if self.hosts_dealer:
                self._own = prg.SeededStream(seed)  # dealer's private randomness
                raw = self._own.next(2 * self.P).view(np.uint8).reshape(self.P, 16)
                self._seeds = {p: bytes(raw[p]) for p in range(self.P)}
                self.comm.exchange({("dealer", p): self._seeds[p] for p in range(self.P)}, "dealer/seeds")
            else:
                self._own = None
                incoming = self.comm.exchange({}, "dealer/seeds")
                self._seeds = {p: bytes(incoming[("dealer", p)]) for p in self.parties}

    def __repr__(self) -> str:
        return f"Dealer(P={self.P}, parties={list(self.parties)}, requests={self._counter})"

    @contextlib.contextmanager
    def offline(self):
        """Preprocessing block: traffic booked offline, wall time added to ``elapsed``."""
        self._depth += 1
        t0 = time.perf_counter()
        try:
            with self.comm.offline():
                yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.elapsed += time.perf_counter() - t0

    # -- seed expansion and the two ways of dealing -------------------------------------------
    def _expand(self, p: int, stream: int, shape) -> np.ndarray:
        n = int(np.prod(shape)) if shape else 1
        return prg.expand(self._seeds[p], stream, n).reshape(shape)

    def _next_stream(self) -> int:
        self._counter += 1
        return self._counter

    def _random(self, shape, xor: bool = False):
        """A uniform value from the parties' seeds (0 bytes): ``(view, local shares)``; the
        view (sum, or XOR, of every party's expansion) is ``None`` off the dealer's host."""
        t = self._next_stream()
        if not self.hosts_dealer:
            return None, {p: self._expand(p, t, shape) for p in self.parties}
        # the view sums every party's expansion; those of parties hosted elsewhere are only
        # summands, combined into it as they are generated (prg.expand_combine), never kept
        shares = {p: self._expand(p, t, shape) for p in range(self.P) if p in self.parties}
        elsewhere = [p for p in range(self.P) if p not in shares]
        combine, mode = (np.bitwise_xor, "xor") if xor else (np.add, "add")
        terms = list(shares.values())
        total = np.empty(shape, dtype=np.uint64)
        flat = total.reshape(-1)
        if len(terms) >= 2:
            combine(terms[0], terms[1], out=total)
        elif terms:
            prg.expand_combine(self._seeds[elsewhere.pop(0)], t, flat, terms[0].reshape(-1), mode)
        else:
            prg.expand_into(self._seeds[elsewhere.pop(0)], t, flat)
        for e in terms[2:]:
            combine(total, e, out=total)
        for p in elsewhere:
            prg.expand_combine(self._seeds[p], t, flat, flat, mode)
        return total, shares

    def _deal(self, specs: list, compute, label: str) -> list[dict]:
        """Share dealer-computed values: ``specs`` lists ``(shape, xor)``, ``compute()`` returns
        the values, arrays or ``BitsOf`` (called on the dealer's host only). Parties >= 1 expand seeds; party 0
        receives the corrections in one offline message. Returns the local shares per value."""
        streams = [self._next_stream() for _ in specs]
        if not self.hosts_dealer:
            out = [{p: self._expand(p, t, shape) for p in self.parties} for (shape, _), t in zip(specs, streams)]
            if specs:
                self.comm.exchange({}, label)  # the host sends party 0's corrections; book the round
            return out
        values = compute()
        sizes = [int(np.prod(shape)) if shape else 1 for shape, _ in specs]
        msg = np.empty(sum(sizes), dtype=np.uint64)  # party 0's corrections, written in place
        out, off = [], 0
        for (shape, xor), t, v, size in zip(specs, streams, values, sizes):
            if not isinstance(v, BitsOf):
                v = np.asarray(v, dtype=np.uint64).reshape(shape)
            s0 = msg[off: off + size].reshape(shape)
            off += size
            shares = self._correction_into(s0, v, t, shape, xor)
            shares[0] = s0
            out.append({p: shares[p] for p in self.parties})
        if specs:
            self.comm.exchange({("dealer", 0): msg}, label)
        return out

    def _correction_into(self, s0: np.ndarray, v: np.ndarray, t: int, shape, xor: bool) -> dict:
        """Write party 0's correction ``v - sum_{p>=1} e_p`` (XOR for ``xor``) into ``s0``, e_p
        being party p's expansion of stream t; return the e_p of the parties hosted here.

        The expansions of parties hosted elsewhere are only summands: each is combined into
        ``s0`` as it is generated (``prg.expand_combine``) and none is kept (on the mpi backend's
        rank 0 that saves an array and a pass per correlation)."""
        mode = "xor" if xor else "sub"
        kept = {p: self._expand(p, t, shape) for p in range(1, self.P) if p in self.parties}
        elsewhere = [p for p in range(1, self.P) if p not in kept]
        flat = s0.reshape(-1)
        if isinstance(v, BitsOf):  # the bits never written on their own: unsliced minus the first term
            first = next(iter(kept.values()), None)
            if first is None:
                prg.bits_minus_into(self._seeds[elsewhere.pop(0)], t, v.planes, v.n, s0)
            else:
                kbs.unslice_planes(v.planes, v.n, minus=first.reshape(shape), out=s0)
            terms = [e for e in kept.values() if e is not first]
        else:
            terms = list(kept.values())
            if terms:
                (np.bitwise_xor if xor else np.subtract)(v, terms.pop(0), out=s0)
            else:
                prg.expand_combine(self._seeds[elsewhere.pop(0)], t, flat, np.ascontiguousarray(v).reshape(-1), mode)
        for e in terms:  # kept shares are read, never written
            (np.bitwise_xor if xor else np.subtract)(s0, e, out=s0)
        for p in elsewhere:
            prg.expand_combine(self._seeds[p], t, flat, flat, mode)
        return kept

    def _local_const(self, shape, value) -> dict:
        """Shares of a public constant: party 0 holds it, the others 0."""
        return {p: np.full(shape, value if p == 0 else 0, dtype=np.uint64) for p in self.parties}

    # -- named correlations ---------------------------------------------------------------------
    @_offline
    def random_shares(self, shape, xor: bool = False) -> dict:
        """Shares of a uniform value that no party knows (additive, or XOR for ``xor``): 0 bytes."""
        return self._random(shape, xor)[1]

    @_offline
    def input_mask(self, owner, shape, label: str = "dealer/mask") -> InputMask:
        """A uniform mask ``a`` for an input that ``owner`` will send in masked form (x - a).

        The owner receives a 16-byte seed (``a = AES-CTR(seed)``); the compute parties get
        additive shares of ``a`` (seed expansions; party 0 receives the explicit correction,
        8 bytes per element). One offline message each. The dealer keeps its view of ``a``
        under the returned handle (for ``beaver_triple``) until the ``InputMask`` is dropped.
        """
        n = int(np.prod(shape)) if shape else 1
        t = self._next_stream()
        mask = InputMask(next(self._handles), {}, None, tuple(shape))
        if not self.hosts_dealer:
            mask.shares = {p: self._expand(p, t, shape) for p in self.parties}
            msg = self.comm.exchange({}, label).get(("dealer", owner))
            if msg is not None:  # this process hosts the owner: it got the seed
                mask.owner_value = prg.expand(bytes(np.frombuffer(msg, dtype=np.uint8)[-16:]), 0, n).reshape(shape)
            return mask
        seed = prg.new_seed()
        a = prg.expand(seed, 0, n).reshape(shape)
        shares = {p: self._expand(p, t, shape) for p in range(1, self.P)}
        s0 = a.copy()
        for p in range(1, self.P):
            s0 -= shares[p]
        shares[0] = s0
        seed_msg = np.frombuffer(seed, dtype=np.uint8)
        if owner == 0:  # one message to party 0: its correction, then the seed
            msgs = {("dealer", 0): np.concatenate([s0.reshape(-1).view(np.uint8), seed_msg])}
        else:
            msgs = {("dealer", 0): s0.reshape(-1), ("dealer", owner): seed_msg}
        self.comm.exchange(msgs, label)
        mask.shares = {p: shares[p] for p in self.parties}
        if self.comm.is_local(owner):
            mask.owner_value = a
        self._keep(mask, a)
        return mask

    @_offline
    def random_mask(self, shape) -> InputMask:
        """A uniform mask ``a`` that no party knows (shares from the parties' seeds: 0 bytes),
        kept by the dealer like an ``input_mask``: once the parties open ``x - a``, x is a
        ``MaskedInput``, and Beaver products on any linear layout of it (e.g. im2col for a
        convolution: the dealer's conv triple) open nothing more."""
        view, shares = self._random(tuple(shape))
        mask = InputMask(next(self._handles), shares, None, tuple(shape))
        if self.hosts_dealer:
            self._keep(mask, view)
        return mask

    def _keep(self, mask: InputMask, view: np.ndarray) -> None:
        self._masks[mask.handle] = view
        weakref.finalize(mask, self._masks.pop, mask.handle, None)

    def combine_masks(self, masks: list, fn) -> InputMask:
        """The mask of a linear layout change or sum ``fn`` (list of arrays -> array) of masked
        inputs, applied alike to the dealer's views and the shares (local, 0 bytes)."""
        shares = {p: np.ascontiguousarray(fn([m.shares[p] for m in masks])) for p in self.parties}
        shape = next(iter(shares.values())).shape if shares else np.shape(fn([np.zeros(m.shape) for m in masks]))
        out = InputMask(next(self._handles), shares, None, shape)
        if all(m.owner_value is not None for m in masks):
            out.owner_value = np.ascontiguousarray(fn([m.owner_value for m in masks]))
        if self.hosts_dealer:
            self._keep(out, np.ascontiguousarray(fn([self._masks[m.handle] for m in masks])))
        return out

    @_offline
    def beaver_triple(self, shape_a, shape_b=None, matmul: bool = False, a: InputMask | None = None,
                      b: InputMask | None = None) -> Triple:
        """Shares of (a, b, c) with c = a*b (elementwise) or c = a@b (``matmul=True``).

        ``a`` / ``b``: an ``input_mask`` to use as that operand's mask instead of a fresh
        random one (its masked input needs no opening). Offline: 8 bytes per element of c to
        party 0, 1 message."""
        shape_b = shape_a if shape_b is None else shape_b
        va, a_sh = (self._masks.get(a.handle), a.shares) if a is not None else self._random(shape_a)
        vb, b_sh = (self._masks.get(b.handle), b.shares) if b is not None else self._random(shape_b)
        c_shape = (shape_a[0], shape_b[1]) if matmul else tuple(shape_a)
        (c_sh,) = self._deal([(c_shape, False)], lambda: [ring_matmul(va, vb) if matmul else va * vb],
                             "dealer/triple")
        return Triple(a_sh, b_sh, c_sh)

    @_offline
    def trunc_pair(self, shape, bits: int) -> TruncPair:
        """A uniform r with shares of its top bit and of ``(r mod 2^63) >> bits`` (for exact
        truncation by ``bits``): 16 bytes per element to party 0, 1 message."""
        r, r_sh = self._random(shape)

        def compute():
            return [r >> np.uint64(63), (r & np.uint64((1 << 63) - 1)) >> np.uint64(bits)]

        msb_sh, low_sh = self._deal([(tuple(shape), False)] * 2, compute, "dealer/trunc")
        return TruncPair(r_sh, msb_sh, low_sh)

    @_offline
    def noise_shares(self, shape, kind: str, scale: float) -> NoiseShares:
        """Additive shares of discrete noise z of ``kind`` (``"gaussian"``: N_Z(0, scale^2);
        ``"laplace"``: P(z) ∝ exp(-|z|/scale)), i.i.d. per element, as int64 ring elements
        (``fibench.mpc.noise``). Drawn from the dealer's own CSPRNG stream; no party, and not
        the querier, learns z (every strict subset of the parties' shares is uniform) — the
        dealer does, as it knows every correlation. 8 bytes per element to party 0, 1 offline
        message."""
        kind = dpnoise.check_kind(kind)
        scale = dpnoise.check_scale(scale, "scale")
        shape = tuple(int(d) for d in shape)
        n = int(np.prod(shape)) if shape else 1

        def compute():
            return [dpnoise.sample(kind, scale, n, self._own.next).view(np.uint64)]

        (z_sh,) = self._deal([(shape, False)], compute, "dealer/noise")
        return NoiseShares(z_sh, kind, scale, shape)

    @_offline
    def and_triple(self, shape) -> Triple:
        """Boolean Beaver triple on XOR-shared words: (a, b, a & b); 8 bytes per word to party 0."""
        a, a_sh = self._random(shape, xor=True)
        b, b_sh = self._random(shape, xor=True)
        (c_sh,) = self._deal([(tuple(shape), True)], lambda: [a & b], "dealer/and")
        return Triple(a_sh, b_sh, c_sh)

    @_offline
    def b2a_bits(self, k: int, n: int) -> tuple[dict, dict]:
        """k rows of n random bits m, bit-sliced and XOR-shared ``(k, ceil(n/64))`` and
        additively shared ``(k, n)`` (0/1 over Z_2^64): 8 bytes per bit to party 0."""
        nw = (n + 63) // 64
        m, m_sh = self._random((k, nw), xor=True)

        (m_arith,) = self._deal([((k, n), False)], lambda: [BitsOf(m, n)], "dealer/b2a")
        return m_sh, m_arith

    @_offline
    def a2b_masks(self, n: int, output: str = "arith") -> A2BMasks:
        """Everything one ``a2b`` comparison batch of n elements needs (see
        ``fibench.mpc.protocols.compare_a2b``): a uniform r shared additively and bit-sliced,
        the pair products q, boolean triples of the four AND levels (a pair's two ANDs share
        their a: ``A[lvl]`` has one row per pair, ``B``/``C`` one per AND) and the fused last level
        (with its truth table of four arithmetic words per element when ``output="arith"``).
        One message to party 0: 8 + 31/8 + 56/8 bytes per element, then 32 (the table) or
        1/8 (``output="bool"``: gamma = alpha & beta)."""
        nw = (n + 63) // 64
        r, r_sh = self._random((n,))
        views, A, B = [], [], []
        for k, hi in zip(kc.LEVEL_ANDS, kc.LEVEL_HI):  # a pair's two ANDs share their a
            a, a_sh = self._random((hi, nw), xor=True)
            b, b_sh = self._random((k, nw), xor=True)
            views.append((a, b))
            A.append(a_sh)
            B.append(b_sh)
        arith = output == "arith"
        fin, fin_sh = self._random((3 if arith else 2, nw), xor=True)  # alpha, beta(, m)
        specs = [((64, nw), True), ((31, nw), True)] + [((k, nw), True) for k in kc.LEVEL_ANDS]
        specs += [((4, n), False)] if arith else [((1, nw), True)]

        def compute():
            r_planes = kbs.bitslice(r)
            vals = [r_planes, r_planes[1:62:2] & r_planes[0:62:2]] + [kc.shared_first_operand(a) & b for a, b in views]
            if not arith:
                vals.append(fin[0:1] & fin[1:2])  # gamma = alpha & beta
                return vals
            al, be, m = fin  # the truth table U[2i + j] = m ^ ((i ^ alpha) & (j ^ beta))
            vals.append(BitsOf(np.stack([m ^ ((al ^ i) & (be ^ j)) for i in (U0, ALL) for j in (U0, ALL)]), n))
            return vals

        shared = self._deal(specs, compute, "dealer/a2b")
        nb = 2 + len(kc.LEVEL_ANDS)
        last = {"table": shared[nb]} if arith else {"gamma": shared[nb]}
        return A2BMasks(r=r_sh, r_planes=shared[0], q=shared[1], C=shared[2:nb], A=A, B=B, fin=fin_sh, **last)

    def _key_outputs(self, key0: np.ndarray, key1: np.ndarray, n: int):
        """Where FSS keys are written: ``(key0, out1, split)``. ``split`` is False where party 1
        is hosted here (``out1`` its own key buffer); True where it lives in another process:
        ``out1`` then takes party 1's root seeds only (u64 (n, 2)), since its key differs from
        party 0's only there and is sent from party 0's (``fss_tree.key1_parts``), which saves
        writing its correction words a second time."""
        if self.comm.is_local(1):
            return key0, key1, False
        return key0, np.empty((n, 2), dtype=np.uint64), True

    @staticmethod
    def _slab_sender(ready, key0: np.ndarray, out1: np.ndarray, split: bool, head: int = 0):
        """``on_slab`` of a key generation inside ``exchange_streamed``'s fill: marks each slab
        ready, party 0's key at byte ``head`` of its message, party 1's from its own buffer or
        (``split``: ``out1`` its root seeds) from party 0's key."""
        def on_slab(j0, k, lo, hi):
            ready(("dealer", 0), head + lo, head + hi)
            if not split:
                ready(("dealer", 1), lo, hi)
                return
            pos = lo
            for part in fss_tree.key1_parts(key0, out1, j0, k, lo, hi):
                ready(("dealer", 1), pos, pos + part.size, part)
                pos += part.size
        return on_slab

    @_offline
    def dcf_keys(self, n: int, bits: int = 64, payload: str | None = None, chunk: int | None = None) -> FssLtzPre:
        """DCF keys for n comparisons of ``bits``-bit values (``fibench.mpc.protocols.compare_fss``).

        The mask r is shared from the seeds (0 bytes); the two keys go to parties 0 and 1 (one
        offline round). ``payload``: ``None`` (the keys output shares of the bit), ``"relu"``
        (two words (1, r): shares of s = [x < 0] and of r s) or ``"random"`` (two fresh
        random words w per element, whose shares come with the keys: shares of w_k s)."""
        if payload not in DCF_PAYLOADS:
            raise ValueError(f"payload must be one of {DCF_PAYLOADS}, got {payload!r}")
        m = 1 if payload is None else 2
        if n == 0:  # nothing to send: no offline round either
            empty = {p: np.zeros((0, 2), dtype=np.uint64) for p in self.parties} if m == 2 else None
            return FssLtzPre(0, bits, {p: np.zeros(0, dtype=np.uint64) for p in self.parties},
                             {p: np.zeros(0, dtype=np.uint8) for p in self.parties}, m, empty)
        w = w_sh = None
        if payload == "random":
            w, w_sh = self._random((n, 2))
        r, r_sh = self._random((n,))
        if payload == "relu":
            one = self._local_const((n,), 1)
            w_sh = {p: np.stack([one[p], r_sh[p]], axis=1) for p in self.parties}
            if self.hosts_dealer:
                w = np.stack([np.ones(n, dtype=np.uint64), r], axis=1)
        K = kdcf.key_nbytes(n, bits - 1, m)
        fill = None
        if self.hosts_dealer:
            def fill(bufs, ready):  # the keys, sent slab by slab as they are generated
                low = np.uint64((1 << (bits - 1)) - 1)
                r_msb = (r >> np.uint64(bits - 1)) & U1
                beta = U1 - (r_msb << U1)  # 1 - 2 r_msb mod 2^64
                gamma = r_msb
                if m == 2:  # z scaled by each word: beta * w, gamma * w
                    beta, gamma = beta[:, None] * w, gamma[:, None] * w
                seeds = self._own.next(4 * n).reshape(n, 4)
                key0, out1, split = self._key_outputs(bufs[("dealer", 0)], bufs[("dealer", 1)], n)
                kdcf.dcf_gen(r & low, beta, bits - 1, seeds=seeds, gamma=gamma, chunk=chunk, out=(key0, out1),
                             split=split, on_slab=self._slab_sender(ready, key0, out1, split))
        incoming = self.comm.exchange_streamed({("dealer", 0): K, ("dealer", 1): K}, fill, "dealer/dcf")
        keys = {}
        for p in self.parties:
            k = incoming[("dealer", p)]
            keys[p] = k if isinstance(k, np.ndarray) else np.frombuffer(k, dtype=np.uint8)
        return FssLtzPre(n, bits, r_sh, keys, m, w_sh)

    @_offline
    def dpf_keys(self, n: int, bits: int = 64, output: str = "bool", chunk: int | None = None) -> FssDpfPre:
        """DPF comparison keys for n comparisons of ``bits``-bit values
        (``fibench.mpc.protocols.compare_dpf``; keys in ``fibench.kernels.dpf``).

        The mask r is shared from the seeds (0 bytes). The keys give XOR shares of
        ``[c_low < r_low] ^ r_msb`` (``output="bool"``), so that [x < 0] = c_msb ^ that, for
        c = x + r; with ``"arith"`` the dealer also XORs a random bit m into the keys' output
        and shares m additively, with ``"relu"`` also m r (8 bytes per element each, to party
        0 only: party 1 expands its seed). One offline message per party (label
        ``"dealer/dpf"``): party 1 gets its key, party 0 its additive corrections, then its key.
        """
        if output not in DPF_OUTPUTS:
            raise ValueError(f"output must be one of {tuple(DPF_OUTPUTS)}, got {output!r}")
        if self.P != 2:
            raise ValueError(f"dpf_keys needs n_parties = 2, got {self.P}")
        nvals = DPF_OUTPUTS[output]
        if n == 0:  # nothing to send: no offline round either
            z = {p: np.zeros(0, dtype=np.uint64) for p in self.parties}
            return FssDpfPre(0, bits, z, {p: np.zeros(0, dtype=np.uint8) for p in self.parties}, output,
                             dict(z) if nvals else None, dict(z) if nvals == 2 else None)
        r, r_sh = self._random((n,))
        streams = [self._next_stream() for _ in range(nvals)]
        vals = [{p: self._expand(p, t, (n,)) for p in self.parties if p != 0} for t in streams]
        K = kdpf.key_nbytes(n, bits - 1)
        head = 8 * nvals * n  # party 0's message: its corrections, then its key (8-byte aligned)
        fill = None
        if self.hosts_dealer:
            def fill(bufs, ready):  # party 0's corrections first, then both keys slab by slab
                msg0, key1 = bufs[("dealer", 0)], bufs[("dealer", 1)]
                r_msb = (r >> np.uint64(bits - 1)) & U1
                flip = r_msb
                derived = []
                if nvals:
                    m = kbs.unslice_bit(self._own.next((n + 63) // 64), n)
                    flip = r_msb ^ m
                    derived = [m, m * r] if nvals == 2 else [m]
                seeds = self._own.next(4 * n).reshape(n, 4)
                corr = msg0[:head].view(np.uint64).reshape(max(nvals, 1), n) if nvals else None
                for i, (v, t) in enumerate(zip(derived, streams)):
                    np.subtract(v, self._expand(1, t, (n,)), out=corr[i])  # P = 2: party 1 holds the seed part
                ready(("dealer", 0), 0, head)
                key0, out1, split = self._key_outputs(msg0[head:], key1, n)
                kdpf.dpf_cmp_gen(r & np.uint64((1 << (bits - 1)) - 1), bits - 1, seeds=seeds, flip=flip, chunk=chunk,
                                 out=(key0, out1), split=split,
                                 on_slab=self._slab_sender(ready, key0, out1, split, head))
        incoming = self.comm.exchange_streamed({("dealer", 0): head + K, ("dealer", 1): K}, fill, "dealer/dpf")
        keys = {}
        for p in self.parties:
            k = incoming[("dealer", p)]
            k = k if isinstance(k, np.ndarray) else np.frombuffer(k, dtype=np.uint8)
            if p == 0:
                corr = k[:head].view(np.uint64).reshape(nvals, n) if nvals else None
                for i in range(nvals):
                    vals[i][0] = corr[i]
                k = k[head:]
            keys[p] = k
        return FssDpfPre(n, bits, r_sh, keys, output, vals[0] if nvals else None, vals[1] if nvals == 2 else None)
