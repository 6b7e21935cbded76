"""Boolean gates and bit-to-arithmetic conversion on replicated bit-sliced shares (3 servers).

Replicated boolean shares: word arrays keyed by component like arithmetic ones (x = x_0 ^ x_1
^ x_2, server p holds x_p and x_{p+1}), 64 independent bits per uint64 word (the layout of
``fibench.kernels.bitslice``). XOR and NOT (on component 0) are local.

* ``and_gates``: z_p = x_p & y_p ^ x_p & y_{p+1} ^ x_{p+1} & y_p ^ beta_p (beta a PRF zero
  sharing), then resharing: 1 round, 1 bit per gate per server.
* ``b2a``: the call's helper h knows u = b_h ^ b_{h+1}, the servers A = h+1 and B = h+2 both
  know w = b_{h+2}, and b = u ^ w = w + (1 - 2w) u. Round 1: h sends B its share u - F(k_{h+1})
  of u as a ring element (A's share F(k_{h+1}) costs nothing), so A and B hold a 2-out-of-2
  sharing of b; round 2: ``from_pair`` makes it replicated. 2 rounds; per bit 8 bytes from h,
  8 bytes from each of A and B. A and B see one uniform ring element each; h receives nothing.
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import bitslice as kbs
from fibench.mpc.protocols.replicated_sharing import from_pair, nxt, reshare, roles, zero_shares
from fibench.mpc.shares import AShare


def and_gates(ctx, X: dict, Y: dict, label: str = "and") -> dict:
    """Elementwise AND of component-keyed word arrays of one shape, in one round."""
    shape = next(iter(X.values())).shape
    n = int(np.prod(shape)) if shape else 1
    t = ctx.prf.call()
    beta = zero_shares(ctx, t, 0, n, xor=True)
    z = {}
    for p in ctx.parties:
        x0, x1, y0, y1 = (a.reshape(-1) for a in (X[p], X[nxt(p)], Y[p], Y[nxt(p)]))
        z[p] = (x0 & (y0 ^ y1)) ^ (x1 & y0) ^ beta[p]
    return reshare(ctx, z, shape, 0, label).shares


def b2a(ctx, planes: dict, n: int, label: str = "b2a") -> AShare:
    """Replicated planes ``(k, nwords)`` holding k rows of ``n`` bits -> replicated arithmetic
    ``(k, n)`` 0/1 values (frac 0), in 2 rounds (module docstring)."""
    k = next(iter(planes.values())).shape[0]
    t = ctx.prf.call()
    h, A, B = roles(t)
    parties = ctx.parties
    m = k * n

    def bits(words):
        return kbs.unslice_planes(words, n).reshape(-1)

    uA = ctx.prf.expand(A, t, 1, m) if ctx.prf.holds(A) else None  # k_{h+1}: h and A
    links = {}
    if h in parties:
        u = bits(planes[h] ^ planes[A])
        links[(h, B)] = u - uA
    inc = ctx.comm.exchange(links, label)
    y = {}
    if A in parties or B in parties:
        w = bits(planes[B])
        sign = np.uint64(1) - np.uint64(2) * w
        if A in parties:
            y[A] = sign * uA + w
        if B in parties:
            uB = links[(h, B)] if h in parties else inc[(h, B)]
            y[B] = sign * uB
    return from_pair(ctx, t, y, (k, n), 0, f"{label}/reshare")
