"""Figures of the ``kernels`` suite: throughput vs problem size, and speed relative to the
in-run numpy reference.

The kernels' sizes mean different things (``fibench.bench.measures.kernels``): elements for
the elementwise kernels, the side of a square matrix for ``ring_matmul`` (work = n^3
multiply-adds), the number of owners K for ``shapley`` (work = 2^K coalitions). Each family
gets its own panel with its own axes, never one shared "elements" axis.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.ticker

from fibench.bench.plots.common import (
    NotDrawn,
    col,
    legend_outside,
    numeric,
    save,
    spans_decades,
    subplots,
)

#: kernel -> (panel title, x label, y label); every other kernel is elementwise
FAMILIES = {
    "ring_matmul": ("ring matmul (n x n) @ (n x n)", "matrix side n", "throughput [multiply-adds/s]"),
    "shapley": ("exact Shapley enumeration", "owners K", "throughput [coalitions/s]"),
}
ELEMENTWISE = ("elementwise kernels", "problem size n [elements]", "throughput [elements/s]")


def _family(kernel: str) -> tuple[str, str, str]:
    return FAMILIES.get(kernel, ELEMENTWISE)


def plot_kernels(df, outdir) -> list:
    kcol = col(df, "kernel")
    tcol = col(df, "throughput", "throughput_elems_per_s")
    rcol = col(df, "ratio_vs_numpy", "speedup_vs_numpy")
    if kcol is None or "n" not in df.columns or (tcol is None and rcol is None):
        return []
    d = numeric(df, "n", *(c for c in (tcol, rcol) if c))
    paths = []
    if tcol:
        fams = list(dict.fromkeys(_family(k) for k in sorted(d[kcol].dropna().unique(), key=lambda k: k in FAMILIES)))
        fig, axes = subplots(1, len(fams), figsize=(5.2 * len(fams) + 1.5, 4.0), squeeze=False)
        for ax, fam in zip(axes[0], fams):
            kernels = sorted(k for k in d[kcol].dropna().unique() if _family(k) == fam)
            for i, kern in enumerate(kernels):
                m = d[d[kcol] == kern].groupby("n")[tcol].median().sort_index()
                ax.plot(m.index, m.to_numpy(), marker="o", label=kern, linestyle="-" if i < 10 else "--")
            ax.set_xscale("log")
            ax.set_yscale("log")
            if fam is not ELEMENTWISE:  # a few sizes: a plain tick at each (no 2x10^1 labels)
                ns = sorted(d[d[kcol].isin(kernels)]["n"].dropna().unique())
                ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ns))
                ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([f"{int(n)}" for n in ns]))
                ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.set_title(fam[0], fontsize=9)
            ax.set_xlabel(fam[1])
            ax.set_ylabel(fam[2])
            ax.grid(which="both", alpha=0.3)
            if fam is ELEMENTWISE or len(kernels) > 1:
                legend_outside(ax, "kernel")
        fig.suptitle("kernel throughput (median over repetitions)", fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, "kernels_throughput")
    if rcol:
        m = d.groupby(kcol)[rcol].median().sort_values()
        if len(m) < 2:
            return paths + [NotDrawn("kernels_ratio_vs_numpy", f"one kernel only ({', '.join(m.index)})")]
        fig, ax = subplots(figsize=(7, 0.3 * len(m) + 1.5))
        ax.barh(m.index, m.to_numpy())
        ax.axvline(1.0, color="k", linewidth=0.7)
        if spans_decades(m.to_numpy(), 1.0):
            ax.set_xscale("log")
        ax.set_xlabel("speed relative to numpy reference [×] (median over sizes)")
        ax.set_title("kernel speed ÷ numpy speed on the same data, same run", fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, "kernels_ratio_vs_numpy")
    return paths
