"""Figure of the ``communication`` suite: online bytes per party and rounds per operation,
one bar per protocol / number of parties."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fibench.bench.plots.common import (
    col,
    facet_stem,
    facets,
    legend_outside,
    numeric,
    save,
    spans_decades,
    setting_text,
    subplots,
    varying,
)


def plot_communication(df, outdir) -> list[Path]:
    op = col(df, "op", "operation", "workload", "computation")
    bcol = col(df, "online_bytes_sent_per_party", "bytes_per_party", "online_bytes_per_party",
               "bytes_sent_per_party", "online_bytes_total", "bytes")
    rcol = col(df, "online_rounds", "rounds")
    if op is None or (bcol is None and rcol is None):
        return []
    if "layer" in df.columns:  # per-layer rows (op=layers): plot_layer_costs
        df = df[df["layer"].isna() | (df["layer"].astype(str) == "")]
        if df.empty:
            return []
    pcol = col(df, "parties", "n_parties")
    d = numeric(df, *(c for c in (bcol, rcol, "n", pcol) if c))
    mcol = col(d, "argmax_method", "method")
    if mcol is not None:  # argmax/pairs and argmax/tree are different operations
        m = d[mcol].astype(str)
        d[op] = np.where(m.isin(["-", "", "nan", "None"]), d[op].astype(str), d[op].astype(str) + "/" + m)
    if "trunc" in d.columns:  # the probabilistic local truncation is a different operation
        d[op] = np.where(d["trunc"].astype(str) == "local", d[op].astype(str) + "/local-trunc", d[op].astype(str))
    size_note = ""
    if "n" in d.columns:  # per op, its largest size
        d = d[d["n"] == d.groupby(op)["n"].transform("max")]
        sizes = d.groupby(op, sort=False)["n"].first()
        size_note = "n = " + ", ".join(f"{k}:{int(v)}" for k, v in sizes.items()) if sizes.nunique() > 1 \
            else (f"n={int(sizes.iloc[0])}" if len(sizes) else "")
    combos = facets(d, ["frac_bits", "batch", "owners", "phase", "rows"])
    vary = varying([st for st, _ in combos])
    paths = []
    for sett, dc in combos:
        note = "; ".join(x for x in (size_note, setting_text(sett, vary)) if x)
        paths += _bytes_rounds_figure(dc, op, bcol, rcol, pcol, note,
                                      facet_stem("communication_bytes_rounds", sett, vary), outdir)
    return paths


def _bytes_rounds_figure(d, op, bcol, rcol, pcol, note, stem, outdir) -> list[Path]:
    hue_cols = [c for c in ("protocol", pcol) if c and c in d.columns and d[c].nunique() > 1]
    if hue_cols:
        hues = list(dict.fromkeys(tuple(r) for r in d[hue_cols].itertuples(index=False)))
        hues.sort(key=lambda t: tuple(str(x) for x in t))
    else:
        hues = [()]

    def hue_label(h):  # ops without a comparison protocol record protocol "-"
        return ", ".join(f"P={int(v)}" if c == pcol else ("no comparison" if str(v) == "-" else str(v))
                         for c, v in zip(hue_cols, h))

    ops = list(dict.fromkeys(d[op]))
    metrics = [(c, lab) for c, lab in ((bcol, "bytes sent per party"), (rcol, "rounds")) if c]
    fig, axes = subplots(1, len(metrics), figsize=(max(5.5, 0.9 * len(ops)) * len(metrics) + 2.0, 4.0),
                             squeeze=False)
    width = 0.85 / max(1, len(hues))
    for ax, (c, label) in zip(axes[0], metrics):
        for hi, h in enumerate(hues):
            dp = d
            for hc, hv in zip(hue_cols, h):
                dp = dp[dp[hc] == hv]
            m = dp.groupby(op, sort=False)[c].median().reindex(ops)
            x = np.arange(len(ops)) + (hi - (len(hues) - 1) / 2) * width
            ax.bar(x, m.to_numpy(dtype=float), width * 0.95, label=hue_label(h) or None, color=f"C{hi % 10}")
        ax.set_xticks(np.arange(len(ops)), ops, rotation=30, ha="right")
        if spans_decades(d[c], 1.0):
            ax.set_yscale("log")
        ax.set_ylabel(label + (" [B]" if c == bcol else " [count]"))
        ax.set_xlabel("operation")
        ax.grid(axis="y", which="both", alpha=0.3)
    legend_outside(axes[0][-1], " / ".join("parties" if c == pcol else c for c in hue_cols) or None)
    fig.suptitle("online communication per operation and protocol" + (f"\n({note})" if note else ""), fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, stem)


LAYER_ORDER = ("share", "dense", "conv", "relu", "maxpool", "avgpool", "argmax")


def plot_layer_costs(df, outdir) -> list[Path]:
    """Per-layer cost of one secure inference (op=layers): online bytes per party and rounds,
    one stacked bar per model and protocol, one colour per layer kind."""
    if not {"layer", "online_bytes_sent_per_party", "online_rounds", "model"} <= set(df.columns):
        return []
    d = df[df["layer"].notna() & (df["layer"].astype(str) != "")]
    if d.empty:
        return []
    d = numeric(d, "online_bytes_sent_per_party", "online_rounds", "n", "parties")
    combos = facets(d, ["parties", "rows", "n", "owners", "argmax_method"])
    vary = varying([st for st, _ in combos])
    paths = []
    for sett, dc in combos:
        paths += _layer_figure(dc, setting_text(sett), facet_stem("communication_per_layer", sett, vary), outdir)
    return paths


def _layer_figure(d, fixed: str, stem: str, outdir) -> list[Path]:
    bars = list(dict.fromkeys(zip(d["model"].astype(str), d["protocol"].astype(str))))
    kinds = [k for k in LAYER_ORDER if k in set(d["layer"])] + sorted(set(d["layer"]) - set(LAYER_ORDER))
    fig, axes = subplots(1, 2, figsize=(max(6.0, 0.8 * len(bars)) * 2 + 2.0, 4.2))
    x = np.arange(len(bars))
    for ax, (c, label) in zip(axes, (("online_bytes_sent_per_party", "online bytes sent per party [B]"),
                                     ("online_rounds", "online rounds [count]"))):
        bottom = np.zeros(len(bars))
        for ki, kind in enumerate(kinds):
            dk = d[d["layer"] == kind]
            m = dk.groupby(["model", "protocol"], sort=False)[c].median()
            vals = np.array([float(m.get(b, 0.0)) for b in bars])
            ax.bar(x, vals, 0.7, bottom=bottom, color=f"C{ki % 10}", label=kind, edgecolor="white", linewidth=0.5)
            bottom += vals
        ax.set_xticks(x, [f"{mo}\n{pr}" for mo, pr in bars], fontsize=7)
        ax.set_ylabel(label)
        ax.set_xlabel("model / comparison protocol")
        ax.grid(axis="y", alpha=0.3)
    legend_outside(axes[-1], "layer kind")
    fig.suptitle("per-layer cost of one secure inference (M2 logit_sum, T2)" + (f"\n({fixed})" if fixed else ""),
                 fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, stem)
