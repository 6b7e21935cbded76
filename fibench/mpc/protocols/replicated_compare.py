"""Secure comparison [x < 0] on 2-out-of-3 replicated shares (3 servers, no dealer).

Bit decomposition by the a2b borrow-lookahead circuit (``fibench.kernels.compare``), with the
call's helper h in the dealer's place. Server h knows u = x_h + x_{h+1}; the other two, A = h+1
and B = h+2, both know w = x_{h+2}; x = w - r for r = -u. So A and B run the two-party a2b
circuit on the PUBLIC (to them) c = w and the bits of r, which h deals them:

Round 1 (only h sends, to B): B's XOR shares of the 64 bits of r and of the 31 pair products
q_j = r_{2j+1} & r_{2j} (the free leaves), the third shares c = a & b of the 57 boolean Beaver
triples of the tree and, for the arithmetic output, B's ring share of the mask bit m. Every share
of A, and B's shares of a, b, m, come from the PRF keys h shares with A (k_{h+1}) and with B
(k_h): nothing is sent for them. 152 bits + 8 bytes = 27 bytes per element.
Rounds 2-5: four AND levels (31, 15, 7, 3 gates per element); round 6: the last gate
(P_hi & G_lo); A and B exchange 2 bits per gate: 14.25 bytes each. Now A and B hold XOR
shares s_A ^ s_B of the sign bit.
Boolean output (``ltz_bool``): round 7 makes them replicated (``from_pair``, 1 bit each).
Arithmetic output (``ltz``): round 7 opens w = s ^ m between A and B (1 bit each), so that
s = w + (1 - 2w) m is a 2-out-of-2 sharing from their ring shares of m; round 8 makes it
replicated (8 bytes each).

Cost of ``ltz`` per element: 8 rounds, 0 offline bytes; h sends 27 bytes, A and B 22.4 bytes
each (n a multiple of 64); the helper rotates over calls. Security against one corrupt server:
h receives no message at all; A and B see B's corrections (XOR/ring masks from the key they do
not share with h), opened Beaver differences (masked by a or b) and w (masked by m), all
uniform.

ReLU (``relu``, 8 rounds): h also deals ring shares of a random a (free) and of m * a (8 bytes
more), round 7 opens w = (1 - s) ^ m and e = x - a between A and B, which makes x * (1 - s)
linear in their shares (``_relu_finish``); round 8 reshares. Per element: h 35 bytes, A and B
30.4. argmax uses the generic AND tree on the boolean output (``fibench.mpc.protocols.argmax``),
``argmax_reveal`` opens the one-hot winners to the receiver without a B2A.
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import bitslice as kbs
from fibench.kernels import compare as kc
from fibench.mpc.protocols import argmax as am
from fibench.mpc.protocols.compare import ComparisonProtocol
from fibench.mpc.protocols.replicated_sharing import from_pair, reveal, roles
from fibench.mpc.shares import AShare

N_LEVELS = len(kc.LEVEL_ANDS)


def _planes(prf, key: int, t: int, purpose: int, rows: int, nw: int) -> np.ndarray:
    return prf.expand(key, t, purpose, rows * nw).reshape(rows, nw)


def _corrections(ctx, t, x, n, nw, out: str):
    """The helper's message to B: XOR corrections of r's bits, q, the triples' c and the ring
    corrections of m (``out`` "arith" and "relu") and of m * a ("relu"); returns
    ``(message, parts)`` with the parts for a local B."""
    h, A, B = roles(t)
    prf = ctx.prf
    r = np.uint64(0) - (x.shares[h].reshape(-1) + x.shares[A].reshape(-1))
    r_planes = kbs.bitslice(r)
    q = r_planes[1:62:2] & r_planes[0:62:2]
    parts = {"r": r_planes ^ _planes(prf, A, t, 1, 64, nw), "q": q ^ _planes(prf, A, t, 2, 31, nw)}
    for lvl, k in enumerate(kc.LEVEL_ANDS + (1,)):
        a = _planes(prf, A, t, 10 + lvl, k, nw) ^ _planes(prf, h, t, 10 + lvl, k, nw)
        b = _planes(prf, A, t, 20 + lvl, k, nw) ^ _planes(prf, h, t, 20 + lvl, k, nw)
        parts[f"c{lvl}"] = (a & b) ^ _planes(prf, A, t, 30 + lvl, k, nw)
    chunks = [parts["r"].reshape(-1), parts["q"].reshape(-1)] + [parts[f"c{lvl}"].reshape(-1)
                                                                for lvl in range(N_LEVELS + 1)]
    if out != "bool":
        m = _planes(prf, A, t, 40, 1, nw) ^ _planes(prf, h, t, 40, 1, nw)
        mb = kbs.unslice_bit(m[0], n)
        parts["M"] = mb - prf.expand(A, t, 41, n)
        chunks.append(parts["M"])
        if out == "relu":
            a = prf.expand(A, t, 42, n) + prf.expand(h, t, 42, n)
            parts["C"] = mb * a - prf.expand(A, t, 43, n)
            chunks.append(parts["C"])
    return np.concatenate(chunks), parts


def _parse(buf: np.ndarray, n: int, nw: int, out: str) -> dict:
    buf = buf.view(np.uint64) if buf.dtype != np.uint64 else buf
    parts, off = {}, 0
    for name, rows in [("r", 64), ("q", 31)] + [(f"c{lvl}", k) for lvl, k in enumerate(kc.LEVEL_ANDS + (1,))]:
        parts[name] = buf[off: off + rows * nw].reshape(rows, nw)
        off += rows * nw
    if out != "bool":
        parts["M"] = buf[off: off + n]
    if out == "relu":
        parts["C"] = buf[off + n: off + 2 * n]
    return parts


def sign_pair(ctx, x: AShare, out: str):
    """Rounds 1-6, and round 7 for ``out="arith"`` / ``"relu"``: ``(t, y)`` with ``y`` a
    2-out-of-2 sharing ``{A: .., B: ..}`` (the local ones) of [x < 0] as XOR planes ``(1, nw)``
    (``"bool"``), as ring values ``(n,)`` (``"arith"``), or of relu(x) (``"relu"``)."""
    arith = out != "bool"
    t = ctx.prf.call()
    h, A, B = roles(t)
    prf, parties, comm = ctx.prf, ctx.parties, ctx.comm
    n = x.size
    nw = (n + 63) // 64
    links, local_parts = {}, None
    if h in parties:
        links[(h, B)], local_parts = _corrections(ctx, t, x, n, nw, out)
    inc = comm.exchange(links, "cmp/deal")
    mine = [p for p in (A, B) if p in parties]
    if not mine:  # the helper's process: it takes part in every round (SPMD), sending nothing
        tail = {"bool": [], "arith": ["cmp/b2a"], "relu": ["relu/open"]}[out]
        for label in [f"cmp/and{lvl + 1}" for lvl in range(N_LEVELS)] + ["cmp/final"] + tail:
            comm.exchange({}, label)
        return t, {}
    key = {A: A, B: h}  # A's PRF shares from k_{h+1}, B's from k_h
    sh = {}
    for p in mine:
        if p == A:
            sh[p] = {"r": _planes(prf, A, t, 1, 64, nw), "q": _planes(prf, A, t, 2, 31, nw)}
            for lvl in range(N_LEVELS + 1):
                sh[p][f"c{lvl}"] = _planes(prf, A, t, 30 + lvl, (kc.LEVEL_ANDS + (1,))[lvl], nw)
            if arith:
                sh[p]["M"] = prf.expand(A, t, 41, n)
            if out == "relu":
                sh[p]["C"] = prf.expand(A, t, 43, n)
        else:
            sh[p] = local_parts if local_parts is not None else _parse(inc[(h, B)], n, nw, out)
        for lvl, k in enumerate(kc.LEVEL_ANDS + (1,)):
            sh[p][f"a{lvl}"] = _planes(prf, key[p], t, 10 + lvl, k, nw)
            sh[p][f"b{lvl}"] = _planes(prf, key[p], t, 20 + lvl, k, nw)
        if arith:
            sh[p]["m"] = _planes(prf, key[p], t, 40, 1, nw)
        if out == "relu":
            sh[p]["a"] = prf.expand(key[p], t, 42, n)
    other = {A: B, B: A}
    c_planes = kbs.bitslice(x.shares[B].reshape(-1))  # w = x_{h+2}: public to A and B
    G, Pn = {}, {}
    for p in mine:
        G[p], Pn[p] = kc.leaf_nodes(c_planes, sh[p]["r"], sh[p]["q"], p == A)

    def and_round(X, Y, lvl, label):
        de = {p: np.concatenate([X[p] ^ sh[p][f"a{lvl}"], Y[p] ^ sh[p][f"b{lvl}"]]) for p in mine}
        got = comm.exchange({(p, other[p]): de[p] for p in mine}, label)
        k = X[mine[0]].shape[0]
        both = de[A] ^ de[B] if len(mine) == 2 else de[mine[0]] ^ got[(other[mine[0]], mine[0])]
        d, e = both[:k], both[k:]
        return {p: kc.and_finish(d, e, sh[p][f"a{lvl}"], sh[p][f"b{lvl}"], sh[p][f"c{lvl}"], p == A) for p in mine}

    for lvl in range(N_LEVELS):
        ops = {p: kc.level_operands(G[p], Pn[p]) for p in mine}
        Z = and_round({p: ops[p][0] for p in mine}, {p: ops[p][1] for p in mine}, lvl, f"cmp/and{lvl + 1}")
        for p in mine:
            G[p], Pn[p] = kc.level_combine(G[p], Z[p])
    Z = and_round({p: Pn[p][1:2] for p in mine}, {p: G[p][0:1] for p in mine}, N_LEVELS, "cmp/final")
    s = {}
    for p in mine:
        s[p] = Z[p] ^ G[p][1:2] ^ sh[p]["r"][63:64]
        if p == A:
            s[p] = s[p] ^ c_planes[63:64]
    if not arith:
        return t, s
    if out == "relu":
        return t, _relu_finish(ctx, t, x, s, sh, mine, other, n)
    wm = {p: s[p] ^ sh[p]["m"] for p in mine}
    got = comm.exchange({(p, other[p]): wm[p] for p in mine}, "cmp/b2a")
    w = wm[A] ^ wm[B] if len(mine) == 2 else wm[mine[0]] ^ got[(other[mine[0]], mine[0])]
    wb = kbs.unslice_bit(w[0], n)
    sign = np.uint64(1) - np.uint64(2) * wb
    y = {p: sign * sh[p]["M"] + (wb if p == A else np.uint64(0)) for p in mine}
    return t, y


def _relu_finish(ctx, t, x, s, sh, mine, other, n) -> dict:
    """Round 7 of ReLU: b = 1 - [x < 0] = NOT s, x = x'_A + x'_B (A: x_{h+1} + x_{h+2}, B: x_h);
    A and B open w = b ^ m (1 bit) and e = x - a (8 bytes), then
    x * b = (e + a)(w + (1 - 2w) m) = e w + w a + (1 - 2w)(e m + m a) is linear in their
    shares of a, m and m * a (the last two dealt by h in round 1)."""
    h, A, B = roles(t)
    part = {A: x.shares[A].reshape(-1) + x.shares[B].reshape(-1)} if A in mine else {}
    if B in mine:
        part[B] = x.shares[h].reshape(-1)
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    w_p = {p: (s[p] ^ ones if p == A else s[p]) ^ sh[p]["m"] for p in mine}
    e_p = {p: part[p] - sh[p]["a"] for p in mine}
    got = ctx.comm.exchange({(p, other[p]): np.concatenate([w_p[p].reshape(-1), e_p[p]]) for p in mine}, "relu/open")
    nw = w_p[mine[0]].size
    if len(mine) == 2:
        w, e = w_p[A] ^ w_p[B], e_p[A] + e_p[B]
    else:
        p = mine[0]
        msg = got[(other[p], p)]
        w, e = w_p[p] ^ msg[:nw].reshape(w_p[p].shape), e_p[p] + msg[nw:]
    wb = kbs.unslice_bit(w.reshape(-1), n)
    sign = np.uint64(1) - np.uint64(2) * wb
    y = {}
    for p in mine:
        y[p] = wb * sh[p]["a"] + sign * (e * sh[p]["M"] + sh[p]["C"])
        if p == A:
            y[p] += e * wb
    return y


def relu(ctx, x: AShare) -> AShare:
    """max(x, 0) (frac kept): 8 rounds, the product with the bit fused into the comparison's
    last rounds (``_relu_finish``)."""
    if x.size == 0:
        return AShare({c: np.zeros(x.shape, dtype=np.uint64) for c in x.shares}, x.shape, x.frac)
    t, y = sign_pair(ctx, x, "relu")
    return from_pair(ctx, t, y, (x.size,), x.frac, "relu/reshare").reshape(x.shape)


def ltz(ctx, x: AShare) -> AShare:
    """[x < 0] as replicated 0/1 ring values (frac 0, shape of x): 8 rounds."""
    if x.size == 0:
        return AShare({c: np.zeros(x.shape, dtype=np.uint64) for c in x.shares}, x.shape, 0)
    t, y = sign_pair(ctx, x, "arith")
    return from_pair(ctx, t, y, (x.size,), 0, "cmp/reshare").reshape(x.shape)


def ltz_bool(ctx, x: AShare) -> dict:
    """[x < 0] over the flattened x as replicated bit-sliced planes ``{component: (1, nw)}``:
    7 rounds."""
    if x.size == 0:
        return {c: np.zeros((1, 0), dtype=np.uint64) for c in x.shares}
    t, s = sign_pair(ctx, x, "bool")
    nw = (x.size + 63) // 64
    return from_pair(ctx, t, s, (1, nw), 0, "cmp/reshare", xor=True).shares


class ReplicatedA2B(ComparisonProtocol):
    """``a2b`` (bit decomposition) on replicated shares; 3 servers only."""

    name = "a2b"

    def check(self, n_parties: int) -> None:
        if n_parties != 3:
            raise ValueError(f"sharing 'replicated' needs exactly 3 parties, got {n_parties}")

    def ltz(self, ctx, x: AShare) -> AShare:
        if ctx.checker:
            ctx.checker.within(x, 64, "lt")
        return ltz(ctx, x)

    def ltz_bool(self, ctx, x: AShare) -> dict:
        return ltz_bool(ctx, x)

    def relu(self, ctx, x: AShare) -> AShare:
        return relu(ctx, x)

    def argmax_reveal(self, ctx, x: AShare, to, method: str = "pairs"):
        """``pairs``: the bit-sliced one-hot winners are opened to ``to`` as they are (C bits
        per row from each server: the one-hot row says what the label says, nothing more) and
        decoded there, so the 2 rounds of B2A are saved: 7 + ceil(log2(C-1)) + 1 rounds."""
        n, C = x.shape
        if method != "pairs" or C == 1 or n == 0:
            return super().argmax_reveal(ctx, x, to, method)
        planes, _ = am.winner_planes(ctx, x)
        shape = next(iter(planes.values())).shape
        words = reveal(ctx, AShare(planes, shape, 0), to, "reveal", xor=True)
        if words is None:
            return None
        onehot = np.stack([kbs.unslice_bit(words[c], n) for c in range(C)], axis=1)
        return (onehot * np.arange(C, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
