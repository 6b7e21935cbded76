"""Figures of the ``accuracy`` suite: ensemble accuracy and gain over the best single owner vs
the Dirichlet alpha, one panel per number of owners, one line per rule (one figure per model)."""
from __future__ import annotations

from pathlib import Path

import matplotlib.ticker
import numpy as np

from fibench.bench.plots.common import (
    alpha_value,
    col,
    fix_others,
    inf_axis,
    legend_outside,
    numeric,
    save,
    subplots,
)


def plot_accuracy(df, outdir) -> list[Path]:
    """Accuracy and ensemble gain vs alpha, one panel per K, one line per rule; one figure
    per model when the run has several."""
    a = col(df, "alpha")
    acc = col(df, "accuracy", "acc", "ensemble_accuracy")
    if a is None or acc is None:
        return []
    mcol = col(df, "model")
    if mcol is not None and df[mcol].nunique() > 1:
        paths = []
        for m, dm in df.groupby(mcol, sort=True):
            paths += _plot_accuracy_one(dm, outdir, f"_{m}", f"{mcol}={m}")
        return paths
    return _plot_accuracy_one(df, outdir, "", "")


def _plot_accuracy_one(df, outdir, suffix: str, caption: str) -> list[Path]:
    a = col(df, "alpha")
    k = col(df, "K", "owners", "n_owners", "k")
    rule = col(df, "rule", "aggregation", "method")
    acc = col(df, "accuracy", "acc", "ensemble_accuracy")
    gain = col(df, "gain_over_best", "gain_best", "gain_vs_best", "gain")
    d = df.copy()
    d[a] = d[a].map(alpha_value)
    d = numeric(d, a, acc, *(c for c in (gain, k) if c))
    d = d[d[a].notna()]
    d, fixed = fix_others(d, [a, k, rule], ["partition", "dataset", "secure", "mode", "hidden"])
    caption = ", ".join(x for x in (caption, fixed) if x)
    ks = sorted(d[k].dropna().unique()) if k else [None]
    rules = list(dict.fromkeys(d[rule].dropna())) if rule else [None]
    paths = []
    for metric, ylabel, stem in ((acc, "ensemble accuracy [fraction]", "accuracy_vs_alpha"),
                                 (gain, "gain over best single owner [accuracy]", "gain_vs_alpha")):
        if metric is None:
            continue
        fig, axes = subplots(1, len(ks), figsize=(3.4 * len(ks) + 1.8, 3.6), squeeze=False, sharey=True)
        for ax, kv in zip(axes[0], ks):
            dk = d if kv is None else d[d[k] == kv]
            for r in rules:
                dr = dk if r is None else dk[dk[rule] == r]
                m = dr.groupby(a)[metric].agg(["median", "min", "max"]).reset_index().sort_values(a)
                if m.empty:
                    continue
                x, _, _ = inf_axis(m[a].to_numpy())
                ax.plot(x, m["median"], marker="o", label=str(r) if r is not None else metric)
                if (m["max"] > m["min"]).any():
                    ax.fill_between(x, m["min"], m["max"], alpha=0.15)
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            vals = np.asarray(sorted(dk[a].dropna().unique()), dtype=float)
            mapped, tick, ticklabel = inf_axis(vals)
            labels = [ticklabel if np.isinf(v) else f"{v:g}" for v in vals]
            ax.set_xticks(mapped, labels, rotation=45, ha="right")
            if metric == gain:
                ax.axhline(0, color="k", linewidth=0.7)
            ax.set_xlabel("Dirichlet α (smaller = more label skew)")
            ax.set_title(f"K = {int(kv)} owners" if kv is not None else "")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel(ylabel)
        legend_outside(axes[0][-1], "rule")
        if caption:
            fig.suptitle(caption, fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, stem + suffix)
    return paths
