"""Helpers shared by the figure modules (one module per suite in ``fibench.bench.plots``).

Figures are ``matplotlib.figure.Figure`` objects on an Agg canvas (:func:`subplots`): nothing
here touches pyplot or the global backend, so importing a plot module changes no global state.
Every figure is written as PNG and SVG (:func:`save`, atomically). Axes carry units, log scales
are used where values span decades, legends sit outside the data area.

Column names are looked up from a short list of candidates (:func:`col`) so that suites written
by others can evolve without breaking the plots; a figure whose columns are missing is skipped
(its function returns no paths).
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fibench.bench import results as res
from fibench.bench.formatting import fmt_value

FORMATS = ("png", "svg")


class NotDrawn:
    """What a figure function returns (among its paths) for a figure it did not draw, and why
    (one point, one value where the title promises a comparison...); ``plot_run`` lists it."""

    def __init__(self, stem: str, reason: str):
        self.stem, self.reason = stem, reason

    def __str__(self) -> str:
        return f"{self.stem} not drawn: {self.reason}"

    def __repr__(self) -> str:
        return f"NotDrawn({self.stem!r}, {self.reason!r})"


def facets(df: pd.DataFrame, dims, min_values: dict | None = None) -> list[tuple[dict, pd.DataFrame]]:
    """Explicit facets: ``df`` split by every column of ``dims`` present in it (missing values
    are a value of their own), in sorted order, as ``(settings, rows)`` pairs. ``min_values``
    (column -> n) keeps only the facets in which that column has at least n distinct values
    (a line needs two points). No value is ever picked for the user: every facet is returned."""
    dims = [c for c in dims if c in df.columns]
    groups = df.groupby(dims, dropna=False, sort=True) if dims else [((), df)]
    out = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        if any(g[c].nunique() < n for c, n in (min_values or {}).items() if c in g.columns):
            continue
        out.append(({c: v for c, v in zip(dims, key) if not _missing(v)}, g))
    return out


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def varying(settings: list[dict]) -> list[str]:
    """The keys whose value differs between facets (those worth naming per facet)."""
    keys = list(dict.fromkeys(k for s in settings for k in s))
    return [k for k in keys if len({fmt_value(s.get(k)) for s in settings}) > 1]


def setting_text(settings: dict, keys=None) -> str:
    """``k=v, k=v`` of ``settings`` (only ``keys`` when given)."""
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in settings.items() if keys is None or k in keys)


def facet_stem(base: str, settings: dict, keys) -> str:
    """``base`` alone, or ``base_k-v_k-v`` naming the facet by the settings in ``keys``."""
    if not keys:
        return base
    part = "_".join(f"{k}-{fmt_value(settings.get(k, 'na'))}" for k in keys)
    return base + "_" + "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in part)


def constants(settings: list[dict]) -> dict:
    """The settings that all facets share."""
    if not settings:
        return {}
    keys = [k for k in settings[0] if all(k in s for s in settings)]
    return {k: settings[0][k] for k in keys if len({fmt_value(s[k]) for s in settings}) == 1}


def subplots(nrows: int = 1, ncols: int = 1, *, figsize=None, **kw):
    """``(figure, axes)`` like ``pyplot.subplots``, on an Agg canvas of its own."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kw)


def save(fig, outdir, stem: str, formats=FORMATS) -> list[Path]:
    outdir = Path(outdir)
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=120)
        paths.append(res.atomic_write_bytes(outdir / f"{stem}.{fmt}", buf.getvalue()))
    return paths


def col(df: pd.DataFrame, *candidates):
    """The first candidate column present in ``df`` (or None)."""
    for c in candidates:
        if c in df.columns:
            return c
    return None


def legend_outside(ax, title=None):
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, frameon=False)


def spans_decades(values, decades: float = 1.5) -> bool:
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return v.size > 1 and math.log10(v.max() / v.min()) >= decades


def numeric(df: pd.DataFrame, *cols) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def median(df: pd.DataFrame, by, values) -> pd.DataFrame:
    """Medians of ``values`` per group of ``by`` (groups with missing keys kept), flat."""
    return df.groupby(by, dropna=False, sort=True)[values].median().reset_index()


def alpha_value(v) -> float:
    """Dirichlet alpha as a float; "iid"/"inf" (an IID split) -> +inf, other text -> NaN."""
    if isinstance(v, str) and v.strip().lower() in ("iid", "inf", "infinity", "∞"):
        return math.inf
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def inf_axis(values):
    """Map +inf on a log axis to 10x the largest finite value; returns (mapped, tick, label)."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v) & (v > 0)]
    if not np.isinf(v).any():
        return v, None, None
    pos = (finite.max() * 10) if finite.size else 1.0
    return np.where(np.isinf(v), pos, v), pos, "∞ (IID)"
