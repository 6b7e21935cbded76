"""Figures of the ``privacy`` suite: accuracy of the noisy vote vs epsilon (one panel per
number of owners K and Dirichlet alpha), and answered queries vs the epsilon budget."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fibench.bench.plots.common import alpha_value, col, legend_outside, numeric, save, subplots



def _fix_others(df: pd.DataFrame, keep: list[str], candidates: list[str]) -> tuple[pd.DataFrame, str]:
    """Restrict ``df`` to the most common value of every column in ``candidates`` not in
    ``keep`` that has several values; returns the slice and a caption of what was fixed."""
    fixed = []
    for c in candidates:
        if c in keep or c not in df.columns:
            continue
        vals = df[c].dropna()
        if vals.nunique() > 1:
            v = vals.mode().iloc[0]
            df = df[df[c] == v]
            fixed.append(f"{c}={fmt_value(v)}")
    return df, ", ".join(fixed)


def _alpha_label(a) -> str:
    return "IID" if np.isinf(a) else f"α = {a:g}"


def plot_accuracy_vs_epsilon(df, outdir) -> list[Path]:
    """Accuracy vs the data-independent epsilon of 100 queries (log x), one panel per (alpha, K),
    one line per (rule, noise); the noiseless vote as a dashed line. Medians over seeds."""
    if col(df, "part") is None or col(df, "eps_100") is None:
        return []
    d = df[df["part"] == "accuracy"].copy()
    if d.empty:
        return []
    d["alpha"] = d["alpha"].map(alpha_value)
    d = numeric(d, "owners", "sigma", "accuracy", "noiseless_accuracy", "eps_100")
    d, fixed = _fix_others(d, ["alpha", "owners", "rule", "noise"], ["dataset", "model", "delta"])
    alphas = sorted(d["alpha"].dropna().unique())
    ks = sorted(d["owners"].dropna().unique())
    fig, axes = subplots(len(alphas), len(ks), figsize=(3.3 * len(ks) + 2.0, 2.8 * len(alphas) + 0.6),
                         squeeze=False, sharex=True, sharey=True)
    noisy = d[d["sigma"] > 0]
    for i, a in enumerate(alphas):
        for j, k in enumerate(ks):
            ax = axes[i][j]
            cell = d[(d["alpha"] == a) & (d["owners"] == k)]
            for (rule, noise), g in noisy[(noisy["alpha"] == a) & (noisy["owners"] == k)].groupby(["rule", "noise"]):
                m = g.groupby("eps_100")["accuracy"].median().reset_index().sort_values("eps_100")
                ax.plot(m["eps_100"], m["accuracy"], marker="o", markersize=3, label=f"{rule}, {noise}")
            for rule, g in cell.groupby("rule"):
                ax.axhline(float(g["noiseless_accuracy"].median()), linestyle="--", linewidth=0.8,
                           color="k" if rule == "hard_vote" else "0.5",
                           label=f"{rule}, noiseless")
            ax.set_xscale("log")
            ax.grid(alpha=0.3)
            ax.set_title(f"K = {int(k)}, {_alpha_label(a)}", fontsize=9)
            if j == 0:
                ax.set_ylabel("test accuracy [fraction]")
    legend_outside(axes[0][-1], "vote, noise")
    fig.supxlabel("ε of 100 answered queries (δ = 1e-5, data-independent)", fontsize=10)
    if fixed:
        fig.suptitle(fixed, fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, "accuracy_vs_epsilon")


def plot_queries_vs_budget(df, outdir) -> list[Path]:
    """Answered queries within each epsilon budget vs sigma (log-log), one line per (noise, budget)."""
    if col(df, "part") is None or col(df, "budget") is None:
        return []
    d = numeric(df[df["part"] == "budget"], "sigma", "budget", "queries")
    d = d[d["queries"] > 0]
    if d.empty:
        return []
    fig, ax = subplots(1, 1, figsize=(5.6, 3.8))
    for (noise, budget), g in d.groupby(["noise", "budget"]):
        g = g.sort_values("sigma")
        ax.plot(g["sigma"], g["queries"], marker="o", linestyle="-" if noise == "gaussian" else "--",
                label=f"{noise}, ε = {budget:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("noise scale σ [votes]")
    ax.set_ylabel("answered queries within ε (δ = 1e-5)")
    ax.grid(alpha=0.3, which="both")
    legend_outside(ax, "noise, budget")
    fig.tight_layout()
    return save(fig, outdir, "queries_vs_budget")
