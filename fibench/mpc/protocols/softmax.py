"""Secure softmax over the last axis of an additively shared ``(n, C)`` fixed-point matrix.

Only operations of a ``Context`` are used (the comparison protocol ``ctx.cmp``, Beaver products,
exact truncation); the steps, for each row x (f = ``x.frac`` fractional bits):

1. **Row max** m = max_j x_j, exact. ``max_method="tree"`` (default): a tournament,
   max(a, b) = b + relu(a - b), one batched ReLU per level, ceil(log2 C) levels.
   ``"pairs"``: the one-hot argmax of ``ctx.cmp.argmax_pairs`` (all pairs in one comparison)
   and one Beaver product, m = sum_j onehot_j x_j: fewer rounds, more bytes (C(C-1)/2
   comparisons per row instead of C-1).
2. **Clamp** d = max(x - m, L) = L + relu(x - m - L) with L = ``exp_lower(f)`` =
   -(f + 1) ln 2 (-11.78 at f = 16): below L, exp(d) < 2^-(f+1), half an ulp, so exp is 0 in
   fixed point anyway. The clamp keeps the limit below in its range (an owner's unseen class,
   logit -1e4, would otherwise give 1 + d/2^n << -1 and a huge power) and keeps every
   intermediate within the checking mode's ranges.
3. **exp** by the limit exp(d) = lim (1 + d/2^n)^(2^n) (as CrypTen does), d in [L, 0], with
   n = ``exp_iters`` squarings of t = 1 + u + u^2/2, u = d/2^n (``exp_order=2``, the
   default; ``exp_order=1``: CrypTen's t = 1 + u). t is formed at W = 30 fractional bits: u by
   a local shift of d's shares (exact; needs f + n <= W), u^2/2 by one Beaver product
   truncated straight to W bits; every squaring is a Beaver product truncated back to W bits,
   the last one straight to f bits. Error (reals, d in [L, 0]): order 1 undershoots,
   0 <= e^d - t^(2^n) <= e^d d^2 / 2^(n+1) <= 2 e^-2 / 2^n (1.06e-3 at n = 8, 2.6e-4 at
   n = 10); order 2 has log t = u - u^3/6 + O(u^4), so it overshoots by about
   e^d |d|^3 / (6 4^n) <= 4.5 e^-3 / 4^n (5.5e-5 at n = 6, the default; 1.4e-5 at n = 7)
   for one product more (2 rounds), where order 1 needs n = 12 (24 rounds instead of 14) for
   the same error. Fixed-point rounding adds at most 2^n ulp of W bits
   plus about 1 ulp of f bits (1.5e-5 at f = 16). Measured by ``tests/test_softmax.py`` on a
   grid of [L, 0] at f = 16 (order 2, n = 6): |error| <= 7e-5.
   (With ``trunc="local"`` W = f + n instead, which keeps SecureML's failure probability per
   product near 2^(2(f+n)) / 2^63.)
4. **Row sum** S = sum_j exp(d_j) (local). The row max contributes exp(0) = 1, so S lies in
   [1, C] (up to the few ulps of step 3).
5. **Reciprocal** 1/S by Newton's iteration y <- y (2 - S y), from the linear initial guess
   y0 = b (C + 1 - S), b = 8 / (C^2 + 6C + 1), the minimax linear guess on [1, C]: the
   relative error e = 1 - S y obeys |e0| <= (C-1)^2 / (C^2 + 6C + 1) (0.503 for C = 10) and
   e_{k+1} = e_k^2, so ``newton_iters(C, f)`` = the fewest k with |e0|^(2^k) <= 2^-(f+2)
   iterations (5 for C = 10, f = 16). y0 is kept at 2f fractional bits (no truncation round);
   the last iteration is fused with the normalization: S y and e_j y in one product round,
   then p_j = (e_j y)(2 - S y).

Cost per row (P parties; a2b comparison: 6 rounds, ~19.1 B per element per peer; fss: 1
round; every product below: 1 Beaver round + 1 exact-truncation round, 16 + 8 B per element
per peer; ReLU = comparison + 1 Beaver round of 16 B (a2b), 1 round (fss)):

* max (tree): ceil(log2 C) ReLU levels, C - 1 ReLUs;
* clamp: 1 ReLU level, C ReLUs;
* exp: 2 + 2n rounds, C products for u^2 and per squaring;
* reciprocal: 4k rounds, products of 1 (S y), 1 (y (2 - S y)) per iteration but the last, and
  C + 1 and C in the last.

At C = 10, n = 6, k = 5 (100 rows x 10 classes, P = 2, measured): a2b 4*7 + 7 + 14 + 20 = 69
rounds, 305,984 B sent per party online (352,256 B offline); fss 4 + 1 + 14 + 20 = 39 rounds,
252,800 B online (4.16 MB of DCF keys offline). ``max_method="pairs"``: a2b 53 rounds,
401,152 B; fss 38 rounds, 298,600 B. The probabilities are within 3.1e-4 of numpy's softmax
on logits with spreads up to 100 (``tests/test_softmax.py``).
"""
from __future__ import annotations

