"""Secure evaluation of layer graphs (``fibench.fi.graph``) in mode M2.

The querier shares the query, every owner shares the parameters of its Dense and Conv2d layers
(all in ONE round, masked: see ``MaskedInput``; replicated sessions share plainly, having no
dealer masks). Per layer kind:

* ``Dense``: one Beaver matrix product (``Session.matmul``, exact truncation) plus the bias;
* ``Conv2d``: im2col (a local layout change of the shares, zero padding) and the same Beaver
  matrix product: (n*OH*OW, ic*kh*kw) @ (ic*kh*kw, oc), then back to (n, oc, OH, OW). The
  input is opened once in masked form, x - a (``Dealer.random_mask``; the query already is),
  and im2col is applied to x - a and to a alike, so the product opens nothing: 8 bytes per
  input element per peer instead of 8 per im2col element (kh*kw/stride^2 times more) — the
  dealer's triple is then a conv triple (im2col(a), B, im2col(a) @ B);
  replicated sessions (no dealer) apply im2col to the replicated shares themselves: the
  product's resharing costs 8 bytes per OUTPUT element, nothing is opened;
* ``ReLU``: the session's comparison protocol (``ctx.cmp.relu``);
* ``MaxPool2d``: a tournament inside each window, max(a, b) = b + relu(a - b), one batched
  ReLU per level (ceil(log2 k) levels for a window of k values); exact;
* ``AvgPool2d``: the window sum (local) times the public 1/k (``Session.mul_public``, exact
  truncation, 1 round; 1/count per position where padding is not counted);
* padding of pools: a local gather (max-pool: padded positions repeat a real pixel of the window;
  avg-pool: public zeros);
* ``Residual``: the branch layer by layer, then the skip added locally (0 bytes);
* ``Flatten``, ``Reshape``, ``Identity``: local; a final ``Softmax`` is not evaluated here:
  the M2 rules take the logits, and ``soft_vote`` applies the secure softmax
  (``fibench.mpc.protocols.softmax``) to all owners' logits at once afterwards.

Owners whose graphs have the same signature are batched: their first linear layer is ONE
product of the shared input with the owners' weights side by side, every later linear layer
one product with the block-diagonal weights (the owners' channels/features stay side by side,
so ReLU and pools run once for all of them); for ``logit_sum`` a final Dense is one product
with the stacked weights, which sums the owners' logits. Groups of different architectures run
one after another.

Comparison ranges (``cmp_bits``, the fss promise) follow by interval arithmetic from a public
bound on each query feature and each owner's own weights (``Graph.bounds``).
"""
from __future__ import annotations

import functools

import numpy as np

from fibench.fi import graph as gr
from fibench.mpc.encoding import encode
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols.sharing import join, open_arith, share_many
from fibench.mpc.shares import AShare, MaskedInput

VOTE_RULES = ("hard_vote", "weighted_vote")


def owner_entity(topology: str, k: int):
    """Who owner k is in the session: compute party k (T1) or an outside entity (T2)."""
    return k if topology == "T1" else f"owner{k}"


def enc(x):
    return encode(np.asarray(x, dtype=np.float64))


def cmp_bits_needed(bound: float, frac_bits: int, differences: bool = True) -> int:
    """The smallest ``cmp_bits`` l whose promise [-2^(l-1), 2^(l-1)) holds every comparison
    input of values bounded by ``bound`` (reals; ``differences``: inputs are differences of two
    such values, so twice the bound), with slack for fixed-point rounding."""
    raw = (2.0 if differences else 1.0) * bound * 2.0**frac_bits * (1 + 2.0**-20) + 2**10
    return min(64, max(2, int(np.ceil(np.log2(raw + 1))) + 1))


def check_promise(s, need: int, what: str) -> None:
    """Refuse a comparison range promise (``cmp_bits``) the pipeline cannot keep."""
    if s.protocol in ("fss", "fss-dpf") and s.cmp_bits < need:  # a2b compares the whole ring and promises nothing
        raise ValueError(f"cmp_bits={s.cmp_bits} is too small for this pipeline: its {what} need cmp_bits >= {need} "
                         "(the bound follows from each owner's own outputs or weights and the query range)")


# -- local layout changes (0 bytes) -------------------------------------------------------------

