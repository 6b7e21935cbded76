"""The ``local`` backend: every party and entity in one process (tests, grids, notebooks)."""
from __future__ import annotations

from fibench.mpc.comm.base import Communicator


class LocalCommunicator(Communicator):
    """All parties and entities in one process: messages are handed over in memory."""

    def __init__(self, n_parties: int, entities=("dealer", "querier")):
        super().__init__(n_parties)
        self._local = tuple(range(n_parties)) + tuple(entities)

    @property
    def local_parties(self) -> tuple:
        return self._local

    def is_local(self, party) -> bool:
        return True  # every entity (owners included) lives in this process

    def _transport(self, outgoing: dict, label: str) -> dict:
        return outgoing