import math

import numpy as np

from fibench.mpc.encoding import encode
from fibench.mpc.protocols import argmax as am
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.shares import AShare

#: squarings of the exp limit (see the module docstring for the error)
EXP_ITERS = 6
#: 2: t = 1 + u + u^2/2 (one product more, error O(x^3 / 2^(2n))); 1: the plain limit t = 1 + u
EXP_ORDER = 2
#: working fractional bits of the exp squarings (t <= 1: products < 2^(2W) = 2^60 < 2^62)
EXP_WORK_BITS = 30
MAX_METHODS = ("tree", "pairs")


def exp_lower(frac: int) -> float:
    """The clamp L = -(f + 1) ln 2 of the exp input: exp(x) < 2^-(f+1) (half an ulp) below it."""
    return -(frac + 1) * math.log(2.0)


def _enc(v: float, frac: int) -> np.ndarray:
    return encode(v, frac)


def _check(x, name: str = "x") -> None:
    if not isinstance(x, AShare):
        raise TypeError(f"{name} must be an AShare, got {type(x).__name__}")


def _int_param(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


def _flat(x: AShare) -> AShare:
    return x.map(lambda s: np.ascontiguousarray(s.reshape(-1)), shape=(x.size,))


def _cat(xs: list) -> AShare:
    """Flattened concatenation of shares with the same frac (local)."""
    parts = {p: np.concatenate([x.shares[p].reshape(-1) for x in xs]) for p in xs[0].shares}
    return AShare(parts, (sum(x.size for x in xs),), xs[0].frac)


def _split(x: AShare, shapes: list) -> list:
    out, off = [], 0
    for shp in shapes:
        n = int(np.prod(shp))
        out.append(x.map(lambda s, o=off, n=n, shp=shp: np.ascontiguousarray(s[o: o + n].reshape(shp)), shape=shp))
        off += n
    return out


def _bcast(x: AShare, shape: tuple) -> AShare:
    """(n,) -> (n, C) along the last axis (local copy)."""
    return x.map(lambda s: np.ascontiguousarray(np.broadcast_to(s.reshape(-1, 1), shape)), shape=shape)


def _mul_to(ctx, x: AShare, y: AShare, frac: int, label: str) -> AShare:
    """Product truncated (``ctx.trunc``) to ``frac`` fractional bits (``ar.mul_trunc``: fused
    into 2 rounds on replicated shares)."""
    return ar.mul_trunc(ctx, x, y, frac, False, label)


# -- 1. row max --------------------------------------------------------------------------------------

def row_max(ctx, x: AShare, method: str = "tree") -> AShare:
    """Exact maximum over the last axis of an ``(n, C)`` share: ``(n,)``, same frac."""
    _check(x)
    if method not in MAX_METHODS:
        raise ValueError(f"max_method must be one of {MAX_METHODS}, got {method!r}")
    if len(x.shape) != 2 or x.shape[1] < 1:
        raise ValueError(f"row_max needs a 2-D (n, C) share with C >= 1, got shape {x.shape}")
    if ctx.checker:  # differences of two entries must not wrap
        ctx.checker.within(x, 63, "softmax/max")
    n, C = x.shape
    if C == 1 or n == 0:
        return x.map(lambda s: np.ascontiguousarray(s[:, 0]), shape=(n,))
    if method == "pairs":
        onehot = am.argmax(ctx, x, method="pairs", one_hot=True)  # frac 0: the product needs no truncation
        sel = ar.mul(ctx, onehot, x, "softmax/max/select")
        return ar.sum_axis(sel, axis=1)
    v = x
    while v.shape[1] > 1:
        k = v.shape[1]
        h = k // 2
        a, b = v[:, :h], v[:, h: 2 * h]
        m = ar.add(b, ctx.cmp.relu(ctx, ar.sub(a, b)))  # max(a, b) = b + relu(a - b)
        if k % 2:
            rest = v[:, 2 * h:]
            m = AShare({p: np.concatenate([m.shares[p], rest.shares[p]], axis=1) for p in m.shares},
                       (n, h + 1), x.frac)
        v = m
    return v.map(lambda s: np.ascontiguousarray(s[:, 0]), shape=(n,))


# -- 2./3. clamp and exp -----------------------------------------------------------------------------

def exp_nonpositive(ctx, d: AShare, iters: int = EXP_ITERS, lower: float | None = None,
                    order: int = EXP_ORDER) -> AShare:
    """exp(d) for shared reals d <= 0 (any shape, frac f): clamp at ``lower`` (default
    ``exp_lower(f)``), then t^(2^n) by n = ``iters`` squarings, t = 1 + u (``order`` 1, the
    plain limit) or t = 1 + u + u^2/2 (``order`` 2), u = d/2^n (module docstring)."""
    _check(d, "d")
    f = d.frac
    iters = _int_param("exp_iters", iters, 1, 30)
    if order not in (1, 2):
        raise ValueError(f"exp_order must be 1 or 2, got {order!r}")
    work = EXP_WORK_BITS if ctx.trunc == "dealer" else f + iters
    if f + iters > work:
        raise ValueError(f"exp_iters must be <= {work - f} at frac_bits={f} (1 + x/2^n is formed exactly "
                         f"at {work} fractional bits), got {iters}")
    lower = exp_lower(f) if lower is None else float(lower)
    if not -(2.0**iters) <= lower < 0:
        raise ValueError(f"lower must lie in [-2^exp_iters, 0) = [{-(2.0 ** iters)}, 0), got {lower!r}")
    lo = _enc(lower, f)
    dc = ar.add_public(ctx.cmp.relu(ctx, ar.add_public(d, np.uint64(0) - lo)), lo)  # max(d, L)
    shift = np.uint64(work - f - iters)
    t = ar.add_public(dc.map(lambda s: s << shift, frac=work), np.uint64(1) << np.uint64(work))  # 1 + d/2^n
    if order == 2:  # + u^2/2 = d^2 / 2^(2n+1): one product at 2f bits, truncated to W bits at once
        half = ar.mul_trunc(ctx, dc, dc, work - 2 * iters - 1, False, "softmax/exp/square")
        t = ar.add(t, half.map(lambda s: s, frac=work))  # the raw value is u^2/2 at W bits
    for i in range(iters):
        t = _mul_to(ctx, t, t, work if i < iters - 1 else f, "softmax/exp")
    return t


# -- 5. reciprocal -----------------------------------------------------------------------------------

def initial_guess(C: int) -> tuple[float, float, float]:
    """``(a, b, delta)``: y0 = a - b S is the minimax linear guess of 1/S on [1, C], with
    |1 - S y0| <= delta = (C-1)^2 / (C^2 + 6C + 1)."""
    b = 8.0 / (C * C + 6.0 * C + 1.0)
    return b * (C + 1.0), b, (C - 1.0) ** 2 / (C * C + 6.0 * C + 1.0)


def newton_iters(C: int, frac: int) -> int:
    """Fewest Newton iterations with |e0|^(2^k) <= 2^-(frac+2) on [1, C] (5 for C = 10, f = 16)."""
    delta = initial_guess(C)[2] * (1 + 2.0**-10) + 2.0**-12  # slack: encoded constants, S a few ulp outside
    k = 1
    while delta ** (2**k) > 2.0 ** -(frac + 2):
        k += 1
    return k


def _guess(ctx, S: AShare, C: int) -> AShare:
    """y0 = a - b S at 2f fractional bits (no truncation round) where the next product S y0
    stays in range (C 2^(3f) < 2^61), else truncated to f bits (1 round)."""
    f = S.frac
    a, b, _ = initial_guess(C)
    y0 = ar.add_public(ar.neg(ar.mul_public(S, _enc(b, f), f)), _enc(a * 2.0**f, f))  # a at 2f bits
    if (C + 1) * 2.0 ** (3 * f) < 2.0**61:
        return y0
    return ar.truncate(ctx, y0, f, ctx.trunc, "softmax/recip/trunc")


def reciprocal(ctx, S: AShare, C: int, iters: int | None = None) -> AShare:
    """1/S for shared S in [1, C] (any shape, frac f), by Newton from the linear guess."""
    _check(S, "S")
    f = S.frac
    iters = newton_iters(C, f) if iters is None else _int_param("newton_iters", iters, 1, 64)
    y = _guess(ctx, S, C)
    two = _enc(2.0, f)
    for _ in range(iters):
        u = _mul_to(ctx, S, y, f, "softmax/recip")
        y = _mul_to(ctx, y, ar.add_public(ar.neg(u), two), f, "softmax/recip")
    return y


# -- the softmax -------------------------------------------------------------------------------------

def softmax(ctx, x: AShare, exp_iters: int = EXP_ITERS, newton: int | None = None,
            max_method: str = "tree", exp_order: int = EXP_ORDER) -> AShare:
    """Softmax over the last axis of a shared ``(n, C)`` fixed-point matrix; returns ``(n, C)``
    shares of the probabilities with ``x.frac`` fractional bits. ``exp_iters``: squarings of
    the exp limit; ``newton``: Newton iterations of the reciprocal (default
    ``newton_iters(C, f)``); ``max_method``: ``"tree"`` or ``"pairs"`` (module docstring)."""
    _check(x)
    if len(x.shape) != 2 or x.shape[1] < 1:
        raise ValueError(f"softmax needs a 2-D (n, C) share with C >= 1, got shape {x.shape}")
    n, C = x.shape
    f = x.frac
    if f < 1:
        raise ValueError(f"softmax needs fixed-point input (frac >= 1), got frac {f}")
    k = newton_iters(C, f) if newton is None else _int_param("newton", newton, 1, 64)
    if n == 0:
        return AShare({p: np.zeros((0, C), dtype=np.uint64) for p in ctx.components}, (0, C), f)
    m = row_max(ctx, x, max_method)
    d = ar.sub(x, _bcast(m, (n, C)))  # <= 0, exactly 0 at the max
    e = exp_nonpositive(ctx, d, exp_iters, order=exp_order)
    S = ar.sum_axis(e, axis=1)  # in [1, C]
    y = _guess(ctx, S, C)
    two = _enc(2.0, f)
    for _ in range(k - 1):
        u = _mul_to(ctx, S, y, f, "softmax/recip")
        y = _mul_to(ctx, y, ar.add_public(ar.neg(u), two), f, "softmax/recip")
    # last iteration fused with the normalisation: (S y, e y) in one round, then (e y)(2 - S y)
    yb = _bcast(y, (n, C))
    both = _mul_to(ctx, _cat([S, e]), _cat([y, yb]), f, "softmax/norm")
    u, ey = _split(both, [(n,), (n, C)])
    return _mul_to(ctx, ey, ar.add_public(ar.neg(_bcast(u, (n, C))), two), f, "softmax/norm")