def _sum(s, xs):
    return join(s, xs, lambda arrs: functools.reduce(np.add, arrs))


def _cat(s, xs):
    return join(s, xs, np.concatenate)


def _hcat(s, xs):
    return join(s, xs, np.hstack)


def _vcat(s, xs):
    return join(s, xs, np.vstack)


def _blockdiag_arrays(arrs):
    rows, cols = sum(a.shape[0] for a in arrs), sum(a.shape[1] for a in arrs)
    m = np.zeros((rows, cols), dtype=np.uint64)  # off-diagonal blocks: public zeros (shares and mask 0)
    r = c = 0
    for a in arrs:
        m[r: r + a.shape[0], c: c + a.shape[1]] = a
        r, c = r + a.shape[0], c + a.shape[1]
    return m


def _blockdiag(s, xs):
    return join(s, xs, _blockdiag_arrays)


def _local(s, x, fn):
    """A linear layout change ``fn`` of one share or masked input (local)."""
    return join(s, [x], lambda arrs: fn(arrs[0]))


def _add_bias(z: AShare, b: AShare) -> AShare:
    """z (n, m) + b (m,), or z (n, C, H, W) + b (C,) per channel; a z with more fractional
    bits (a product whose rescale is deferred) gets b shifted up to them (exact, local)."""
    extra = (1,) * (len(z.shape) - 2)
    up = np.uint64(1) << np.uint64(z.frac - b.frac)
    return AShare({p: z.shares[p] + (b.shares[p] * up).reshape((1, -1) + extra) for p in z.shares}, z.shape, z.frac)


def _defer_rescale(s, layers, i: int) -> bool:
    """Whether layer i (linear) leaves its rescale to the ReLU right after it."""
    return s.fuses_relu_rescale and i + 1 < len(layers) and isinstance(layers[i + 1], gr.ReLU)


def _as_ashare(s, x):
    return x.as_ashare(min(s.parties_all)) if isinstance(x, MaskedInput) else x


# -- sharing ---------------------------------------------------------------------------------------

def share_graph_inputs(s, X: np.ndarray, graphs: list, topology: str, masked_inputs: bool = True):
    """Share the query (flattened, from ``"querier"``) and every owner's linear parameters in
    one round. Returns ``(x, params)``, ``params[k]``: owner k's ``[(W, b), ...]`` shares."""
    f = s.frac_bits
    mk = ("masked",) if masked_inputs and s.sharing == "additive" else ()  # dealer masks: additive only
    items = [(enc(X), "querier", X.shape, f) + mk]
    counts = []
    for k, g in enumerate(graphs):
        lin = g.linear_params()
        counts.append(len(lin))
        for W, b in lin:
            items += [(enc(W), owner_entity(topology, k), W.shape, f) + mk, (enc(b), owner_entity(topology, k), b.shape, f)]
    shared = share_many(s, items, "m2/share")
    x, rest, params = shared[0], shared[1:], []
    for c in counts:
        params.append([(rest[2 * i], rest[2 * i + 1]) for i in range(c)])
        rest = rest[2 * c:]
    return x, params


# -- evaluation of one group of same-architecture owners -------------------------------------------

def _fused_last(body: tuple, shapes: tuple) -> int | None:
    """Index of a final Dense followed only by shape no-ops on its 1-D output, else None."""
    last = max((i for i, layer in enumerate(body) if layer.linear), default=None)
    if last is None or not isinstance(body[last], gr.Dense):
        return None
    if any(not isinstance(layer, (gr.Identity, gr.Flatten, gr.Reshape)) or len(shapes[i + 1]) != 1
           for i, layer in enumerate(body[last + 1:], start=last + 1)):
        return None
    return last


def _stacked(shape: tuple, K: int, per_owner: bool) -> tuple:
    """Per-sample layout of K owners' tensors side by side along the first axis."""
    return ((K * shape[0],) + tuple(shape[1:])) if per_owner else tuple(shape)


