"""Input sharing and output revealing.

``share`` by a compute party p: free (0 rounds, 0 bytes). At set-up every compute party sends
each peer q a fresh 16-byte key k_pq (``setup_input_keys``, one round per session); the t-th
input that p shares has q's share AES-CTR(k_pq, t) and p's share x - sum of those (pseudo-random
zero sharing, as CrypTen does with pairwise keys).
``share`` by an outside owner (``"querier"``, ``"owner3"``): the owner draws one 16-byte seed per
compute party except party 0, whose explicit share ``x - sum(others)`` it sends: 16 bytes per
party plus one vector, 1 round.
``open_arith`` / ``open_bool``: every party sends its share to every peer (1 round).
``reveal(x, to=q)``: every party except ``q`` sends its share to ``q`` (1 round).
"""
from __future__ import annotations

import numpy as np

from fibench.mpc import prg
from fibench.mpc.protocols import replicated_sharing as rs
from fibench.mpc.shares import AShare, MaskedInput


def share(ctx, raw, owner, shape, frac: int, label: str = "share") -> AShare:
    """Secret-share the uint64 array ``raw`` (known to ``owner`` only; ``None`` elsewhere)."""
    return share_many(ctx, [(raw, owner, shape, frac)], label)[0]


def setup_input_keys(ctx, label: str = "setup/input-keys") -> dict:
    """One round in which every compute party sends each peer a fresh 16-byte key (from the OS
    CSPRNG); returns ``{(p, q): key}`` for the links this process knows (p sends, q receives).
    Called once per session; afterwards ``share`` by a compute party is free."""
    P = ctx.comm.n_parties
    mine = {(p, q): prg.new_seed() for p in ctx.parties for q in range(P) if q != p}
    incoming = ctx.comm.exchange(mine, label)
    keys = dict(mine)
    keys.update({k: bytes(v) for k, v in incoming.items()})
    return keys


def _input_counter(ctx, owner: int) -> int:
    """The number of the next input compute party ``owner`` shares (the same in every process)."""
    counters = ctx.input_counters
    counters[owner] = counters.get(owner, 0) + 1
    return counters[owner]


def share_many(ctx, items: list, label: str = "share") -> list:
    """Share several inputs, possibly from different owners, in ONE round (owners send in
    parallel). ``items``: ``(raw, owner, shape, frac)`` tuples (``raw`` is ``None`` where this
    process does not host the owner), or ``(raw, owner, shape, frac, "masked")`` for an input
    sent in masked form (see ``MaskedInput``: the owner sends ``x - a`` for a dealer mask ``a``
    to every compute party, 8 bytes per element per party; a later Beaver product then opens
    nothing for it). Costs per item as in ``share``; the messages of one link are concatenated
    into one, and no round at all is run when only compute parties share plain inputs.
    Replicated sessions: ``replicated_sharing.share_many`` (1 round; no masked items)."""
    if ctx.sharing == "replicated":
        return rs.share_many(ctx, items, label)
    comm = ctx.comm
    P = comm.n_parties
    plans, links = [], {}
    for item in items:
        raw, owner, shape, frac = item[:4]
        shape = tuple(shape)
        n = int(np.prod(shape)) if shape else 1
        if item[4:] == ("masked",):
            plans.append(_plan_masked(ctx, raw, owner, shape, n, frac, links))
            continue
        if item[4:]:
            raise ValueError(f"share_many: an item's 5th field must be 'masked', got {item[4]!r}")
        inside = isinstance(owner, (int, np.integer))
        if inside:
            plans.append(_plan_inside(ctx, raw, int(owner), shape, n, frac))
            continue
        seeded = [q for q in range(1, P)]
        plan = {"owner": owner, "shape": shape, "n": n, "frac": frac, "explicit": 0, "seeded": seeded,
                "expanded": {}, "last": None}
        if comm.is_local(owner):
            raw = np.ascontiguousarray(raw, dtype=np.uint64).reshape(shape)
            seeds = {q: prg.new_seed() for q in seeded}
            plan["expanded"] = {q: prg.expand(seeds[q], 0, n).reshape(shape) for q in seeded}
            last = raw.copy()
            for q in seeded:
                last -= plan["expanded"][q]
            plan["last"] = last
            for q in seeded:
                links.setdefault((owner, q), []).append(np.frombuffer(seeds[q], dtype=np.uint8))
            links.setdefault((owner, 0), []).append(last.reshape(-1).view(np.uint8))
        plans.append(plan)
    if all(plan.get("free") for plan in plans):  # public knowledge: every process skips the round
        return [plan["share"] for plan in plans]
    msgs = {k: (v[0] if len(v) == 1 else np.concatenate(v)) for k, v in links.items()}
    incoming = comm.exchange(msgs, label)
    offsets = {}
    out = []
    for plan in plans:
        if plan.get("free"):
            out.append(plan["share"])
            continue
        if plan.get("masked"):
            out.append(_finish_masked(ctx, plan, incoming, offsets))
            continue
        owner, shape, n = plan["owner"], plan["shape"], plan["n"]
        shares = {}
        for p in ctx.parties:
            if comm.is_local(owner):
                shares[p] = plan["last"] if p == plan["explicit"] else plan["expanded"][p]
                continue
            off = offsets.get((owner, p), 0)
            buf = incoming[(owner, p)]
            if p == plan["explicit"]:
                shares[p] = buf[off: off + 8 * n].view(np.uint64).reshape(shape).copy()
                offsets[(owner, p)] = off + 8 * n
            else:
                seed = bytes(buf[off: off + 16])
                offsets[(owner, p)] = off + 16
                shares[p] = prg.expand(seed, 0, n).reshape(shape)
        out.append(AShare(shares, shape, plan["frac"]))
    return out


