"""Figures of the ``privacy`` suite: accuracy of the noisy vote vs epsilon (one panel per
number of owners K and Dirichlet alpha), answered queries vs the epsilon budget, and the
label-free rewards' agreement with Shapley vs the noise scale (one panel per alpha)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fibench.bench.formatting import fmt_value
from fibench.bench.plots.common import (NotDrawn, alpha_value, col, facet_stem, facets, legend_outside, numeric,
                                        save, setting_text, subplots, varying)


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


_SCHEME_STYLE = {"agreement": ("C0", "o"), "pseudo_shapley": ("C1", "s"), "confidence": ("C2", "^")}


def plot_incentives_vs_sigma(df, outdir) -> list:
    """Agreement of the label-free rewards computed from the NOISY released labels with Shapley
    of the noiseless labelled utility, vs the noise scale sigma (symlog x, 0 = noiseless): top
    row Spearman rank correlation, bottom row L1 distance of reward shares; one column per
    Dirichlet alpha, one line per scheme (median over seeds, band = min..max over the seeds when
    there are several). One figure per (dataset, model, owners, rule, noise) setting."""
    if col(df, "part") is None or col(df, "spearman") is None:
        return []
    d = df[df["part"] == "incentives"].copy()
    if d.empty:
        return []
    d["alpha"] = d["alpha"].map(alpha_value)
    d = numeric(d, "owners", "sigma", "spearman", "l1", "seed")
    # the noiseless row (noise "none") belongs to every noise kind's figure
    kinds = sorted(k for k in d["noise"].dropna().unique() if k != "none") or ["none"]
    d = pd.concat([d[d["noise"].isin([k, "none"])].assign(noise=k) for k in kinds], ignore_index=True)
    groups = facets(d, ["dataset", "model", "owners", "rule", "noise"])
    names = varying([s for s, _ in groups])
    out = []
    for settings, g in groups:
        stem = facet_stem("incentives_vs_sigma", settings, names)
        if g["sigma"].nunique() < 2:
            out.append(NotDrawn(stem, f"one sigma value ({setting_text(settings)}): no curve to draw"))
            continue
        alphas = sorted(g["alpha"].dropna().unique())
        n_seeds = int(g["seed"].nunique())
        fig, axes = subplots(2, len(alphas), figsize=(3.4 * len(alphas) + 2.2, 5.6), squeeze=False, sharex=True,
                             sharey="row")
        for j, a in enumerate(alphas):
            ga = g[g["alpha"] == a]
            for i, (metric, label) in enumerate((("spearman", "Spearman ρ with Shapley"),
                                                 ("l1", "L1 distance of reward shares"))):
                ax = axes[i][j]
                for scheme, gs in ga.groupby("scheme"):
                    color, marker = _SCHEME_STYLE.get(scheme, ("C3", "d"))
                    m = gs.groupby("sigma")[metric].agg(["median", "min", "max"]).reset_index().sort_values("sigma")
                    ax.plot(m["sigma"], m["median"], marker=marker, markersize=3, color=color, label=scheme)
                    if n_seeds > 1:
                        ax.fill_between(m["sigma"], m["min"], m["max"], color=color, alpha=0.15, linewidth=0)
                ax.set_xscale("symlog", linthresh=1.0)
                ax.grid(alpha=0.3)
                if i == 0:
                    ax.axhline(0.0, color="k", linewidth=0.6)
                    ax.set_title(_alpha_label(a), fontsize=9)
                if j == 0:
                    ax.set_ylabel(label)
        legend_outside(axes[0][-1], "label-free scheme")
        fig.supxlabel("noise scale σ of the released vote [votes] (0 = noiseless)", fontsize=10)
        spread = f"median, band = min..max over {n_seeds} seeds" if n_seeds > 1 else "one seed (no spread)"
        fig.suptitle("label-free rewards from noisy released labels vs Shapley (noiseless, labelled)\n"
                     f"{setting_text(settings)}; {spread}", fontsize=9)
        fig.tight_layout()
        out += save(fig, outdir, stem)
    return out
