"""Figures of the ``accuracy`` suite: ensemble accuracy and gain over the best single owner vs
the Dirichlet alpha, one panel per number of owners, one line per rule; one figure per
dataset and model (and per other setting that varies: nothing is fixed to a most common value),
the dataset named in the title. The IID split (alpha = ∞) is drawn as a marker of its own at the
right end, not joined by a line to the finite alphas."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.ticker
import numpy as np

from fibench.bench.formatting import fmt_value
from fibench.bench.plots.common import (
    alpha_value,
    col,
    facets,
    inf_axis,
    legend_outside,
    numeric,
    save,
    subplots,
)

#: settings that make one figure (each combination its own)
FIGURE_DIMS = ["dataset", "model", "partition", "hidden", "n_samples", "n_features", "n_classes", "secure", "mode"]


def _slug(v) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in fmt_value(v))


def plot_accuracy(df, outdir) -> list[Path]:
    """Accuracy and ensemble gain vs alpha, one panel per K, one line per rule; one figure per
    (dataset, model, ...) combination: ``accuracy_vs_alpha_<model>.png`` (with the dataset in
    the name, ``accuracy_vs_alpha_<dataset>_<model>.png``, when the run has several)."""
    a = col(df, "alpha")
    acc = col(df, "accuracy", "acc", "ensemble_accuracy")
    if a is None or acc is None:
        return []
    d = df.copy()
    d[a] = d[a].map(alpha_value)
    d = d[d[a].notna()]
    groups = facets(d, FIGURE_DIMS)
    several_datasets = "dataset" in d.columns and d["dataset"].nunique() > 1
    by = [c for c in ("dataset", "model") if c in d.columns]
    per = d.groupby(by, dropna=False) if by else None
    varying = [c for c in FIGURE_DIMS if c in d.columns and c not in by
               and (per[c].nunique().max() if per is not None else d[c].nunique()) > 1]
    paths = []
    for sett, g in groups:
        parts = ([sett["dataset"]] if several_datasets and "dataset" in sett else []) + \
            ([sett["model"]] if "model" in sett else []) + [sett[c] for c in varying if c in sett]
        suffix = "".join(f"_{_slug(p)}" for p in parts)
        paths += _plot_accuracy_one(g, outdir, suffix, sett)
    return paths


def _caption(sett: dict) -> str:
    data = sett.get("dataset", "dataset not recorded")
    if data == "synthetic" and "n_samples" in sett:
        data += f" ({int(sett['n_samples'])} samples, {int(sett.get('n_features', 0))} features, " \
                f"{int(sett.get('n_classes', 0))} classes)"
    skip = {"dataset", "n_samples", "n_features", "n_classes"}
    if not str(sett.get("model", "mlp")).startswith("mlp"):
        skip.add("hidden")  # recorded as 0 for models without hidden layers
    rest = ", ".join(f"{k}={fmt_value(v)}" for k, v in sett.items() if k not in skip)
    return f"dataset: {data}" + (f"; {rest}" if rest else "")


def _plot_accuracy_one(df, outdir, suffix: str, sett: dict) -> list[Path]:
    a = col(df, "alpha")
    k = col(df, "K", "owners", "n_owners", "k")
    rule = col(df, "rule", "aggregation", "method")
    acc = col(df, "accuracy", "acc", "ensemble_accuracy")
    gain = col(df, "gain_over_best", "gain_best", "gain_vs_best", "gain")
    d = numeric(df, a, acc, *(c for c in (gain, k) if c))
    ks = sorted(d[k].dropna().unique()) if k else [None]
    rules = list(dict.fromkeys(d[rule].dropna())) if rule else [None]
    paths = []
    for metric, ylabel, stem, what in ((acc, "ensemble accuracy [fraction]", "accuracy_vs_alpha", "accuracy"),
                                       (gain, "gain over best single owner [accuracy]", "gain_vs_alpha",
                                        "gain over the best single owner")):
        if metric is None:
            continue
        fig, axes = subplots(1, len(ks), figsize=(3.4 * len(ks) + 1.8, 3.8), squeeze=False, sharey=True)
        for ax, kv in zip(axes[0], ks):
            dk = d if kv is None else d[d[k] == kv]
            vals = np.asarray(sorted(dk[a].dropna().unique()), dtype=float)
            mapped, _, ticklabel = inf_axis(vals)
            inf_x = dict(zip(vals, mapped)).get(math.inf)
            for ri, r in enumerate(rules):
                dr = dk if r is None else dk[dk[rule] == r]
                m = dr.groupby(a)[metric].agg(["median", "min", "max"]).reset_index().sort_values(a)
                if m.empty:
                    continue
                color = f"C{ri % 10}"
                fin = m[np.isfinite(m[a])]
                iid = m[np.isinf(m[a])]
                ax.plot(fin[a], fin["median"], marker="o", color=color, label=str(r) if r is not None else metric)
                if (fin["max"] > fin["min"]).any():
                    ax.fill_between(fin[a], fin["min"], fin["max"], color=color, alpha=0.15)
                if len(iid):  # the IID split: its own marker, no line to the finite alphas
                    ax.errorbar([inf_x], iid["median"], yerr=[iid["median"] - iid["min"], iid["max"] - iid["median"]],
                                marker="D", color=color, linestyle="none", capsize=2,
                                label=None if len(fin) else (str(r) if r is not None else metric))
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            if inf_x is not None and len(vals) > 1:  # a gap marks the jump to infinity
                ax.axvspan(vals[-2] * 1.8, inf_x / 1.8, color="0.92", zorder=0)
            labels = [ticklabel if np.isinf(v) else f"{v:g}" for v in vals]
            ax.set_xticks(mapped, labels, rotation=45, ha="right")
            if metric == gain:
                ax.axhline(0, color="k", linewidth=0.7)
            ax.set_xlabel("Dirichlet α (smaller = more label skew)")
            ax.set_title(f"K = {int(kv)} owners" if kv is not None else "")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel(ylabel)
        legend_outside(axes[0][-1], "rule")
        fig.suptitle(f"ensemble {what} vs label skew α — {_caption(sett)}", fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, stem + suffix)
    return paths