def _maxpool(s, x: AShare, layer) -> AShare:
    """Tournament inside each window: max(a, b) = b + relu(a - b), one batched ReLU per level."""
    v = x.map(layer.windows)
    v.shape = next(iter(v.shares.values())).shape
    while v.shape[-1] > 1:
        k = v.shape[-1]
        h = k // 2
        a, b = v[..., :h], v[..., h: 2 * h]
        d = s.sub(a, b)
        m = s.add(b, s.relu(d.reshape(-1)).reshape(d.shape))
        v = m if k % 2 == 0 else join(s, [m, v[..., 2 * h:]], lambda arrs: np.concatenate(arrs, axis=-1))
    return v.reshape(v.shape[:-1])


def _avgpool(s, x: AShare, layer) -> AShare:
    total = ar.sum_axis(x.map(layer.windows, shape=()), axis=-1)
    return s.mul_public(total, 1.0 / layer.divisor(*x.shape[-2:]))  # per position where padding is not counted


def _linear(s, x, layer, Ws, bs, n: int, in_shape: tuple, K: int, per_owner: bool, fuse: bool,
            rescale: bool = True):
    """One Dense or Conv2d for K owners: returns ``(z, per_owner_after)``; ``rescale=False``
    leaves the product at 2 frac_bits for ``Session.relu_of_product``."""
    if isinstance(layer, gr.Dense):
        if fuse:
            W, b = (_vcat(s, Ws), _sum(s, bs)) if per_owner else (_sum(s, Ws), _sum(s, bs))
        else:
            W, b = (_blockdiag(s, Ws), _cat(s, bs)) if per_owner else (_hcat(s, Ws), _cat(s, bs))
        if len(x.shape) != 2:
            x = _local(s, x, lambda a: a.reshape(n, -1))
        return _add_bias(s.matmul(x, W, rescale=rescale), b), not fuse
    # Conv2d: im2col of the (stacked) input, one Beaver matrix product. An input that is not
    # masked yet is opened once as x - a for a dealer mask a (8 bytes per INPUT element), so
    # that the product needs no opening of the im2col matrix (kh*kw/stride^2 times larger)
    if not isinstance(x, MaskedInput) and s.sharing == "additive":
        mask = s.dealer.random_mask(x.shape)
        e = open_arith(s, AShare({p: x.shares[p] - mask.shares[p] for p in s.parties}, x.shape, 0), "conv/open")
        x = MaskedInput(e, mask, x.shape, x.frac)
    c, h, w = _stacked(in_shape, K, per_owner)
    oh, ow = gr._conv_out(h, w, layer.kernel, layer.stride, layer.padding)
    cols = _local(s, x, lambda a: gr.im2col(a.reshape(n, c, h, w), layer.kernel, layer.stride, layer.padding))
    W, b = (_blockdiag(s, Ws), _cat(s, bs)) if per_owner else (_hcat(s, Ws), _cat(s, bs))
    z = s.matmul(cols, W, rescale=rescale).map(lambda a: gr.cols_to_image(a, n, oh, ow))
    z.shape = (n, W.shape[1], oh, ow)
    return _add_bias(z, b), True


def eval_group(s, x, graphs: list, params: list, rule: str, trace: list | None = None,
               rescale_last: bool = True):
    """Evaluate K owners with the same architecture on the shared query ``x`` (n, d).
    ``trace``: a list that receives ``(layer index, layer kind, CommStats of that layer)``.
    ``rescale_last=False``: the final Dense's product is left at 2 frac_bits (for an argmax,
    which does not care about scale; see ``m2_scores``).

    Returns ``(scores, summed)``: ``summed`` True -> (n, C) sum of the owners' logits (only for
    ``logit_sum``); False -> (n, K*C) with owner k's logits in columns k*C..(k+1)*C-1."""
    g0, K, n = graphs[0], len(graphs), x.shape[0]
    body, shapes = g0.body, g0.shapes
    last = _fused_last(body, shapes)
    fuse_at = last if rule == "logit_sum" else None
    if not rescale_last and last is None:
        raise ValueError("rescale_last=False needs a graph whose last layer is a Dense (see _fused_last)")
    state, per_owner, li = x, False, 0
    for i, layer in enumerate(body):
        mark = s.stats.mark()
        rescale = not (_defer_rescale(s, body, i) or (not rescale_last and i == last))
        state, per_owner, li = _layer(s, state, layer, i, shapes, params, li, n, K, per_owner, fuse_at, rescale)
        if trace is not None:
            trace.append((i, layer.kind, s.stats.since(mark)))
        if i == fuse_at:
            return state, True
    state = _as_ashare(s, state)
    if not per_owner:  # a graph without linear layers: every owner's logits are the same function of x
        one = state.reshape(n, -1)
        state = join(s, [one] * K, np.hstack)
    return state.reshape(n, -1), False


