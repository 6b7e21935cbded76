"""Validated fixed-point encoding (the public face of ``fibench.kernels.fixed_point``)."""
from __future__ import annotations

import numpy as np

from fibench.mpc import config
from fibench.kernels import fixed_point as _fp


def check_frac_bits(frac_bits) -> int:
    if isinstance(frac_bits, bool) or not isinstance(frac_bits, (int, np.integer)) or not (
        config.FRAC_BITS_MIN <= frac_bits <= config.FRAC_BITS_MAX
    ):
        raise ValueError(
            f"frac_bits must be an integer in [{config.FRAC_BITS_MIN}, {config.FRAC_BITS_MAX}], got {frac_bits!r}"
        )
    return int(frac_bits)


def max_value(frac_bits: int = config.FRAC_BITS) -> float:
    """Largest float64 accepted by ``encode`` for ``frac_bits`` (the smallest is its negative).

    Its encoding stays below 2**62 in absolute value (``config.MAX_RAW``).
    """
    return float(np.nextafter((config.MAX_RAW + 1) / 2.0**frac_bits, 0.0))


def encode(x, frac_bits: int = config.FRAC_BITS) -> np.ndarray:
    """Encode reals (array-like, any shape) into uint64 fixed point with rounding.

    Raises ``ValueError`` for non-finite values or |x| > ``max_value(frac_bits)``.
    """
    frac_bits = check_frac_bits(frac_bits)
    x = np.asarray(x, dtype=np.float64)
    # compared in float64, where 2^62 = MAX_RAW + 1 is exact and the next float below it
    # (2^62 - 512) is within the range: rint(x * 2^f) >= 2^62 is exactly "out of range"
    out, nonfinite, outside = _fp.encode_checked(x, frac_bits, float(config.MAX_RAW + 1))
    if nonfinite:
        raise ValueError("x must be finite (found NaN or infinity)")
    if outside:
        raise ValueError(f"x out of the fixed-point range: |x| must be < 2^{62 - frac_bits} "
                         f"(<= {max_value(frac_bits):.17g}) for frac_bits={frac_bits}")
    return out


def decode(raw, frac_bits: int = config.FRAC_BITS) -> np.ndarray:
    """Decode uint64 fixed point (any shape) into float64 (two's complement, exact)."""
    frac_bits = check_frac_bits(frac_bits)
    raw = np.asarray(raw)
    if raw.dtype != np.uint64:
        raise ValueError(f"raw must be a uint64 array, got dtype {raw.dtype}")
    return _fp.decode(raw, frac_bits)