def _plan_inside(ctx, raw, owner: int, shape, n: int, frac: int) -> dict:
    """A compute party's input: shares from the pairwise keys, nothing sent."""
    t = _input_counter(ctx, owner)
    keys = ctx.input_keys
    others = [q for q in range(ctx.comm.n_parties) if q != owner]
    shares = {}
    if ctx.comm.is_local(owner):
        raw = np.ascontiguousarray(raw, dtype=np.uint64).reshape(-1)
        last = np.empty(n, dtype=np.uint64)
        src = raw  # the first term is taken from raw as it is written: raw itself is never changed
        for q in others:
            if q in ctx.parties:  # a co-hosted party keeps its expansion
                shares[q] = prg.expand(keys[(owner, q)], t, n).reshape(shape)
                np.subtract(src, shares[q].reshape(-1), out=last)
            else:
                prg.expand_combine(keys[(owner, q)], t, last, src, "sub")
            src = last
        shares[owner] = last.reshape(shape)
    else:
        for q in ctx.parties:
            shares[q] = prg.expand(keys[(owner, q)], t, n).reshape(shape)
    return {"free": True, "share": AShare({q: shares[q] for q in ctx.parties}, shape, frac)}


def _plan_masked(ctx, raw, owner, shape, n, frac, links) -> dict:
    comm = ctx.comm
    mask = ctx.dealer.input_mask(owner, shape)
    plan = {"masked": True, "owner": owner, "shape": shape, "n": n, "frac": frac, "mask": mask, "e": None}
    if comm.is_local(owner):
        e = np.ascontiguousarray(raw, dtype=np.uint64).reshape(shape) - mask.owner_value
        plan["e"] = e
        for q in range(comm.n_parties):
            if q != owner:
                links.setdefault((owner, q), []).append(e.reshape(-1).view(np.uint8))
    return plan


def _finish_masked(ctx, plan, incoming, offsets):
    owner, shape, n = plan["owner"], plan["shape"], plan["n"]
    e = plan["e"]
    if e is None:
        p = ctx.parties[0]
        off = offsets.get((owner, p), 0)
        e = incoming[(owner, p)][off: off + 8 * n].view(np.uint64).reshape(shape).copy()
    for p in ctx.parties:  # every local receiver consumed 8 n bytes of its link
        if p != owner and (owner, p) in incoming:
            offsets[(owner, p)] = offsets.get((owner, p), 0) + 8 * n
    return MaskedInput(e, plan["mask"], shape, plan["frac"])


def join(ctx, xs: list, fn):
    """A linear layout change or sum ``fn`` (list of arrays -> array, e.g. ``np.hstack``)
    applied to the shares of several ``AShare``s, or to the public parts and the masks of
    several ``MaskedInput``s (the dealer combines its views alike). Local, 0 bytes."""
    if isinstance(xs[0], MaskedInput):
        e = np.ascontiguousarray(fn([x.e for x in xs]))
        return MaskedInput(e, ctx.dealer.combine_masks([x.mask for x in xs], fn), e.shape, xs[0].frac)
    parts = {p: np.ascontiguousarray(fn([x.shares[p] for x in xs])) for p in xs[0].shares}
    return AShare(parts, next(iter(parts.values())).shape, xs[0].frac)


def open_arith(ctx, x: AShare, label: str = "open") -> np.ndarray:
    """Reveal ``x`` to every compute party (all-to-all, 1 round); returns the uint64 value."""
    if ctx.sharing == "replicated":
        return rs.reveal(ctx, x, None, label)
    return _open(ctx, x.shares, x.shape, label, np.add)


def open_low_bits(ctx, x: AShare, bits: int, label: str = "open") -> np.ndarray:
    """Reveal ``x mod 2**bits`` to every compute party (1 round), sending each share in the
    narrowest of 1, 2, 4 or 8 bytes that holds ``bits`` bits; returns uint64 values."""
    width = next(w for w in (8, 16, 32, 64) if w >= bits)
    dt = np.dtype(f"uint{width}")
    narrow = {p: s.astype(dt) for p, s in x.shares.items()}  # astype keeps the low bits
    return _open(ctx, narrow, x.shape, label, np.add).astype(np.uint64)


