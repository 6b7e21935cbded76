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

    @abstractmethod
    def _transport(self, outgoing: dict, label: str) -> dict:
        ...
