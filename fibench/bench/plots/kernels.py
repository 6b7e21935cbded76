"""Figures of the ``kernels`` suite: throughput vs problem size, and speed relative to the
in-run numpy reference."""
from __future__ import annotations

from pathlib import Path

from fibench.bench.plots.common import (
    col,
    legend_outside,
    numeric,
    save,
    spans_decades,
    subplots,
)


def plot_kernels(df, outdir) -> list[Path]:
    kcol = col(df, "kernel")
    tcol = col(df, "throughput", "throughput_elems_per_s")
    rcol = col(df, "ratio_vs_numpy", "speedup_vs_numpy")
    if kcol is None or "n" not in df.columns or (tcol is None and rcol is None):
        return []
    d = numeric(df, "n", *(c for c in (tcol, rcol) if c))
    paths = []
    if tcol:
        fig, ax = subplots(figsize=(7.5, 4.2))
        for i, (kern, dk) in enumerate(d.groupby(kcol, sort=True)):
            m = dk.groupby("n")[tcol].median().sort_index()
            ax.plot(m.index, m.to_numpy(), marker="o", label=kern, linestyle="-" if i < 10 else "--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("problem size n [elements]")
        ax.set_ylabel("throughput [elements/s]")
        ax.grid(which="both", alpha=0.3)
        legend_outside(ax, "kernel")
        fig.tight_layout()
        paths += save(fig, outdir, "kernels_throughput")
    if rcol:
        nmax = d["n"].max()
        m = d.groupby(kcol)[rcol].median().sort_values()
        fig, ax = subplots(figsize=(7, 0.3 * len(m) + 1.5))
        ax.barh(m.index, m.to_numpy())
        ax.axvline(1.0, color="k", linewidth=0.7)
        if spans_decades(m.to_numpy(), 1.0):
            ax.set_xscale("log")
        ax.set_xlabel("speed relative to numpy reference [×] (median over sizes)")
        ax.set_title(f"kernel speed ÷ numpy speed (sizes up to n={int(nmax)})", fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, "kernels_ratio_vs_numpy")
    return paths