def open_bool(ctx, shares: dict, label: str = "open_bool") -> np.ndarray:
    """XOR-open per-party uint64 word arrays (bit-sliced shares), 1 round."""
    if ctx.sharing == "replicated":
        return rs.open_words(ctx, shares, label)
    shape = next(iter(shares.values())).shape
    return _open(ctx, shares, shape, label, np.bitwise_xor)


def open_split(ctx, shares: dict, label: str = "open", xor: bool = False) -> tuple:
    """Open per-party uint64 arrays of one shape (sum mod 2^64, or XOR for ``xor``) in one
    round like ``open_arith`` / ``open_bool``, but return the value as two parts ``(a, b)``
    whose sum (XOR) it is, for a kernel that combines them as it reads (``bitslice(a,
    plus=b)``, ``level_finish``): at P = 2 they are this process's share and the peer's, so no
    array is written for the value itself. Additive sessions only."""
    if ctx.sharing == "replicated":
        raise RuntimeError("open_split opens additive shares: a replicated session must not reach it")
    comm = ctx.comm
    msgs = {(p, q): shares[p] for p in ctx.parties for q in range(comm.n_parties) if q != p}
    incoming = comm.exchange(msgs, label)
    p0 = ctx.parties[0]
    shape = shares[p0].shape
    parts = [shares[q] if q in shares else incoming[(q, p0)].reshape(shape) for q in range(comm.n_parties)]
    if len(parts) == 2:
        return parts[0], parts[1]
    return _combine(parts[:-1], np.bitwise_xor if xor else np.add).reshape(shape), parts[-1]


def open_many(ctx, items: list, label: str = "open") -> list:
    """Open several arithmetic (``AShare``) or XOR (``("xor", shares)``) values in ONE round
    (additive sessions; replicated protocols open with ``replicated_sharing.reveal``)."""
    if ctx.sharing == "replicated":
        raise RuntimeError("open_many opens additive shares: a replicated session must not reach it")
    comm = ctx.comm
    flat, layout = {}, []
    for it in items:
        if isinstance(it, AShare):
            layout.append(("add", it.shape))
            sh = it.shares
        else:
            sh = it[1]
            layout.append(("xor", next(iter(sh.values())).shape))
        for p in ctx.parties:
            flat.setdefault(p, []).append(sh[p].reshape(-1))
    joined = {p: np.concatenate(v) if len(v) > 1 else v[0] for p, v in flat.items()}
    msgs = {(p, q): joined[p] for p in ctx.parties for q in range(comm.n_parties) if q != p}
    incoming = comm.exchange(msgs, label)
    p0 = ctx.parties[0]
    full = [joined[q] if q in joined else incoming[(q, p0)] for q in range(comm.n_parties)]
    outs, off = [], 0
    for kind, shape in layout:
        n = int(np.prod(shape)) if shape else 1
        op = np.add if kind == "add" else np.bitwise_xor
        outs.append(_combine([f[off: off + n] for f in full], op).reshape(shape))
        off += n
    return outs


def _combine(parts: list, op) -> np.ndarray:
    """op-reduction (sum mod 2^64, or XOR) of the parties' flat uint64 parts into a new array:
    the first two combine straight into it (no copy first), the rest in place."""
    if len(parts) == 1:
        return parts[0].copy()
    total = op(parts[0], parts[1])
    for s in parts[2:]:
        op(total, s, out=total)
    return total


def _open(ctx, shares, shape, label, op):
    comm = ctx.comm
    msgs = {(p, q): shares[p].reshape(-1) for p in ctx.parties for q in range(comm.n_parties) if q != p}
    incoming = comm.exchange(msgs, label)
    p0 = ctx.parties[0]
    parts = [shares[q].reshape(-1) if q in shares else incoming[(q, p0)] for q in range(comm.n_parties)]
    return _combine(parts, op).reshape(shape)


def reveal(ctx, x: AShare, to=None, label: str = "reveal"):
    """Reveal to all compute parties (``to=None``) or to one receiver (a party id or an
    entity such as ``"querier"``). Returns the uint64 value where this process hosts the
    receiver, else ``None``."""
    if ctx.sharing == "replicated":
        return rs.reveal(ctx, x, to, label)
    if to is None:
        return open_arith(ctx, x, label)
    comm = ctx.comm
    msgs = {(p, to): x.shares[p].reshape(-1) for p in ctx.parties if p != to}
    incoming = comm.exchange(msgs, label)
    if not comm.is_local(to):
        return None
    parts = [x.shares[to].reshape(-1)] if to in x.shares else []
    parts += [incoming[(p, to)] for p in range(comm.n_parties) if p != to]
    return _combine(parts, np.add).reshape(x.shape)
