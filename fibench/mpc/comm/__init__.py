"""Transport only: the communicator interface, the in-process backend and exact accounting.

``base`` (interface, byte counting), ``local`` (all parties in one process), ``mpi`` (one
process per party; imported on demand), ``stats`` (rounds, per-party summaries). A
communicator knows where parties and entities live, never what their messages mean.
"""
from fibench.mpc.comm.base import Communicator, payload_nbytes
from fibench.mpc.comm.local import LocalCommunicator
from fibench.mpc.comm.stats import CommStats, Round

__all__ = ["Communicator", "LocalCommunicator", "CommStats", "Round", "payload_nbytes"]
