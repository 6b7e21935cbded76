"""Honest-majority 2-out-of-3 replicated secret sharing over Z_2^64 (Araki et al. 2016, ABY3):
keys, input sharing, revealing and resharing.

Scheme. A value x is split into three components x = x_0 + x_1 + x_2 (mod 2^64; XOR for
bit-sliced boolean values); server p holds the pair (x_p, x_{p+1 mod 3}). Any single server's
pair is uniform and independent of x; any two servers hold all three components. Threat model:
semi-honest, at most one of the three servers corrupt (the other two do not collude).
In a replicated session an ``AShare``'s ``shares`` dict is keyed by COMPONENT: ``shares[i]`` is
x_i, present where a local party holds it (the ``local`` backend holds 0, 1, 2; rank p of the
``mpi`` backend holds p and p+1). Every linear operation of ``fibench.mpc.protocols.arithmetic``
(add, sub, public constants on component 0, sums, layout changes) therefore works unchanged.

Correlated randomness without a dealer: at set-up server p draws a 16-byte key k_p and sends it
to server p-1 (``setup_keys``: one round, 16 bytes per server), so server p holds k_p and
k_{p+1} and every pair of servers shares one key (servers p-1 and p share k_p). ``PRFKeys``
expands them by AES-128-CTR (``fibench.mpc.prg``); each protocol call takes a fresh call number
``t`` (the same in every process: protocol code is SPMD) and separates its draws by purpose.
* a zero sharing alpha_p = F(k_p) - F(k_{p+1}) (sum 0; XOR variant for bits) is free;
* a value known to two servers (e.g. F(k_p), known to p-1 and p) needs no message at all.

Costs per element (ring element = 8 bytes):
* ``share`` by compute party o: components x_{o-1} = 0, x_{o+1} = F(k_{o+1}) (known to o and
  o+1), x_o = x - x_{o+1} sent to o-1: 1 round, 8 bytes from o to one server;
* ``share`` by an outside owner (``"querier"``, ``"owner3"``): x_1 and x_2 from two fresh seeds
  (sent to the two servers holding each), x_0 explicit to servers 2 and 0: 1 round, 16 bytes per
  element plus 64 bytes of seeds from the owner, at most 8 bytes per element into a server;
* ``reveal`` to all: server p sends x_{p+1} to server p-1 (1 round, 8 bytes per server); to one
  server q: server q+1 sends x_{q+2} (8 bytes); to an outside receiver: each server sends x_p;
* ``reshare``: a 3-out-of-3 additive sharing z (e.g. a product's local terms) becomes replicated
  when server p sends z_p + alpha_p to p-1 (1 round, 8 bytes per server; the zero sharing is
  added by the caller or here);
* ``from_pair``: a 2-out-of-2 sharing between the two non-helper servers A = h+1, B = h+2 becomes
  replicated in 1 round with A and B sending 8 bytes each and the helper h receiving nothing.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc import prg
from fibench.mpc.shares import AShare

N_SERVERS = 3
#: purposes per call (stream = call * PURPOSES + purpose)
PURPOSES = 256


def nxt(p: int) -> int:
    return (p + 1) % 3


def prv(p: int) -> int:
    return (p + 2) % 3


def roles(t: int) -> tuple[int, int, int]:
    """``(h, A, B)`` of call ``t``: the helper h = t mod 3 (it rotates, which balances the load
    over calls) and the two servers A = h+1, B = h+2 that share a key (k_B) without it."""
    h = t % 3
    return h, nxt(h), prv(h)


class PRFKeys:
    """The pairwise PRF keys of the servers hosted by this process: ``keys[i]`` = k_i, held by
    servers i-1 and i. ``call()`` numbers protocol calls; ``expand(i, t, purpose, n)`` is
    AES-CTR(k_i) on stream ``t * PURPOSES + purpose``: ``(n,)`` uint64, known to both holders."""

    def __init__(self, keys: dict):
        self._keys = dict(keys)
        self.counter = 0

    def call(self) -> int:
        self.counter += 1
        return self.counter

    def holds(self, i: int) -> bool:
        return i % 3 in self._keys

    def expand(self, i: int, t: int, purpose: int, n: int) -> np.ndarray:
        if not 0 <= purpose < PURPOSES:
            raise ValueError(f"purpose must be in [0, {PURPOSES}), got {purpose}")
        return prg.expand(self._keys[i % 3], t * PURPOSES + purpose, int(n))

    def __repr__(self) -> str:  # never show a key
        return f"PRFKeys(keys={sorted(self._keys)}, calls={self.counter})"


def setup_keys(ctx, label: str = "setup/prf-keys") -> PRFKeys:
    """One round: server p sends a fresh key k_p (from ``secrets``) to server p-1."""
    mine = {p: prg.new_seed() for p in ctx.parties}
    incoming = ctx.comm.exchange({(p, prv(p)): mine[p] for p in ctx.parties}, label)
    keys = dict(mine)
    for p in ctx.parties:
        if nxt(p) not in keys:
            keys[nxt(p)] = bytes(incoming[(nxt(p), p)])
    return PRFKeys(keys)


def components(ctx) -> tuple:
    """The share components held by this process's servers (sorted)."""
    return tuple(sorted({c for p in ctx.parties for c in (p, nxt(p))}))


