"""The dealer: a trusted third party that hands out correlated randomness offline.

Seed compression: at set-up the dealer sends every compute party p a 16-byte seed s_p. For
request number t, party p's share of a *random* value is AES-CTR(s_p, t) — nobody sends it.
For a *derived* value v (e.g. c = a*b of a Beaver triple) parties 1..P-1 still expand their
seeds and party 0 receives one explicit correction ``v - sum_{p>=1} share_p`` (XOR for
boolean shares). So a triple costs 8 bytes per element, sent to party 0 only.

All dealer traffic is booked in the ``offline`` phase; ``elapsed`` accumulates the dealer's
compute time so that online compute can be reported apart from it.
"""
from __future__ import annotations

import contextlib
import functools
import time

import numpy as np

from fibench.mpc import prg


class Dealer:
    """Dealer for the local backend (it computes every party's share in process).

    Parameters
    ----------
    comm : Communicator
        Books the offline traffic.
    seed : bytes or None
        16-byte seed of the dealer's own randomness (``None``: from ``secrets``). Fixing it
        makes every dealer output reproducible (tests, deterministic benchmarks).
    """

    def __init__(self, comm, seed: bytes | None = None):
        self.comm = comm
        self.P = comm.n_parties
        self._counter = 0
        self.elapsed = 0.0
        self._depth = 0
        self._setup_seeds(seed)

    def _setup_seeds(self, seed: bytes | None) -> None:
        """Draw the parties' 16-byte seeds and send them (one offline round)."""
        master = prg.SeededStream(seed)
        self._own = master  # dealer's private randomness (stream ids 0..)
        raw = master.next(2 * self.P).view(np.uint8).reshape(self.P, 16)
        self._party_seeds = [bytes(raw[p]) for p in range(self.P)]
        with self.comm.offline():
            self.comm.exchange({("dealer", p): self._party_seeds[p] for p in range(self.P)}, "dealer/seeds")

    def __repr__(self) -> str:
        return f"Dealer(P={self.P}, requests={self._counter})"

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

    # -- party-side expansion ---------------------------------------------------------
    def _expand(self, p: int, stream: int, shape) -> np.ndarray:
        n = int(np.prod(shape)) if shape else 1
        return prg.expand(self._party_seeds[p], stream, n).reshape(shape)

    def _next_stream(self) -> int:
        self._counter += 1
        return self._counter

    # -- requests -------------------------------------------------------------------------
    def _timed(fn):  # noqa: N805 - decorator used inside the class body
        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            with self.offline():
                return fn(self, *args, **kwargs)

        return wrapper

    @_timed
    def random_arith(self, shape) -> tuple[np.ndarray, dict]:
        """A uniform value r (dealer's view) and its additive shares, all from seeds: 0 bytes."""
        return self._random_shared(shape, np.add)

    @_timed
    def random_bool(self, shape) -> tuple[np.ndarray, dict]:
        """A uniform word array (dealer's view) and its XOR shares, all from seeds: 0 bytes."""
        return self._random_shared(shape, np.bitwise_xor)

    def _random_shared(self, shape, combine) -> tuple[np.ndarray, dict]:
        t = self._next_stream()
        shares = {p: self._expand(p, t, shape) for p in range(self.P)}
        total = shares[0].copy()
        for p in range(1, self.P):
            combine(total, shares[p], out=total)
        return total, shares

    @_timed
    def share(self, values: list, kinds: list | None = None, label: str = "dealer") -> list[dict]:
        """Share dealer-computed uint64 arrays: ``kinds[i]`` is ``"a"`` (additive) or ``"b"`` (XOR).

        Parties >= 1 expand seeds; party 0 receives the corrections (one offline message).
        """
        kinds = kinds or ["a"] * len(values)
        out, explicit = [], []
        for v, kind in zip(values, kinds):
            v = np.ascontiguousarray(v, dtype=np.uint64)
            t = self._next_stream()
            shares = {p: self._expand(p, t, v.shape) for p in range(1, self.P)}
            s0 = v.copy()
            for p in range(1, self.P):
                if kind == "a":
                    s0 -= shares[p]
                else:
                    s0 ^= shares[p]
            shares[0] = s0
            explicit.append(s0.reshape(-1))
            out.append(shares)
        if explicit:
            msg = explicit[0] if len(explicit) == 1 else np.concatenate(explicit)
            self.comm.exchange({("dealer", 0): msg}, label)
        return out

    def random_uint64(self, n: int) -> np.ndarray:
        """Dealer-private uniform words (never leave the dealer except inside shares)."""
        return self._own.next(n)

    # -- common correlations ---------------------------------------------------------------
    @_timed
    def input_mask(self, owner, shape, label: str = "dealer/mask") -> tuple[np.ndarray, dict]:
        """A uniform mask ``a`` for an input that ``owner`` will send in masked form (x - a).

        The owner receives a 16-byte seed (``a = AES-CTR(seed)``); the compute parties get
        additive shares of ``a`` (seed expansions; party 0 receives the explicit correction,
        8 bytes per element). One offline message each. Returns ``(a, shares)``.
        """
        seed = bytes(self._own.next(2).view(np.uint8))
        n = int(np.prod(shape)) if shape else 1
        a = prg.expand(seed, 0, n).reshape(shape)
        t = self._next_stream()
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
        return a, shares

    @_timed
    def beaver_triple(self, shape_a, shape_b=None, matmul: bool = False, a=None, b=None):
        """Shares of (a, b, c) with c = a*b (elementwise) or c = a@b (``matmul=True``).

        ``a`` / ``b``: optional ``(value, shares)`` of an existing mask (an input's
        ``input_mask``) to use instead of a fresh random one."""
        from fibench.kernels.ring import ring_matmul  # local import keeps start-up light

        a, a_sh = a if a is not None else self.random_arith(shape_a)
        b, b_sh = b if b is not None else self.random_arith(shape_a if shape_b is None else shape_b)
        c = ring_matmul(a, b) if matmul else a * b
        (c_sh,) = self.share([c], label="dealer/triple")
        return a_sh, b_sh, c_sh
