"""Communicators: the only way messages move between parties.

Protocol code is written once for a *set of local parties*: the ``local`` backend hosts all
parties in one process (``local_parties = (0, ..., P-1)``); a multi-process backend hosts one
party per process. ``exchange`` is one communication round: each local party hands in the
messages it sends, and gets back the messages addressed to it. Counts are booked from the
messages themselves, so every backend books the same bytes, messages and rounds.
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod

import numpy as np

from fibench.mpc.comm.stats import CommStats


def payload_nbytes(msg) -> int:
    if isinstance(msg, np.ndarray):
        return msg.nbytes
    if isinstance(msg, (bytes, bytearray, memoryview)):
        return len(msg)
    raise TypeError(f"a message must be a numpy array or bytes, got {type(msg).__name__}")


class Communicator(ABC):
    """Interface of every backend.

    Attributes: ``n_parties`` (compute parties 0..P-1), ``local_parties`` (the ids hosted by
    this process: ints and entity names such as ``"dealer"``), ``stats`` (a ``CommStats``) and
    ``phase`` (``"online"`` or ``"offline"``).
    """

    def __init__(self, n_parties: int):
        self.n_parties = n_parties
        self.stats = CommStats()
        self.phase = "online"

    @property
    @abstractmethod
    def local_parties(self) -> tuple:
        ...

    def is_local(self, party) -> bool:
        return party in self.local_parties

    @contextlib.contextmanager
    def offline(self):
        """Book the messages sent inside this block as offline (preprocessing) traffic."""
        prev, self.phase = self.phase, "offline"
        try:
            yield
        finally:
            self.phase = prev

    def exchange(self, outgoing: dict, label: str = "") -> dict:
        """One round. ``outgoing[(src, dst)]`` (src local) -> returns ``{(src, dst): msg}`` for local dst.

        Every process calls ``exchange`` at the same protocol step with its own messages;
        the round is booked once per process with the links it knows (the sum over
        processes is the full round).
        """
        for src, _ in outgoing:
            if not self.is_local(src):
                raise ValueError(f"party {src!r} is not hosted by this process")
        incoming = self._transport(outgoing, label)
        links = {k: payload_nbytes(v) for k, v in outgoing.items()}
        links.update({k: payload_nbytes(v) for k, v in incoming.items() if k not in links})
        self.stats.record(self.phase, links, label)
        return incoming

    def exchange_streamed(self, nbytes: dict, fill, label: str = "") -> dict:
        """One round whose messages are written while they travel (the dealer's FSS keys).

        ``nbytes[(src, dst)]`` is the size in bytes of every message of the round; every
        process passes the same dict (key sizes follow from public parameters). Where the
        senders are hosted, ``fill(bufs, ready)`` writes message ``(src, dst)`` into
        ``bufs[(src, dst)]`` (a fresh uint8 array of that size) and calls ``ready((src, dst),
        lo, hi, data=None)`` once bytes ``lo .. hi - 1`` of it are final, in order (each call
        starts where the previous one for that message ended, and the calls cover the message);
        a backend may send those bytes then. ``data`` (a uint8 array of ``hi - lo`` bytes, left
        unchanged until the round returns) gives them from elsewhere instead of ``bufs``: a
        message sent to another process then never needs a buffer of its own. Elsewhere
        ``fill`` is not called (pass ``None``). Returns the messages addressed to local parties
        and books the round, both exactly as ``exchange`` of the finished messages does.

        This version fills every message, then exchanges them: the right thing in one process.
        """
        bufs = {k: np.empty(int(v), dtype=np.uint8) for k, v in nbytes.items() if self.is_local(k[0])}
        if bufs:
            progress = StreamProgress(nbytes)

            def ready(key, lo, hi, data=None):
                progress.advance(key, lo, hi, data)
                if data is not None:
                    bufs[key][lo:hi] = data

            fill(bufs, ready)
            progress.check_done()
        return self.exchange(bufs, label)

    @abstractmethod
    def _transport(self, outgoing: dict, label: str) -> dict:
        ...


class StreamProgress:
    """Checks the ``ready`` calls of ``exchange_streamed``: per message, consecutive byte
    ranges that end at its size."""

    def __init__(self, nbytes: dict):
        self.size = {k: int(v) for k, v in nbytes.items()}
        self.done = dict.fromkeys(self.size, 0)

    def advance(self, key, lo: int, hi: int, data=None) -> None:
        if key not in self.size:
            raise ValueError(f"ready() for {key!r}, which is not a message of this round")
        if lo != self.done[key] or not lo <= hi <= self.size[key]:
            raise ValueError(f"ready({key!r}, {lo}, {hi}): the next bytes of that message start at "
                             f"{self.done[key]} and it has {self.size[key]}")
        if data is not None and not (isinstance(data, np.ndarray) and data.dtype == np.uint8
                                     and data.shape == (hi - lo,) and data.flags.c_contiguous):
            raise ValueError(f"ready({key!r}, {lo}, {hi}): data must be a contiguous uint8 array of {hi - lo} bytes")
        self.done[key] = hi

    def check_done(self) -> None:
        short = {k: (d, self.size[k]) for k, d in self.done.items() if d != self.size[k]}
        if short:
            raise ValueError(f"messages not finished by fill (bytes ready, size): {short}")