def zero_shares(ctx, t: int, purpose: int, n: int, xor: bool = False) -> dict:
    """``{p: alpha_p}`` for the local servers: alpha_p = F(k_p) - F(k_{p+1}) (XOR: ^), sum 0."""
    F = {}
    for p in ctx.parties:
        for i in (p, nxt(p)):
            if i not in F:
                F[i] = ctx.prf.expand(i, t, purpose, n)
    if xor:
        return {p: F[p] ^ F[nxt(p)] for p in ctx.parties}
    return {p: F[p] - F[nxt(p)] for p in ctx.parties}


def reshare(ctx, z: dict, shape: tuple, frac: int, label: str) -> AShare:
    """3-out-of-3 ``z`` (``{p: z_p}`` for local servers, already re-randomised by a zero
    sharing) -> replicated: server p sends z_p to p-1 (1 round, 8 bytes per element per server;
    for bit-sliced words the same words)."""
    inc = ctx.comm.exchange({(p, prv(p)): np.ascontiguousarray(z[p]).reshape(-1) for p in ctx.parties}, label)
    out = {}
    for p in ctx.parties:
        out[p] = np.ascontiguousarray(z[p]).reshape(shape)
        q = nxt(p)
        if q not in out:
            out[q] = np.ascontiguousarray(z[q]).reshape(shape) if q in z else inc[(q, p)].reshape(shape).copy()
    return AShare(out, shape, frac)


def from_pair(ctx, t: int, y: dict, shape: tuple, frac: int, label: str, purpose: int = 250,
              xor: bool = False) -> AShare:
    """2-out-of-2 ``y`` (``{A: y_A, B: y_B}`` for the local ones of the call's A and B, value
    y_A + y_B, or XOR) -> replicated. Components: x_h = F(k_h) (h and B know it), x_{h+1} =
    F(k_{h+1}) (h and A), x_{h+2} = (y_A - x_{h+1}) + (y_B - x_h), exchanged between A and B
    (1 round, 8 bytes per element each; the helper h receives nothing and its pair is
    independent of the value)."""
    h, A, B = roles(t)
    n = int(np.prod(shape)) if shape else 1
    out, links = {}, {}
    sub = np.bitwise_xor if xor else np.subtract
    mine = {}
    if ctx.prf.holds(h) and (h in ctx.parties or B in ctx.parties):
        out[h] = ctx.prf.expand(h, t, purpose, n)
    if ctx.prf.holds(A) and (h in ctx.parties or A in ctx.parties):
        out[A] = ctx.prf.expand(A, t, purpose, n)
    if A in ctx.parties:
        mine[A] = sub(y[A].reshape(-1), out[A])
        links[(A, B)] = mine[A]
    if B in ctx.parties:
        mine[B] = sub(y[B].reshape(-1), out[h])
        links[(B, A)] = mine[B]
    inc = ctx.comm.exchange(links, label)
    if A in ctx.parties or B in ctx.parties:
        a = mine[A] if A in mine else inc[(A, B)]
        b = mine[B] if B in mine else inc[(B, A)]
        out[B] = (a ^ b) if xor else (a + b)
    keep = components(ctx)
    return AShare({c: out[c].reshape(shape) for c in keep}, shape, frac)


# -- input sharing ------------------------------------------------------------------------------

