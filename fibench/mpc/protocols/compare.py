"""The interface every secure comparison protocol implements, and its generic parts.

A protocol is chosen once per session (``Context.cmp``) and serves four operations on
additive shares over Z_2^64 (inputs read as signed, within the context's ``cmp_bits`` promise):

* ``ltz(ctx, x)``: additive 0/1 shares (frac 0, shape of x) of [x < 0];
* ``ltz_bool(ctx, x)``: bit-sliced XOR shares ``{party: (1, ceil(n/64))}`` of [x < 0] over the
  flattened x (the input of boolean circuits such as argmax's AND tree);
* ``relu(ctx, x)``: max(x, 0), frac kept;
* ``argmax_pairs(ctx, x, one_hot)`` and ``argmax_reveal(ctx, x, to, method)``: see
  ``fibench.mpc.protocols.argmax``.

Implementations: ``compare_a2b.A2B`` (any P) and ``compare_fss.FSS`` (P = 2). The generic
methods below build on ``ltz`` (ReLU as x * (1 - [x < 0]), one extra Beaver round) and on the
AND-tree argmax; a protocol overrides what it does better.
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import bitslice as kbs
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols import argmax as am
from fibench.mpc.protocols.sharing import reveal
from fibench.mpc.shares import AShare


def keep_nonnegative(ctx, x: AShare, negative: AShare) -> AShare:
    """x * (1 - [x < 0]) from the additive 0/1 shares ``negative`` of [x < 0]: one Beaver round."""
    keep = AShare({p: (np.uint64(1) if p == 0 else np.uint64(0)) - s for p, s in negative.shares.items()},
                  negative.shape, 0)
    return ar.mul(ctx, x, keep, "relu/mul")


class ComparisonProtocol:
    """Base of the comparison protocols (see the module docstring)."""

    name = ""

    def check(self, n_parties: int) -> None:
        """Raise ``ValueError`` if the protocol cannot run with ``n_parties`` compute parties."""

    def ltz(self, ctx, x: AShare) -> AShare:
        raise NotImplementedError

    def ltz_bool(self, ctx, x: AShare) -> dict:
        # additive 0/1 shares -> XOR shares for free: bit 0 of a sum is the XOR of the bits 0
        bits = self.ltz(ctx, x)
        return {p: kbs.pack_bits(s.reshape(-1) & np.uint64(1)).reshape(1, -1) for p, s in bits.shares.items()}

    #: whether ``relu_rescale`` saves a round over truncating first (the pipeline then defers a
    #: linear layer's rescale into the ReLU that follows it)
    fuses_rescale = False

    def relu_rescale(self, ctx, z: AShare, bits: int) -> AShare:
        """max(z, 0) / 2^bits for a product ``z`` not rescaled yet (frac kept minus ``bits``).
        Generic: truncate with ``ctx.trunc``, then ``relu``."""
        return self.relu(ctx, ar.truncate(ctx, z, bits, ctx.trunc, "relu/trunc"))

    def relu(self, ctx, x: AShare) -> AShare:
        return keep_nonnegative(ctx, x, self.ltz(ctx, x))

    def argmax_pairs(self, ctx, x: AShare, one_hot: bool) -> AShare:
        return am.argmax_pairs_and(ctx, x, one_hot)

    def argmax_reveal(self, ctx, x: AShare, to, method: str = "pairs"):
        return reveal(ctx, am.argmax(ctx, x, method=method), to=to, label="reveal")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
