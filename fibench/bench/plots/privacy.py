"""Figures of the ``privacy`` suite: accuracy of the noisy vote vs epsilon (one panel per
number of owners K and Dirichlet alpha; one figure per dataset, model, delta... as
:func:`fibench.bench.plots.common.facets` splits them), answered queries vs the epsilon
budget (one figure per delta), and the label-free rewards' agreement with Shapley vs the noise
scale (one panel per alpha)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fibench.bench.measures.privacy import noiseless_in_every_kind
from fibench.bench.plots.common import (
    NotDrawn,
    alpha_value,
    col,
    facet_stem,
    facets,
    legend_outside,
    numeric,
    save,
    setting_text,
    subplots,
    varying,
)

#: settings that make one accuracy-vs-epsilon figure each (explicit facets, nothing fixed to a
#: most common value); alpha and K are the panels, rule and noise the lines
FIGURE_DIMS = ["dataset", "n_samples", "model", "delta", "min_samples", "self_balancing"]
#: settings that make one queries-vs-budget figure each
BUDGET_DIMS = ["delta"]


def _alpha_label(a) -> str:
    return "IID" if np.isinf(a) else f"α = {a:g}"


def plot_accuracy_vs_epsilon(df, outdir) -> list:
    """Accuracy vs the data-independent epsilon of 100 queries (log x), one panel per (alpha, K),
    one line per (rule, noise); the noiseless vote as a dashed line. Medians over seeds. One
    figure per facet of ``FIGURE_DIMS`` (``accuracy_vs_epsilon`` alone when there is one, else
    ``accuracy_vs_epsilon_<key>-<value>...`` naming what differs); a facet without two noise
    scales draws no line and is reported as not drawn."""
    if col(df, "part") is None or col(df, "eps_100") is None:
        return []
    d = df[df["part"] == "accuracy"].copy()
    if d.empty:
        return []
    d["alpha"] = d["alpha"].map(alpha_value)
    d = numeric(d, "owners", "sigma", "accuracy", "noiseless_accuracy", "eps_100", "n_samples", "delta", "min_samples")
    groups = facets(d, FIGURE_DIMS)
    vary = varying([st for st, _ in groups])
    out: list = []
    for sett, g in groups:
        stem = facet_stem("accuracy_vs_epsilon", sett, vary)
        n_sigma = g.loc[g["sigma"] > 0, "sigma"].nunique()
        if n_sigma < 2:
            out.append(NotDrawn(stem, f"{n_sigma} noise scale(s) sigma > 0 ({setting_text(sett)}): a line needs two"))
            continue
        out += _accuracy_vs_epsilon_one(g, outdir, stem, sett)
    return out


def _accuracy_vs_epsilon_one(d, outdir, stem: str, sett: dict) -> list[Path]:
    alphas = sorted(d["alpha"].dropna().unique())
    ks = sorted(d["owners"].dropna().unique())
    fig, axes = subplots(len(alphas), len(ks), figsize=(3.3 * len(ks) + 2.0, 2.8 * len(alphas) + 0.8),
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
    delta = sett.get("delta")
    fig.supxlabel(f"ε of 100 answered queries (δ = {delta:g}, data-independent)" if delta is not None
                  else "ε of 100 answered queries (data-independent)", fontsize=10)
    fig.suptitle("noisy vote: accuracy vs ε; " + (setting_text(sett) or "settings not recorded"), fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, stem)


def plot_queries_vs_budget(df, outdir) -> list:
    """Answered queries within each epsilon budget vs sigma (log-log), one line per (noise,
    budget); one figure per delta (``queries_vs_budget`` alone when the run has one)."""
    if col(df, "part") is None or col(df, "budget") is None:
        return []
    d = numeric(df[df["part"] == "budget"], "sigma", "budget", "queries", "delta")
    d = d[d["queries"] > 0]
    if d.empty:
        return []
    groups = facets(d, BUDGET_DIMS)
    vary = varying([st for st, _ in groups])
    out: list = []
    for sett, g in groups:
        stem = facet_stem("queries_vs_budget", sett, vary)
        if g["sigma"].nunique() < 2:
            out.append(NotDrawn(stem, f"one noise scale sigma ({setting_text(sett) or 'one setting'}): a line needs two"))
            continue
        out += _queries_vs_budget_one(g, outdir, stem, sett)
    return out


def _queries_vs_budget_one(d, outdir, stem: str, sett: dict) -> list[Path]:
    fig, ax = subplots(1, 1, figsize=(5.6, 3.8))
    for (noise, budget), g in d.groupby(["noise", "budget"]):
        g = g.sort_values("sigma")
        ax.plot(g["sigma"], g["queries"], marker="o", linestyle="-" if noise == "gaussian" else "--",
                label=f"{noise}, ε = {budget:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("noise scale σ [votes]")
    delta = sett.get("delta")
    ax.set_ylabel(f"answered queries within ε (δ = {delta:g})" if delta is not None else "answered queries within ε")
    ax.grid(alpha=0.3, which="both")
    legend_outside(ax, "noise, budget")
    fig.tight_layout()
    return save(fig, outdir, stem)


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
    d = noiseless_in_every_kind(d)  # the noiseless row belongs to every noise kind's figure
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