def _layer(s, state, layer, i, shapes, params, li, n, K, per_owner, fuse_at, rescale: bool = True):
    """One layer for K batched owners: ``(state, per_owner, next linear index)``.
    ``rescale=False``: a linear layer leaves its product at 2 frac_bits (for the ReLU right
    after it, see ``_defer_rescale``, or for the final argmax)."""
    in_shape, out_shape = shapes[i], shapes[i + 1]
    if layer.linear:
        Ws = [p[li][0] for p in params]
        bs = [p[li][1] for p in params]
        state, per_owner = _linear(s, state, layer, Ws, bs, n, in_shape, K, per_owner, i == fuse_at, rescale)
        return state, per_owner, li + 1
    if isinstance(layer, gr.ReLU):
        state = _as_ashare(s, state)
        state = s.relu_of_product(state) if state.frac > s.frac_bits else s.relu(state)
    elif isinstance(layer, (gr.MaxPool2d, gr.AvgPool2d)):
        c, h, w = _stacked(in_shape, K, per_owner)
        state = _as_ashare(s, state)
        if state.shape != (n, c, h, w):
            state = state.reshape(n, c, h, w)
        state = _maxpool(s, state, layer) if isinstance(layer, gr.MaxPool2d) else _avgpool(s, state, layer)
    elif isinstance(layer, gr.Residual):
        state, per_owner, li = _residual(s, state, layer, in_shape, params, li, n, K, per_owner)
    elif isinstance(layer, (gr.Flatten, gr.Reshape)):
        target = (n,) + _stacked(out_shape, K, per_owner)
        state = _local(s, state, lambda a, t=target: a.reshape(t))
    elif not isinstance(layer, gr.Identity):
        raise ValueError(f"layer {i} ({layer.kind}) has no secure evaluation")
    return state, per_owner, li


def _residual(s, x, layer, in_shape, params, li, n, K, per_owner):
    """x + branch(x): the branch layer by layer (owners still batched), then a local addition.
    Where only one side is per owner (the branch's first linear layer splits the owners), the
    other is repeated for every owner (a local copy)."""
    shapes = gr._shapes(layer.branch, in_shape)
    z, z_per_owner = x, per_owner
    for j, inner in enumerate(layer.branch):
        z, z_per_owner, li = _layer(s, z, inner, j, shapes, params, li, n, K, z_per_owner, None,
                                    not _defer_rescale(s, layer.branch, j))
    skip, z = _as_ashare(s, x), _as_ashare(s, z)
    if z_per_owner and not per_owner:
        skip = join(s, [skip.reshape((n,) + in_shape)] * K, lambda arrs: np.concatenate(arrs, axis=1))
    return s.add(skip.reshape(z.shape), z), z_per_owner, li


def group_owners(graphs: list) -> list[list[int]]:
    """Owner indices grouped by graph signature, groups in order of first appearance."""
    groups: dict = {}
    for k, g in enumerate(graphs):
        groups.setdefault(g.signature(), []).append(k)
    return list(groups.values())


def graph_bounds(X: np.ndarray, graphs: list, rule: str) -> dict:
    """(ReLU input, max-pool value, final score-comparison) bounds of M2 by interval arithmetic
    from a public bound on each query feature (the querier's) and each owner's own weights."""
    d = X.shape[1] if X.ndim == 2 else int(np.prod(X.shape[1:]))
    xb = np.max(np.abs(X.reshape(len(X), -1)), axis=0) if X.size else np.zeros(d)
    relu = pool = 0.0
    logits = []
    for g in graphs:
        b = g.bounds(xb)
        relu, pool = max(relu, b["relu"]), max(pool, b["maxpool"])
        logits.append(float(np.max(b["out"])) if b["out"].size else 0.0)
    final = sum(logits) if rule == "logit_sum" else max(logits)  # votes: each owner's own argmax
    if rule == "soft_vote":  # softmax: logit differences, clamp inputs x - max - L (|L| <= 21.5 for
        # f <= 30, compared as "differences", i.e. twice the bound), then sums of K probabilities
        final = max(final + 11.0, len(graphs) + 1.0)
    return {"relu": relu, "maxpool": pool, "final": final}


