"""Formatting shared by the report and the figures (no matplotlib, no pandas)."""
from __future__ import annotations

import math

#: network profiles in the order tables and figures show them (others follow alphabetically)
PROFILE_ORDER = ("lan", "region", "wan", "geo")


def fmt_seconds(s: float) -> str:
    """``12 µs``, ``3.4 ms``, ``2.5 s``, ``3 min``; ``n/a`` for a non-finite value."""
    if not math.isfinite(s):
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    if s < 120:
        return f"{s:.3g} s"
    return f"{s / 60:.3g} min"


def fmt_value(v) -> str:
    """A grid value for a caption: whole floats without ``.0``."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    return str(v)


def profile_order(names) -> list:
    """The distinct network profile names, known profiles first in ``PROFILE_ORDER``."""
    names = list(dict.fromkeys(names))
    return [p for p in PROFILE_ORDER if p in names] + sorted(n for n in names if n not in PROFILE_ORDER)


def fmt_duration(s: float) -> str:
    """A run's length, to two significant digits: ``40 s``, ``12 min``, ``2.5 h``."""
    if not math.isfinite(s):
        return "n/a"
    if s < 90:
        return f"{s:.2g} s" if s < 10 else f"{round(s):.0f} s"
    if s < 5400:
        return f"{s / 60:.2g} min"
    return f"{s / 3600:.2g} h"
