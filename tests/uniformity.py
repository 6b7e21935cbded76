"""Statistical checks that a view looks uniform, shared by the security tests.

Shares and masks come from a CSPRNG that no test can seed, so each check is a hypothesis test
that fails falsely with probability ``ALPHA``. The suite makes a few hundred of them per run; at
``ALPHA = 1e-9`` a false failure comes about once in 10^6 runs. (At the 1e-4 used before, a run
of its 131 such checks failed falsely about once in 75: CI saw p = 7e-5 on a correct share.) The
defects these checks exist for (a secret-dependent share, a stuck lane, an unmasked byte) give
p-values many orders of magnitude below ``ALPHA`` at the sample sizes used; the tests show it
with non-uniform counterparts that must fail.
"""
import numpy as np
from scipy import stats as sps

ALPHA = 1e-9


def byte_counts(words) -> np.ndarray:
    """How often each byte value 0..255 occurs in the bytes of ``words`` (any dtype)."""
    return np.bincount(np.ascontiguousarray(words).view(np.uint8).reshape(-1), minlength=256)


def bytes_look_uniform(words) -> bool:
    """Chi-square on the bytes: True unless uniformity is rejected at ``ALPHA``."""
    return sps.chisquare(byte_counts(words)).pvalue > ALPHA


def top_bits_look_uniform(words) -> bool:
    """Kolmogorov-Smirnov of the top 53 bits of uint64 ``words`` (as a fraction in [0, 1))."""
    return sps.kstest(_fraction(words), "uniform").pvalue > ALPHA


def same_distribution(a, b) -> bool:
    """Two-sample Kolmogorov-Smirnov on the top 53 bits of two uint64 samples."""
    return sps.ks_2samp(_fraction(a), _fraction(b)).pvalue > ALPHA


def _fraction(words) -> np.ndarray:
    return (np.asarray(words, dtype=np.uint64).reshape(-1) >> np.uint64(11)).astype(np.float64) / 2.0**53
