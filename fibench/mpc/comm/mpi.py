"""The ``mpi`` backend: one process (MPI rank) per compute party, over mpi4py.

Placement
---------
Rank ``r`` hosts compute party ``r``; rank 0 (``ENTITY_RANK``) also hosts every entity: the
dealer, the querier and outside input owners (any string id such as ``"owner3"``). The number
of ranks must equal the number of compute parties P (``mpiexec -n P``).

The dealer lives on rank 0 as a *trusted first party* (CrypTen's TFP provider does the same):
``fibench.mpc.dealer`` sees ``is_local("dealer")`` there, computes its values and sends what
other ranks need as real MPI messages; on other ranks it only expands its own party's seed and
books the dealer's messages. This is a benchmarking placement: it costs and books exactly what a
separate dealer machine would (party 0's corrections are booked as offline ``dealer -> 0``
bytes), but a deployment must run the dealer on a machine of its own. The communicator itself
knows where entities live, not what they send.

Rounds and accounting
---------------------
``exchange`` is one round for every rank, called at the same protocol step (protocol code is
SPMD). Online, every rank sends ONE message to every other rank: the payload addressed to the
parties it hosts (possibly empty) and a header listing the sizes of *all* links this rank sends
on in the round. So every rank learns the complete round and books it: ``comm.stats`` on every
rank equals the ``local`` backend's stats for the same computation (bytes, messages, rounds,
labels, order). Offline rounds come from the dealer only: rank 0 sends one message to every
other rank (payload plus header) and never waits for them. A streamed offline round
(``exchange_streamed``, the FSS keys) sends the header first and then each finished part of a
message (a key slab, ``fibench.kernels.fss_tree.SLAB`` comparisons) as a raw MPI message while
the dealer generates the next part, so that the receiving rank copies one slab while rank 0
computes the next; it books the same round as ``exchange``.

Delay injection
---------------
``set_delay(link_model)`` (an object with ``params(src, dst)``, e.g. ``fibench.bench.network.LinkDelay``
built from a network profile) emulates the network on one machine: every online message on a link between two distinct parties (co-hosted ones included,
e.g. querier -> party 0) is delivered at ``t_send + bytes * 8 / bandwidth + RTT / 2``, each link
paced on its own (a message starts when the previous one on the same link has been sent). The
receiver sleeps until the last delivery of the round. Offline (dealer) traffic is not delayed:
the offline phase is modelled as done ahead of the queries. The clock is ``time.time()``:
delay injection is meant for ranks on one host (validation of the network model); across hosts
use the real network and no injection.

Waiting for messages polls ``MPI.Improbe``: for ``spin_s`` without pause (2 ms where the host has
a core per rank, else 20 us), then with ``poll_sleep_s`` sleeps between polls, so that idle ranks
leave the CPU to busy ones (MPICH's blocking receive spins, which on a machine with fewer cores
than ranks slows everybody down).
"""
from __future__ import annotations

import contextlib
import os
import statistics
import time

import numpy as np

from fibench.mpc.comm.base import Communicator, StreamProgress, payload_nbytes

ENTITY_RANK = 0
_TAG = 7031
_STREAM_TAG = 7100  # + the message's index in a streamed round: its parts
_SPINS = 64  # polls before the first sleep in barrier()

__all__ = ["ENTITY_RANK", "MPICommunicator", "MPIRankMismatchError", "MPIUnavailableError", "require_mpi"]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class MPIUnavailableError(RuntimeError):
    """mpi4py (or an MPI library / launcher) is not installed or cannot start."""


class MPIRankMismatchError(ValueError):
    """The number of MPI ranks differs from the number of compute parties."""


_INSTALL_HINT = ("the mpi backend needs mpi4py and an MPI library with its launcher (mpiexec): "
                 "pip install 'fibench[mpi]' (installs mpi4py and the mpich wheel), or install "
                 "MPICH / Open MPI from your system and then pip install mpi4py")


def require_mpi():
    """Import and return ``mpi4py.MPI``; raise ``MPIUnavailableError`` with an install hint."""
    try:
        from mpi4py import MPI
    except ImportError as exc:  # no mpi4py, or no libmpi behind it
        raise MPIUnavailableError(f"{_INSTALL_HINT} ({exc})") from None
    return MPI


