"""``NoDealer``: the dealer slot of a session that has none (``sharing="replicated"``).

Replicated sharing draws all its correlated randomness from the servers' pairwise PRF keys, so
nothing may ask a dealer for a correlation: every request raises ``RuntimeError`` naming it (a
protocol path that still reached for the dealer is a bug, not a silent fallback). ``elapsed``
is 0 (no dealer time) and nothing is ever booked offline.
"""
from __future__ import annotations

import contextlib


class NoDealer:
    """Stands where ``Dealer`` would; see the module docstring."""

    elapsed = 0.0

    def __init__(self, comm):
        self.comm = comm
        self.P = comm.n_parties

    @contextlib.contextmanager
    def offline(self):
        yield self

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(f"this session has no dealer (sharing='replicated'): nothing may request {name!r}")

    def __repr__(self) -> str:
        return "NoDealer()"