def _raw_scores_fit(s, graphs: list, final_bound: float) -> bool:
    """Whether M2 may leave the final Dense unrescaled for the argmax: additive sharing with the
    dealer's truncation (the one that costs a round), every graph ending in a Dense, and the
    score comparisons of values bounded by ``final_bound`` at 2 frac_bits within the protocol's
    range (``a2b``: the signed 64-bit ring; ``fss``: ``cmp_bits``)."""
    if s.sharing != "additive" or s.trunc != "dealer":
        return False
    if any(_fused_last(g.body, g.shapes) is None for g in graphs):
        return False
    limit = s.cmp_bits if s.protocol in ("fss", "fss-dpf") else 64
    return cmp_bits_needed(final_bound, 2 * s.frac_bits) <= limit


def m2_scores(s, X: np.ndarray, graphs: list, rule: str, topology: str, masked_inputs: bool = True,
              trace: list | None = None, for_argmax: bool = False):
    """The secure part of M2 before the final argmax, as ``(scores, order)``: for
    ``logit_sum`` the (n, C) summed logits and ``order=None``; for the vote rules the (n, K*C)
    per-owner logits, owner ``order[j]`` in columns j*C..(j+1)*C-1. ``graphs``: ``Graph``s or
    ``[(W, b), ...]`` lists. ``trace``: see ``eval_group`` (plus ``(-1, "share", stats)``).

    ``for_argmax``: the scores only feed an argmax (not ``soft_vote``): where every graph ends
    in a Dense and the comparisons can take the unrescaled products (``_raw_scores_fit``), the
    last product is not rescaled (frac 2 frac_bits): one round less, and the argmax sees the
    exact products (no 1-ulp truncation error, no ties made by truncating)."""
    graphs = [gr.as_graph(g) for g in graphs]
    if not graphs:
        raise ValueError("owner_layers must hold at least one owner's model")
    for k, g in enumerate(graphs):
        if int(np.prod(g.input_shape)) != X.shape[1]:
            raise ValueError(f"owner {k}'s model takes {int(np.prod(g.input_shape))} input features, "
                             f"the query has {X.shape[1]}")
        if g.n_outputs != graphs[0].n_outputs or len(g.shapes[len(g.body)]) != 1:
            raise ValueError(f"every owner's model must output a 1-D score vector of the same length: owner {k} "
                             f"outputs {g.shapes[len(g.body)]}, owner 0 {graphs[0].shapes[len(graphs[0].body)]}")
    b = graph_bounds(X, graphs, rule)
    check_promise(s, cmp_bits_needed(b["relu"], s.frac_bits, differences=False), "hidden-layer (ReLU) inputs")
    if b["maxpool"]:
        check_promise(s, cmp_bits_needed(b["maxpool"], s.frac_bits), "max-pool comparisons")
    check_promise(s, cmp_bits_needed(b["final"], s.frac_bits), "score comparisons")
    mark = s.stats.mark()
    x, params = share_graph_inputs(s, X, graphs, topology, masked_inputs)
    if trace is not None:
        trace.append((-1, "share", s.stats.since(mark)))
    n, C = X.shape[0], graphs[0].n_outputs
    total, per_owner, order = None, [], []
    raw = for_argmax and rule != "soft_vote" and _raw_scores_fit(s, graphs, b["final"])
    for members in group_owners(graphs):
        sc, summed = eval_group(s, x, [graphs[k] for k in members], [params[k] for k in members], rule, trace,
                                rescale_last=not raw)
        if rule == "logit_sum":
            if not summed:
                sc = ar.sum_axis(sc.reshape(n, len(members), C), axis=1)
            total = sc if total is None else s.add(total, sc)
        else:
            per_owner.append(sc)
            order += members
    if rule == "logit_sum":
        return total, None
    return (per_owner[0] if len(per_owner) == 1 else join(s, per_owner, np.hstack)), order