class MPICommunicator(Communicator):
    """One compute party per MPI rank; see the module docstring.

    Parameters
    ----------
    n_parties : int or None
        Number of compute parties P; must equal the number of ranks (``None``: the number of
        ranks). A mismatch raises ``MPIRankMismatchError``.
    mpi_comm : mpi4py communicator or None
        Default ``MPI.COMM_WORLD`` (duplicated, so fibench's traffic never mixes with the caller's).
    delay : link model or None
        Delay injection (see ``set_delay``).
    poll_sleep_s : float
        Sleep between polls while waiting for a message (0: spin).
    spin_s : float or None
        How long a wait polls without sleeping first. ``None``: 2 ms where this host has at least
        one core per rank on it (a sleep between polls delays a message by up to ~0.1 ms, which
        adds up over the small rounds of an argmax: fss-dpf argmax 1000 x 10 on two ranks, MPI
        dealer 4.6-5.0 ms at 2 ms against 5.7-7.3 ms at 0.2 ms), else 20 us (spinning ranks
        would take the cores of busy ones).
    """

    def __init__(self, n_parties: int | None = None, mpi_comm=None, delay=None, poll_sleep_s: float = 50e-6,
                 spin_s: float | None = None):
        MPI = require_mpi()
        from mpi4py.util import pkl5

        world = MPI.COMM_WORLD if mpi_comm is None else mpi_comm
        size = world.Get_size()
        if n_parties is None:
            n_parties = size
            if size < 2:
                raise MPIRankMismatchError(
                    "the mpi backend runs one rank per compute party and needs at least 2 ranks; "
                    f"{size} was started (launch with: mpiexec -n P ..., P >= 2)")
        if size != n_parties:
            raise MPIRankMismatchError(
                f"the mpi backend runs one rank per compute party: P = {n_parties} parties but "
                f"{size} MPI rank(s) were started (launch with: mpiexec -n {n_parties} ...)")
        super().__init__(int(n_parties))
        self._mpi = MPI
        self._raw = world.Dup()
        self._comm = pkl5.Intracomm(self._raw)
        self.rank = self._raw.Get_rank()
        self._peers = [r for r in range(size) if r != self.rank]
        self._seq = 0
        self._link_free: dict = {}
        self.poll_sleep_s = float(poll_sleep_s)
        if spin_s is None:
            node = self._raw.Split_type(MPI.COMM_TYPE_SHARED)
            ranks_here = node.Get_size()
            node.Free()
            spin_s = 2e-3 if ranks_here <= _usable_cores() else 20e-6
        self.spin_s = float(spin_s)
        self.delay = None
        self.set_delay(delay)
        #: seconds slept for injected delays (online), for diagnostics
        self.injected_s = 0.0

    # -- placement -----------------------------------------------------------------------------
    @property
    def local_parties(self) -> tuple:
        if self.rank == ENTITY_RANK:
            return (self.rank, "dealer", "querier")
        return (self.rank,)

    def is_local(self, party) -> bool:
        if isinstance(party, str):
            return self.rank == ENTITY_RANK
        return party == self.rank

    def rank_of(self, party) -> int:
        if isinstance(party, str):
            return ENTITY_RANK
        p = int(party)
        if not 0 <= p < self.n_parties:
            raise ValueError(f"party must be in [0, {self.n_parties - 1}] or an entity name, got {party!r}")
        return p

    @property
    def size(self) -> int:
        return self.n_parties

    def __repr__(self) -> str:
        return f"MPICommunicator(P={self.n_parties}, rank={self.rank}, delay={self.delay!r})"

    # -- delay injection -------------------------------------------------------------------------
    def set_delay(self, delay=None) -> None:
        """Emulate a network on every online message: ``delay`` is a link model with
        ``params(src, dst) -> (one-way seconds, bits per second)`` (e.g.
        ``fibench.bench.network.LinkDelay``), or ``None`` (off)."""
        if delay is not None and not callable(getattr(delay, "params", None)):
            raise TypeError(f"delay must be None or a link model with params(src, dst), got {type(delay).__name__}")
        self.delay = delay
        self._link_free = {}

    def _deliver_at(self, src, dst, nbytes: int, now: float) -> float:
        one_way, bw = self.delay.params(src, dst)
        start = max(now, self._link_free.get((src, dst), 0.0))
        sent = start + 8.0 * nbytes / bw
        self._link_free[(src, dst)] = sent
        return sent + one_way

    # -- rounds ----------------------------------------------------------------------------------
    def exchange(self, outgoing: dict, label: str = "") -> dict:
        """One round (see ``Communicator.exchange``); every rank books the complete round."""
        for src, _ in outgoing:
            if not self.is_local(src):
                raise ValueError(f"party {src!r} is not hosted by rank {self.rank}")
        self._seq += 1
        links = {k: payload_nbytes(v) for k, v in outgoing.items()}
        if self.phase == "offline":
            incoming, links = self._dealer_round(outgoing, links)
        else:
            incoming, links = self._full_round(outgoing, links)
        self.stats.record(self.phase, links, label)
        return incoming

    def _transport(self, outgoing: dict, label: str) -> dict:  # pragma: no cover - exchange is overridden
        raise NotImplementedError

    def _split(self, outgoing: dict, delay: bool):
        """Per destination rank: list of (src, dst, msg, deliver_at); local deliveries apart."""
        now = time.time()
        per_rank: dict = {r: [] for r in self._peers}
        local, last = {}, 0.0
        for (src, dst), msg in outgoing.items():
            t = self._deliver_at(src, dst, payload_nbytes(msg), now) if delay and src != dst else 0.0
            r = self.rank_of(dst)
            if r == self.rank:
                local[(src, dst)] = msg
                last = max(last, t)
            else:
                per_rank[r].append((src, dst, msg, t))
        return per_rank, local, last

    def _full_round(self, outgoing: dict, links: dict):
        delay = self.delay is not None
        per_rank, incoming, last = self._split(outgoing, delay)
        reqs = [self._comm.isend((self._seq, links, per_rank[r]), r, _TAG) for r in self._peers]
        links = dict(links)
        for seq, their_links, items in self._recv_all(self._peers):
            self._check_seq(seq)
            links.update(their_links)
            for src, dst, msg, t in items:
                incoming[(src, dst)] = msg
                last = max(last, t)
        self._wait_sends(reqs)
        if delay:
            wait = last - time.time()
            if wait > 0:
                time.sleep(wait)
                self.injected_s += wait
        return incoming, links

    def _dealer_round(self, outgoing: dict, links: dict):
        """Offline round: only rank 0 (the dealer's host) sends; the others receive its header."""
        if self.rank == ENTITY_RANK:
            per_rank, incoming, _ = self._split(outgoing, False)
            reqs = [self._comm.isend((self._seq, links, per_rank[r]), r, _TAG) for r in self._peers]
            self._wait_sends(reqs)
            return incoming, links
        if outgoing:
            raise ValueError(f"offline rounds carry dealer messages only; rank {self.rank} tried to send "
                             f"on {sorted(outgoing, key=str)}")
        ((seq, links, items),) = self._recv_all([ENTITY_RANK])
        self._check_seq(seq)
        return {(src, dst): msg for src, dst, msg, _ in items}, dict(links)

    def exchange_streamed(self, nbytes: dict, fill, label: str = "") -> dict:
        """An offline round streamed (see ``Communicator.exchange_streamed``): rank 0 sends the
        round's header, then each ``ready`` range of a message for another rank as one raw
        message (no copy, no pickling) while ``fill`` writes the rest, so that the receiver's
        copy overlaps the dealer's work; receivers take the parts in order into one buffer
        per message."""
        if self.phase != "offline":
            raise ValueError("exchange_streamed carries offline (dealer) rounds only")
        self._seq += 1
        links = {k: int(v) for k, v in nbytes.items()}
        order = sorted(links, key=str)  # the same on every rank: message i's parts carry tag _STREAM_TAG + i
        tags = {k: _STREAM_TAG + i for i, k in enumerate(order)}
        if self.rank == ENTITY_RANK:
            for src, _ in links:
                if not self.is_local(src):
                    raise ValueError(f"a streamed round carries dealer messages only, got one from {src!r}")
            bufs = {k: np.empty(links[k], dtype=np.uint8) for k in order}  # untouched where data comes apart
            reqs = [self._comm.isend((self._seq, links), r, _TAG) for r in self._peers]
            progress = StreamProgress(links)

            def ready(key, lo, hi, data=None):
                progress.advance(key, lo, hi, data)
                r = self.rank_of(key[1])
                if r == self.rank:
                    if data is not None:
                        bufs[key][lo:hi] = data
                elif hi > lo:
                    reqs.append(self._raw.Isend(bufs[key][lo:hi] if data is None else data, r, tags[key]))

            fill(bufs, ready)
            progress.check_done()
            self._wait_sends(reqs)
            incoming = {k: b for k, b in bufs.items() if self.rank_of(k[1]) == self.rank}
        else:
            ((seq, theirs),) = self._recv_all([ENTITY_RANK])
            self._check_seq(seq)
            if theirs != links:
                raise RuntimeError(f"mpi backend out of step on rank {self.rank}: streamed round {seq} has "
                                   f"messages {theirs}, this rank expected {links}")
            incoming = {k: self._recv_parts(links[k], tags[k]) for k in order if self.rank_of(k[1]) == self.rank}
        self.stats.record(self.phase, links, label)
        return incoming

    def _recv_parts(self, size: int, tag: int) -> np.ndarray:
        """The parts of one streamed message from rank 0, in order, into one buffer."""
        buf = np.empty(size, dtype=np.uint8)
        status = self._mpi.Status()
        off, deadline = 0, None
        while off < size:
            msg = self._raw.Improbe(ENTITY_RANK, tag, status)
            if msg is None:
                deadline = self._idle(deadline)
                continue
            count = status.Get_count(self._mpi.BYTE)
            if off + count > size:
                raise RuntimeError(f"mpi backend: a streamed message of {size} bytes got {off + count}")
            msg.Recv(buf[off: off + count])
            off += count
            deadline = None
        return buf

    def _check_seq(self, seq: int) -> None:
        if seq != self._seq:
            raise RuntimeError(f"mpi backend out of step on rank {self.rank}: round {self._seq} received a "
                               f"message of round {seq} (the ranks did not run the same protocol steps)")

    def _recv_all(self, sources) -> list:
        """Receive one message from each source rank (in arrival order); polls for ``spin_s``,
        then sleeps ``poll_sleep_s`` between polls."""
        pending = list(sources)
        out = []
        deadline = None
        while pending:
            got = False
            for r in list(pending):
                msg = self._comm.improbe(r, _TAG)
                if msg is not None:
                    out.append(msg.recv())
                    pending.remove(r)
                    got = True
            if not got:
                deadline = self._idle(deadline)
        return out

    def _wait_sends(self, reqs) -> None:
        deadline = None
        while reqs:
            reqs = [q for q in reqs if not q.test()[0]]
            if reqs:
                deadline = self._idle(deadline)

    def _idle(self, deadline):
        now = time.perf_counter()
        if deadline is None:
            return now + self.spin_s
        if now > deadline and self.poll_sleep_s > 0:
            time.sleep(self.poll_sleep_s)
        return deadline

    # -- collectives for harnesses (not protocol traffic, never booked) ----------------------------
    def barrier(self) -> None:
        """A barrier that sleeps while it waits (``MPI_Barrier`` spins)."""
        req = self._raw.Ibarrier()
        spins = 0
        while not req.Test():
            spins += 1
            if spins > _SPINS:
                time.sleep(max(self.poll_sleep_s, 1e-4))

    def gather(self, obj, root: int = 0):
        """Gather a small picklable object on ``root`` (others get ``None``)."""
        self.barrier()
        return self._raw.gather(obj, root=root)

    def bcast(self, obj, root: int = 0):
        self.barrier()
        return self._raw.bcast(obj, root=root)

    def timed(self, fn, reps: int = 3, dealer=None) -> dict:
        """Time ``fn()`` on every rank (each call starts after a barrier). Collective.

        Returns on rank 0: ``times`` (per call, the slowest rank's wall time), ``dealer`` (per
        call, rank 0's dealer seconds inside it), ``online`` (per call, rank 0's wall minus its
        dealer seconds) and their medians ``time_s``, ``dealer_s``, ``online_s``; ``None`` on
        other ranks.
        """
        walls, deals = [], []
        for _ in range(max(1, reps)):
            self.barrier()
            d0 = dealer.elapsed if dealer is not None else 0.0
            t0 = time.perf_counter()
            fn()
            walls.append(time.perf_counter() - t0)
            deals.append((dealer.elapsed - d0) if dealer is not None else 0.0)
        allw = self.gather((walls, deals))
        if self.rank != 0:
            return None
        times = [max(w[i] for w, _ in allw) for i in range(len(walls))]
        online = [walls[i] - deals[i] for i in range(len(walls))]
        return {"times": times, "dealer": deals, "online": online, "time_s": statistics.median(times),
                "time_min_s": min(times), "time_max_s": max(times), "dealer_s": statistics.median(deals),
                "online_s": statistics.median(online)}

    @contextlib.contextmanager
    def delayed(self, delay):
        """Delay injection (a link model, see ``set_delay``) inside a block."""
        prev = self.delay
        self.set_delay(delay)
        try:
            yield self
        finally:
            self.set_delay(prev)
