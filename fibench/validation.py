"""Parameter checks shared by the public API: clear ValueErrors naming the parameter."""
from __future__ import annotations

import numpy as np


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]`` (``hi=None``: no upper bound), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {rng}, got {value}")
    return value


def check_labels_array(y, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D int64 array of class labels 0..C-1 (integer-valued floats accepted),
    else ValueError naming ``name``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class labels 0..C-1")
    y = y.astype(np.int64, copy=False)
    if y.size and y.min() < 0:
        raise ValueError(f"{name} must hold integer class labels 0..C-1 (found a negative label)")
    return y


class NotFittedError(ValueError, RuntimeError):
    """A model or ensemble used before ``fit`` (a ValueError, like scikit-learn's)."""
