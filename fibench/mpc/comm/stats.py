"""Exact communication accounting.

Every message that crosses a link is booked as real bytes, per link and per round, split into
phases ``offline`` (dealer to parties) and ``online``. Party ids are ints for compute parties
and strings for other entities (``"dealer"``, ``"querier"``, ``"owner3"``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

PHASES = ("offline", "online")


@dataclass
class Round:
    """One communication step: every message in it is sent at the same time.

    ``links`` maps ``(src, dst)`` to the bytes sent on that link in this round; ``label``
    names the protocol step (e.g. ``"mul/open"``).
    """

    phase: str
    links: dict = field(default_factory=dict)
    label: str = ""

    @property
    def bytes(self) -> int:
        return sum(self.links.values())


class CommStats:
    """All rounds recorded by a communicator, with per-party summaries."""

    def __init__(self):
        self.rounds: list[Round] = []

    def record(self, phase: str, links: dict, label: str = "") -> None:
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        links = {k: int(v) for k, v in links.items() if k[0] != k[1]}
        if links:
            self.rounds.append(Round(phase, links, label))

    def reset(self) -> None:
        self.rounds = []

    def mark(self) -> int:
        """A position in the round log; ``since(mark)`` gives the stats recorded after it."""
        return len(self.rounds)

    def since(self, mark: int) -> "CommStats":
        out = CommStats()
        out.rounds = self.rounds[mark:]
        return out

    def party_summary(self, phase: str | None = None) -> dict:
        """``{party: {bytes_sent, bytes_recv, messages, rounds}}`` for one phase (or both)."""
        per = defaultdict(lambda: {"bytes_sent": 0, "bytes_recv": 0, "messages": 0, "rounds": 0})
        for rnd in self.rounds:
            if phase is not None and rnd.phase != phase:
                continue
            involved = set()
            for (src, dst), nbytes in rnd.links.items():
                per[src]["bytes_sent"] += nbytes
                per[src]["messages"] += 1
                per[dst]["bytes_recv"] += nbytes
                involved.update((src, dst))
            for p in involved:
                per[p]["rounds"] += 1
        return dict(per)

    def n_rounds(self, phase: str = "online") -> int:
        return sum(1 for r in self.rounds if r.phase == phase)

    def summary(self, n_parties: int | None = None) -> dict:
        """Flat summary over compute parties (int ids): the maximum over parties of each count.

        Keys: ``online_bytes_sent_per_party``, ``online_bytes_recv_per_party``,
        ``online_messages_per_party``, ``online_rounds``, ``offline_bytes_per_party`` (bytes a
        party receives from the dealer), ``offline_rounds``, ``online_bytes_total``.
        """
        on = self.party_summary("online")
        off = self.party_summary("offline")

        def mx(d, key):
            vals = [v[key] for p, v in d.items() if isinstance(p, int)]
            return max(vals) if vals else 0

        return {
            "online_bytes_sent_per_party": mx(on, "bytes_sent"),
            "online_bytes_recv_per_party": mx(on, "bytes_recv"),
            "online_messages_per_party": mx(on, "messages"),
            "online_rounds": self.n_rounds("online"),
            "online_bytes_total": sum(r.bytes for r in self.rounds if r.phase == "online"),
            "offline_bytes_per_party": mx(off, "bytes_recv"),
            "offline_rounds": self.n_rounds("offline"),
        }