def share_many(ctx, items: list, label: str = "share") -> list:
    """Share several inputs (``(raw, owner, shape, frac)``; ``raw`` is ``None`` where the owner
    is not hosted) in ONE round; costs per item as in the module docstring."""
    comm = ctx.comm
    plans, links = [], {}
    for item in items:
        if item[4:]:
            raise ValueError("replicated sharing has no dealer masks: an item's 5th field ('masked') is "
                             "for sharing='additive' only")
        raw, owner, shape, frac = item[:4]
        shape = tuple(shape)
        n = int(np.prod(shape)) if shape else 1
        plan = {"owner": owner, "shape": shape, "n": n, "frac": frac, "comp": {}}
        here = comm.is_local(owner)
        if here:
            raw = np.ascontiguousarray(raw, dtype=np.uint64).reshape(-1)
        if isinstance(owner, (int, np.integer)):
            o = int(owner)
            t = ctx.prf.call()
            plan.update(kind="inside", o=o)
            if ctx.prf.holds(nxt(o)):
                plan["comp"][nxt(o)] = ctx.prf.expand(nxt(o), t, 0, n)  # known to o and o+1
            plan["comp"][prv(o)] = np.zeros(n, dtype=np.uint64)
            if here:
                xo = raw - plan["comp"][nxt(o)]
                plan["comp"][o] = xo
                links.setdefault((o, prv(o)), []).append(xo.view(np.uint8))
        else:
            plan["kind"] = "outside"
            if here:
                s1, s2 = prg.new_seed(), prg.new_seed()
                x1, x2 = prg.expand(s1, 0, n), prg.expand(s2, 0, n)
                plan["comp"] = {0: raw - x1 - x2, 1: x1, 2: x2}
                for dst, parts in ((0, [s1, plan["comp"][0]]), (1, [s1, s2]), (2, [s2, plan["comp"][0]])):
                    for part in parts:
                        links.setdefault((owner, dst), []).append(
                            np.frombuffer(part, dtype=np.uint8) if isinstance(part, bytes) else part.view(np.uint8))
        plans.append(plan)
    msgs = {k: (v[0] if len(v) == 1 else np.concatenate(v)) for k, v in links.items()}
    incoming = comm.exchange(msgs, label)
    offsets, out = {}, []
    for plan in plans:
        owner, shape, n, comp = plan["owner"], plan["shape"], plan["n"], plan["comp"]
        if plan["kind"] == "inside":
            o = plan["o"]
            if o not in comp and prv(o) in ctx.parties:  # server o-1 receives x_o
                comp[o] = _take(incoming, (o, prv(o)), offsets, 8 * n).view(np.uint64).copy()
        elif not comm.is_local(owner):
            for p in ctx.parties:  # what each receiving server parses, in the owner's order
                if p == 0:
                    seed, vec = _take(incoming, (owner, 0), offsets, 16), _take(incoming, (owner, 0), offsets, 8 * n)
                    comp[1] = prg.expand(bytes(seed), 0, n)
                    comp[0] = vec.view(np.uint64).copy()
                elif p == 1:
                    s1, s2 = _take(incoming, (owner, 1), offsets, 16), _take(incoming, (owner, 1), offsets, 16)
                    comp[1], comp[2] = prg.expand(bytes(s1), 0, n), prg.expand(bytes(s2), 0, n)
                else:
                    seed, vec = _take(incoming, (owner, 2), offsets, 16), _take(incoming, (owner, 2), offsets, 8 * n)
                    comp[2] = prg.expand(bytes(seed), 0, n)
                    comp[0] = vec.view(np.uint64).copy()
        out.append(AShare({c: comp[c].reshape(shape) for c in components(ctx)}, shape, plan["frac"]))
    return out


def _take(incoming, link, offsets, nbytes: int) -> np.ndarray:
    off = offsets.get(link, 0)
    offsets[link] = off + nbytes
    return incoming[link][off: off + nbytes]


# -- revealing ----------------------------------------------------------------------------------

def reveal(ctx, x: AShare, to=None, label: str = "reveal", xor: bool = False):
    """Open ``x`` to every server (``to=None``), to server ``to`` or to an outside receiver;
    returns the uint64 value (XOR-combined with ``xor``) where the receiver is hosted, else
    ``None``. Costs: module docstring."""
    comm, parties = ctx.comm, ctx.parties
    flat = {c: np.ascontiguousarray(s).reshape(-1) for c, s in x.shares.items()}
    if to is None:
        links = {(p, prv(p)): flat[nxt(p)] for p in parties}
    elif isinstance(to, (int, np.integer)):
        q = int(to)
        links = {(nxt(q), q): flat[prv(q)]} if nxt(q) in parties else {}
    else:
        links = {(p, to): flat[p] for p in parties}
    inc = comm.exchange(links, label)
    if to is not None and not comm.is_local(to):
        return None
    have = dict(flat)
    if to is None:
        for p in parties:
            if prv(p) not in have:
                have[prv(p)] = inc[(nxt(p), p)]
    elif isinstance(to, (int, np.integer)):
        q = int(to)
        if prv(q) not in have:
            have[prv(q)] = inc[(nxt(q), q)]
    else:
        for p in range(N_SERVERS):
            if p not in have:
                have[p] = inc[(p, to)]
    op = np.bitwise_xor if xor else np.add
    total = op(op(have[0], have[1]), have[2])
    return total.reshape(x.shape)


def open_words(ctx, words: dict, label: str = "open_bool") -> np.ndarray:
    """XOR-open component-keyed word arrays (replicated bit-sliced shares) to every server."""
    shape = next(iter(words.values())).shape
    return reveal(ctx, AShare(words, shape, 0), None, label, xor=True)
