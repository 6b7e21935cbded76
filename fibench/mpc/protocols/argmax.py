"""Secure argmax over the last axis of a shared ``(n, C)`` matrix (ties go to the lowest index).

* ``pairs``: all C(C-1)/2 comparisons of a row in ONE batched comparison (boolean output),
  then class i wins iff it beats every lower class strictly and no higher class beats it: an
  AND of C-1 bit-sliced bits (ceil(log2(C-1)) rounds at 2 bits per gate), then one
  bit-to-arithmetic round. Rounds (a2b, C = 10): 6 + 4 + 1 = 11. With ``fss`` (1-round
  comparisons) the wins of each class are counted instead and compared with C-1 by a second,
  narrow comparison: 2 rounds.
* ``tree``: a tournament: ceil(log2 C) levels of one comparison and one selection product.
  Fewer bytes for large C, more rounds (a2b, C = 10: 4 x (6 + 1) = 28).
Output: the label as an additive share (frac 0, shape ``(n,)``), or a one-hot ``(n, C)`` share.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols.boolean import ALL_ONES, and_tree
from fibench.mpc.protocols.convert import b2a
from fibench.mpc.shares import AShare

METHODS = ("pairs", "tree")


def check(x: AShare, method: str):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if len(x.shape) != 2:
        raise ValueError(f"argmax needs a 2-D (n, C) share, got shape {x.shape}")
    if x.shape[1] < 1:
        raise ValueError("argmax needs at least one class (C >= 1)")


def const(ctx, shape, value) -> AShare:
    """Shares of a public integer constant (party 0 holds it)."""
    first = min(ctx.parties_all)
    return AShare({p: np.full(shape, value if p == first else 0, dtype=np.uint64) for p in ctx.components}, shape, 0)


def labels_from_onehot(onehot: AShare) -> AShare:
    C = onehot.shape[1]
    idx = np.arange(C, dtype=np.uint64)
    return AShare({p: (s * idx).sum(axis=1, dtype=np.uint64) for p, s in onehot.shares.items()}, (onehot.shape[0],), 0)


def product_tree(ctx, f: AShare, label: str = "prod") -> AShare:
    """Product over the last axis of an ``(..., k)`` share of integers (frac 0), pairwise in rounds."""
    while f.shape[-1] > 1:
        k = f.shape[-1]
        half = k // 2
        lo = f.map(lambda s: np.ascontiguousarray(s[..., 0:2 * half:2]), shape=f.shape[:-1] + (half,))
        hi = f.map(lambda s: np.ascontiguousarray(s[..., 1:2 * half:2]), shape=f.shape[:-1] + (half,))
        prod = ar.mul(ctx, lo, hi, label)
        if k % 2:
            rest = f.map(lambda s: s[..., k - 1:k], shape=f.shape[:-1] + (1,))
            prod = AShare({p: np.concatenate([prod.shares[p], rest.shares[p]], axis=-1) for p in prod.shares},
                          f.shape[:-1] + (half + 1,), 0)
        f = prod
    return f.map(lambda s: s[..., 0], shape=f.shape[:-1])


def argmax_pairs_and(ctx, x: AShare, one_hot: bool) -> AShare:
    """``pairs`` with an AND tree: one batched boolean comparison of all pairs (``ltz_bool``),
    ceil(log2(C-1)) AND rounds, one B2A round."""
    n, C = x.shape
    if C == 1:
        return const(ctx, (n, 1), 1) if one_hot else const(ctx, (n,), 0)
    winner, n_pad = winner_planes(ctx, x)
    onehot_t = b2a(ctx, winner, n_pad, "argmax/b2a")  # (C, n_pad) additive
    onehot = AShare({p: np.ascontiguousarray(s[:, :n].T) for p, s in onehot_t.shares.items()}, (n, C), 0)
    return onehot if one_hot else labels_from_onehot(onehot)


def winner_planes(ctx, x: AShare):
    """The one-hot winners of ``pairs`` as XOR-shared bit-sliced columns ``(C, ceil(n/64))``
    (C >= 2), and the padded row count: ``(planes, n_pad)``."""
    n, C = x.shape
    I, J = np.triu_indices(C, k=1)  # pairs i < j
    npairs, n_pad = len(I), -(-n // 64) * 64
    nw = n_pad // 64
    # pair-major layout padded to whole words: pair j's n bits fill words [j*nw, (j+1)*nw)
    diff = {}
    for p, s in x.shares.items():
        d = np.zeros((npairs, n_pad), dtype=np.uint64)
        d[:, :n] = (s[:, I] - s[:, J]).T
        diff[p] = d
    lt = ctx.cmp.ltz_bool(ctx, AShare(diff, (npairs, n_pad), x.frac))  # [x_i < x_j]
    first = min(ctx.parties_all)
    # class c wins iff x_o < x_c for every lower o and not x_c < x_o for every higher o
    pair_id = np.zeros((C, C), dtype=np.int64)
    pair_id[I, J] = pair_id[J, I] = np.arange(npairs)
    others = np.array([[o for o in range(C) if o != c] for c in range(C)])
    flip = (others > np.arange(C)[:, None])[:, :, None]
    factors = {}
    for p, planes in lt.items():
        g = planes.reshape(npairs, nw)[pair_id[np.arange(C)[:, None], others]]  # (C, C-1, nw)
        factors[p] = np.where(flip, g ^ ALL_ONES, g) if p == first else g
    return and_tree(ctx, factors, "argmax/and"), n_pad  # (C, nw) bit-sliced one-hot columns


def argmax_tree(ctx, x: AShare, one_hot: bool) -> AShare:
    n, C = x.shape
    vals = [x.map(lambda s, c=c: np.ascontiguousarray(s[:, c]), shape=(n,)) for c in range(C)]
    if one_hot:
        first = min(ctx.parties_all)
        tags = [AShare({p: _unit(n, C, c, p == first) for p in ctx.components}, (n, C), 0) for c in range(C)]
    else:
        tags = [const(ctx, (n,), c) for c in range(C)]
    while len(vals) > 1:
        m = len(vals) // 2
        a_v, b_v = _stack(vals[0:2 * m:2]), _stack(vals[1:2 * m:2])
        a_t, b_t = _stack(tags[0:2 * m:2]), _stack(tags[1:2 * m:2])
        bit = ctx.cmp.ltz(ctx, ar.sub(a_v, b_v))  # [a < b]: b wins (ties keep a, the lower index)
        dv, dt = ar.sub(b_v, a_v), ar.sub(b_t, a_t)
        # the tags (labels, or one-hot rows) take the same selection bit as the values
        bit_t = bit if dt.shape == bit.shape else bit.map(
            lambda s: np.ascontiguousarray(np.broadcast_to(s[..., None], dt.shape)), shape=dt.shape)
        both = ar.mul(ctx, _cat(bit, bit_t), _cat(dv, dt), "argmax/select")
        sel_v = both.map(lambda s: s[: bit.size].reshape(bit.shape), shape=bit.shape, frac=x.frac)
        sel_t = both.map(lambda s: s[bit.size:].reshape(dt.shape), shape=dt.shape, frac=0)
        new_v, new_t = ar.add(a_v, sel_v), ar.add(a_t, sel_t)
        vals = _unstack(new_v, m) + vals[2 * m:]
        tags = _unstack(new_t, m) + tags[2 * m:]
    return tags[0]


def _unit(n, C, c, first):
    out = np.zeros((n, C), dtype=np.uint64)
    if first:
        out[:, c] = 1
    return out


def _stack(items):
    it0 = items[0]
    return AShare({p: np.stack([i.shares[p] for i in items]) for p in it0.shares}, (len(items),) + it0.shape, it0.frac)


def _unstack(x: AShare, m: int):
    return [x.map(lambda s, i=i: s[i], shape=x.shape[1:]) for i in range(m)]


def _cat(a: AShare, b: AShare) -> AShare:
    return AShare({p: np.concatenate([a.shares[p].reshape(-1), b.shares[p].reshape(-1)]) for p in a.shares},
                  (a.size + b.size,), 0)


def argmax_reveal(ctx, x: AShare, to, method: str = "pairs") -> np.ndarray | None:
    """The argmax labels (uint64, (n,)) revealed to ``to`` only (``None`` where ``to`` is not
    hosted): the context's comparison protocol decides how (fss + pairs: 2 rounds; otherwise
    ``argmax`` then one reveal round)."""
    check(x, method)
    if ctx.checker:  # pair differences must not wrap
        ctx.checker.within(x, 63, "argmax")
    return ctx.cmp.argmax_reveal(ctx, x, to, method)


def argmax(ctx, x: AShare, method: str = "pairs", one_hot: bool = False) -> AShare:
    """Secure argmax over the last axis of an ``(n, C)`` share; see the module docstring."""
    check(x, method)
    if ctx.checker:  # pair differences must not wrap
        ctx.checker.within(x, 63, "argmax")
    if x.shape[0] == 0:
        shape = (0, x.shape[1]) if one_hot else (0,)
        return AShare({p: np.zeros(shape, dtype=np.uint64) for p in ctx.components}, shape, 0)
    if method == "pairs":
        return ctx.cmp.argmax_pairs(ctx, x, one_hot)
    return argmax_tree(ctx, x, one_hot)
