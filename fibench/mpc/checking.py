"""The checking mode of the ``local`` backend: every promise about ranges, verified.

All shares live in one process there, so a ``RangeChecker`` can reconstruct intermediates
and raise ``RangeError`` (a ``ValueError``) naming the operation the moment a value leaves
the range that the next step relies on:

* a product (``mul``, ``matmul``, before truncation) must satisfy |x_raw * y_raw| < 2^62 —
  for matmul the sum over k of |x_ik| |y_kj| — so that the exact truncation stays exact;
* a sum or difference (``add``, ``sub``, ``lt``) must not wrap: |x +- y| < 2^63;
* a comparison input must lie within the ``cmp_bits`` promise [-2^(l-1), 2^(l-1));
* a truncation's result must be within 1 ulp of the exact floor (catches the probabilistic
  ``trunc="local"``).

Messages name the operation, the bound and how many elements broke it, never a value. Costs
one reconstruction per checked operation: for tests and debugging, not for timings.
"""
from __future__ import annotations

import numpy as np

LIMIT_PRODUCT = 2**62


class RangeError(ValueError):
    """A value left the range an MPC step relies on (checking mode)."""


def _signed(shares: dict) -> np.ndarray:
    parts = list(shares.values())
    total = parts[0].copy()
    for s in parts[1:]:
        total += s
    return total.view(np.int64)


class RangeChecker:
    """Reconstructs values of one process's shares (every party must be local)."""

    def value(self, x) -> np.ndarray:
        """The signed raw value (int64) of an ``AShare`` or a ``MaskedInput``."""
        if hasattr(x, "e"):  # MaskedInput: x = e + a
            return (x.e + _signed(x.mask.shares).view(np.uint64)).view(np.int64)
        return _signed(x.shares)

    def product(self, x, y, matmul: bool, op: str, limit: int = LIMIT_PRODUCT) -> None:
        ax = np.abs(self.value(x).astype(np.float64))
        ay = np.abs(self.value(y).astype(np.float64))
        bound = ax @ ay if matmul else ax * ay
        bad = int(np.count_nonzero(bound >= limit * (1 - 1e-12)))
        if bad:
            e = limit.bit_length() - 1
            raise RangeError(f"{op}: {bad} product(s) leave the range |x*y| < 2^{e} of raw fixed-point values "
                             f"(reals: |x*y| < 2^({e}-2f)); the result would wrap")

    def no_wrap(self, x, y, sign: int, op: str) -> None:
        a, b = self.value(x).astype(object), self.value(y).astype(object)
        exact = np.asarray(a + b if sign > 0 else a - b)
        bad = int(np.count_nonzero((exact >= 2**63) | (exact < -(2**63)))) if exact.size else 0
        if bad:
            raise RangeError(f"{op}: {bad} element(s) wrap around the ring (|result| >= 2^63)")

    def within(self, x, bits: int, op: str) -> None:
        if bits >= 64:
            return
        v = self.value(x)
        half = 1 << (bits - 1)
        bad = int(np.count_nonzero((v >= half) | (v < -half)))
        if bad:
            raise RangeError(f"{op}: {bad} comparison input(s) leave the cmp_bits={bits} promise "
                             f"[-2^{bits - 1}, 2^{bits - 1}) (raw fixed-point integers)")

    def truncation(self, x, out, bits: int, op: str) -> None:
        want = self.value(x) >> np.int64(bits)  # exact floor
        got = self.value(out)
        bad = int(np.count_nonzero(np.abs(got.astype(object) - want.astype(object)) > 1)) if got.size else 0
        if bad:
            raise RangeError(f"{op}: {bad} truncated value(s) are off by more than 1 ulp "
                             f"(the probabilistic trunc='local' failed, or the input left |x| < 2^62)")
