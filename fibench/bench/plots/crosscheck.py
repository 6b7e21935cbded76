"""Figure of the ``crosscheck`` suite: the network model against the mpi backend with injected
delays — measured wall time (median, bars min..max over the repetitions) next to the model's
estimate (compute measured in the same launch + the profile's rounds and transfer), one panel
per (op, network profile), parties on the x axis, the model's error printed on each pair.

Rows without a ``profile`` (the counts and shared-memory/TCP wall times) have no estimate and
are not in this figure (their numbers are in the report's table)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fibench.bench.formatting import profile_order
from fibench.bench.plots.common import NotDrawn, constants, facets, numeric, save, setting_text, subplots, varying

_PANEL_DIMS = ["op", "protocol", "cmp_bits", "n", "rows", "transport", "profile"]


def plot_model_vs_measured(df, outdir) -> list:
    """``crosscheck_model_vs_measured``: measured vs modelled time per profile and P."""
    need = {"op", "parties", "profile", "measured_s", "est_time_s"}
    if not need <= set(df.columns):
        return []
    d = numeric(df, "parties", "measured_s", "est_time_s", "measured_min_s", "measured_max_s", "n", "rows",
                "cmp_bits")
    d = d[d["measured_s"].notna() & d["est_time_s"].notna()]
    d = d[~d["profile"].astype(str).isin(["none", "", "nan"])]
    if d.empty:
        return [NotDrawn("crosscheck_model_vs_measured", "no point ran with injected delays (profile=none)")]
    for c in ("measured_min_s", "measured_max_s"):  # runs stored before the spread was recorded
        if c not in d.columns:
            d = d.assign(**{c: d["measured_s"]})
    panels = facets(d, _PANEL_DIMS)
    rank = {p: i for i, p in enumerate(profile_order(d["profile"]))}
    panels.sort(key=lambda sp: (str(sp[0].get("op")), rank.get(sp[0].get("profile"), 99), setting_text(sp[0])))
    vary, const = varying([st for st, _ in panels]), constants([st for st, _ in panels])
    nc = min(3, len(panels))
    nr = -(-len(panels) // nc)
    fig, axes = subplots(nr, nc, figsize=(4.3 * nc + 1.8, 3.4 * nr + 0.6), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (sett, dp) in zip(axes.flat, panels):
        agg = dp.groupby("parties").agg(measured=("measured_s", "median"), lo=("measured_min_s", "min"),
                                        hi=("measured_max_s", "max"), model=("est_time_s", "median"))
        x = np.arange(len(agg))
        meas = agg["measured"].to_numpy(float)
        err = [meas - agg["lo"].fillna(agg["measured"]).to_numpy(float),
               agg["hi"].fillna(agg["measured"]).to_numpy(float) - meas]
        first = ax is axes.flat[0]
        ax.bar(x - 0.2, meas, 0.38, yerr=err, capsize=3, color="#4C72B0",
               label="measured (mpi, delays injected)" if first else None)
        ax.bar(x + 0.2, agg["model"], 0.38, color="#DD8452", label="model estimate" if first else None)
        for xi, m, e in zip(x, meas, agg["model"].to_numpy(float)):
            ax.text(xi + 0.2, e, f"{100 * (e / m - 1):+.0f}%", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [str(int(p)) for p in agg.index])
        ax.set_xlabel("parties P")
        ax.set_ylabel("time per call [s]")
        ax.set_title(setting_text(sett, vary) or setting_text(sett), fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()  # the labels sit on the first panel
    axes[0][-1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)
    fig.suptitle("network model vs measured time on MPI ranks with injected delays "
                 "(median over repetitions; error = model / measured - 1)"
                 + (f"\n{setting_text(const)}" if const and vary else ""), fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, "crosscheck_model_vs_measured")


def plot_crosscheck(df, outdir) -> list[Path]:
    return plot_model_vs_measured(df, outdir)
