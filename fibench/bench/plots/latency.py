"""Figures of the ``latency`` suite: time vs owners (stacked components per network profile),
time vs model complexity, the latency share, and the a2b/fss protocol crossover by batch size
(``protocol_crossover_table`` gives the crossover numbers)."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.ticker
import numpy as np
import pandas as pd

from fibench.bench.formatting import fmt_value, profile_order
from fibench.bench.plots.common import (
    fix_others,
    legend_outside,
    median,
    numeric,
    save,
    subplots,
)

COMPONENTS = (("compute_s", "compute"), ("latency_s", "network latency"), ("transfer_s", "transfer"))
COMPONENT_COLORS = ("#4C72B0", "#DD8452", "#55A868")

_LAT_DIMS = ["workload", "model", "hidden", "owners", "topology", "servers", "parties", "n", "batch",
             "protocol", "argmax", "features", "classes"]


def plot_latency_owners(df: pd.DataFrame, outdir) -> list[Path]:
    paths = []
    need = {"owners", "network", "compute_s", "latency_s", "transfer_s"}
    if not need <= set(df.columns):
        return paths
    d = numeric(df[df["owners"].notna()], "owners", "compute_s", "latency_s", "transfer_s")
    if d.empty:
        return paths
    for wl, dw in d.groupby("workload") if "workload" in d.columns else [("", d)]:
        dw, fixed = fix_others(dw, ["owners", "topology", "network", "workload"], _LAT_DIMS)
        profiles = profile_order(dw["network"])
        topos = sorted(dw["topology"].dropna().unique()) if "topology" in dw.columns else [None]
        fig, axes = subplots(1, len(profiles), figsize=(3.4 * len(profiles) + 1.5, 3.6), squeeze=False)
        for ax, prof in zip(axes[0], profiles):
            dp = dw[dw["network"] == prof]
            owners = sorted(dp["owners"].dropna().unique())
            width = 0.8 / max(1, len(topos))
            for ti, topo in enumerate(topos):
                dt = dp if topo is None else dp[dp["topology"] == topo]
                m = median(dt, ["owners"], [c for c, _ in COMPONENTS]).set_index("owners").reindex(owners)
                x = np.arange(len(owners)) + (ti - (len(topos) - 1) / 2) * width
                bottom = np.zeros(len(owners))
                for (c, label), color in zip(COMPONENTS, COMPONENT_COLORS):
                    vals = m[c].fillna(0).to_numpy()
                    ax.bar(x, vals, width * 0.95, bottom=bottom, color=color,
                           label=label if (ti == 0 and ax is axes[0][-1]) else None,
                           hatch=None if ti == 0 else "//", edgecolor="white", linewidth=0.5)
                    bottom += vals
                if topo is not None and len(topos) > 1:
                    for xi, tot in zip(x, bottom):
                        if tot > 0:
                            ax.text(xi, tot, topo, ha="center", va="bottom", fontsize=6)
            ax.set_xticks(np.arange(len(owners)), [str(int(o)) for o in owners])
            ax.set_xlabel("owners K")
            ax.set_title(f"{prof}")
            ax.set_ylabel("estimated time per inference [s]")
            ax.grid(axis="y", alpha=0.3)
        legend_outside(axes[0][-1], "component")
        title = f"{wl}: time vs number of owners, per network profile"
        if len(topos) > 1:
            title += f" (bars: {', '.join(map(str, topos))}; hatched = {topos[-1]})"
        fig.suptitle(title + (f"\n{fixed}" if fixed else ""), fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, f"latency_vs_owners_{wl}" if wl else "latency_vs_owners")
    return paths


def plot_latency_complexity(df: pd.DataFrame, outdir) -> list[Path]:
    if not {"network", "est_time_s"} <= set(df.columns):
        return []
    d = numeric(df, "n", "model_params", "est_time_s", "parties", "owners")
    panels = []
    if "workload" in d.columns and "n" in d.columns:
        relu = d[(d["workload"] == "relu") & d["n"].notna()]
        if not relu.empty:
            relu, fixed = fix_others(relu, ["n", "network", "workload", "parties"], _LAT_DIMS)
            panels.append(("ReLU layer", relu, "n", "elements n", fixed, "parties"))
    if "model_params" in d.columns:
        m2 = d[d["model_params"].notna() & (d.get("workload", "m2") == "m2")]
        if not m2.empty:
            m2, fixed = fix_others(m2, ["model_params", "network", "model", "hidden", "workload"], _LAT_DIMS)
            panels.append(("M2 private inference", m2, "model_params", "model parameters per owner", fixed, None))
    if not panels:
        return []
    fig, axes = subplots(1, len(panels), figsize=(5.0 * len(panels) + 1.5, 3.8), squeeze=False)
    linestyles = ["-", "--", ":", "-."]
    markers = "osD^v<>"
    for ax, (title, dp, xcol, xlabel, fixed, split) in zip(axes[0], panels):
        groups = [None] if split is None or split not in dp.columns else sorted(dp[split].dropna().unique())
        for pi, prof in enumerate(profile_order(dp["network"])):
            for gi, g in enumerate(groups):
                dd = dp[dp["network"] == prof] if g is None else dp[(dp["network"] == prof) & (dp[split] == g)]
                m = median(dd, [xcol], ["est_time_s"]).sort_values(xcol)
                if m.empty:
                    continue
                lab = prof if g is None else f"{prof}, {split}={fmt_value(g)}"
                ax.plot(m[xcol], m["est_time_s"], marker=markers[gi % len(markers)], label=lab,
                        color=f"C{pi % 10}", linestyle=linestyles[gi % len(linestyles)])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel("estimated time [s]")
        ax.set_title(title + (f"\n({fixed})" if fixed else ""), fontsize=9)
        ax.grid(which="both", alpha=0.3)
        legend_outside(ax, "network")
    fig.tight_layout()
    return save(fig, outdir, "latency_vs_complexity")


def plot_latency_share(df: pd.DataFrame, outdir) -> list[Path]:
    if not {"network", "est_time_s", "latency_s"} <= set(df.columns):
        return []
    d = numeric(df, "est_time_s", "latency_s")
    d = d[d["est_time_s"] > 0]
    if d.empty:
        return []
    d = d.assign(share=d["latency_s"] / d["est_time_s"])
    profiles = profile_order(d["network"])
    fig, (a1, a2) = subplots(1, 2, figsize=(10, 3.8))
    rng = np.random.default_rng(0)
    wls = sorted(d["workload"].dropna().unique()) if "workload" in d.columns else [None]
    for wi, wl in enumerate(wls):
        for i, prof in enumerate(profiles):
            dp = d[d["network"] == prof]
            if wl is not None:
                dp = dp[dp["workload"] == wl]
            jitter = rng.uniform(-0.25, 0.25, len(dp))
            kw = dict(s=12, alpha=0.7, color=f"C{wi}", label=(wl if i == 0 else None))
            a1.scatter(i + jitter, dp["est_time_s"], **kw)
            a2.scatter(i + jitter, 100 * dp["share"], **kw)
    for ax in (a1, a2):
        ax.set_xticks(range(len(profiles)), profiles)
        ax.set_xlabel("network profile")
        ax.grid(axis="y", which="both", alpha=0.3)
    a1.set_yscale("log")
    a1.set_ylabel("estimated time [s]")
    a1.set_title("range of estimated times (all grid points)", fontsize=9)
    a2.set_ylabel("network latency share of time [%]")
    a2.set_ylim(0, 100)
    a2.set_title("share of the round latency in the estimate", fontsize=9)
    legend_outside(a2, "workload")
    fig.tight_layout()
    return save(fig, outdir, "latency_share")


# settings that must agree for an a2b row and an fss row to be compared (those present are used)
_XO_KEYS = ["workload", "model", "hidden", "owners", "topology", "servers", "parties", "n", "features",
            "classes", "argmax", "schedule", "logits", "owner_model"]


def _fss_series(bits) -> str:
    return f"fss (l={int(bits)})" if pd.notna(bits) else "fss"


def _crossover_pairs(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """a2b and fss times at the same settings, one row per (network, fss series, batch) with
    ``a2b_s``, ``fss_s`` and ``speedup`` = a2b_s / fss_s (medians over repetitions); M2 rows
    are preferred over M1, other varying settings are fixed to their most common value."""
    if not {"protocol", "batch", "network", "est_time_s"} <= set(df.columns):
        return pd.DataFrame(), ""
    d = numeric(df, "batch", "est_time_s", "cmp_bits")
    d = d[(d["batch"] > 0) & (d["est_time_s"] > 0)]
    if "workload" in d.columns:
        d = d[d["workload"].isin(["m1", "m2"])]
    keys = [c for c in _XO_KEYS if c in d.columns]
    bits = d["cmp_bits"] if "cmp_bits" in d.columns else pd.Series(np.nan, index=d.index)
    a2b = d[(d["protocol"] == "a2b") & (bits.isna() | (bits >= 64))]
    fss = d[d["protocol"] == "fss"].assign(series=bits.map(_fss_series))
    on = keys + ["network", "batch"]
    pairs = median(fss, on + ["series"], ["est_time_s"]).rename(columns={"est_time_s": "fss_s"}).merge(
        median(a2b, on, ["est_time_s"]).rename(columns={"est_time_s": "a2b_s"}), on=on)
    pairs = pairs[pairs.groupby(keys + ["network", "series"], dropna=False)["batch"].transform("nunique") > 1]
    if "workload" in keys and (pairs["workload"] == "m2").any():
        pairs = pairs[pairs["workload"] == "m2"]
    pairs, fixed = fix_others(pairs, ["network", "series", "batch"], keys)
    return pairs.assign(speedup=pairs["a2b_s"] / pairs["fss_s"]), fixed


def _crossover_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (net, ser), g in (pairs.groupby(["network", "series"], sort=False) if len(pairs) else []):
        g = g.sort_values("batch")
        b, r = np.log10(g["batch"].to_numpy(float)), g["speedup"].to_numpy(float)
        fss_wins, x = r >= 1, math.nan
        if fss_wins.all() or not fss_wins.any():
            note = f"{'fss' if fss_wins[0] else 'a2b'} wins at all batches"
        else:  # the first change of winner, linear in log10(batch)
            i = int(np.argmax(fss_wins != fss_wins[0]))
            x = 10 ** (b[i - 1] + (1 - r[i - 1]) / (r[i] - r[i - 1]) * (b[i] - b[i - 1]))
            note = f"{'fss' if fss_wins[i] else 'a2b'} wins above batch ≈ {x:.3g}"
        rows.append({"network": net, "series": ser, "crossover_batch": x, "speedup_at_max_batch": r[-1],
                     "note": note})
    out = pd.DataFrame(rows, columns=["network", "series", "crossover_batch", "speedup_at_max_batch", "note"])
    if out.empty:
        return out
    rank = {p: i for i, p in enumerate(profile_order(out["network"]))}
    return out.sort_values(["network", "series"], key=lambda s: s.map(rank) if s.name == "network" else s,
                           ignore_index=True)


def protocol_crossover_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per (network profile, fss series): the batch size at which the faster comparison protocol
    changes (``crossover_batch``; NaN when one protocol wins at every batch, see ``note``) and
    the speed-up a2b time / fss time at the largest batch (> 1: fss is faster). Empty when the
    table has no a2b/fss pair at the same settings and at least two batch sizes."""
    return _crossover_summary(_crossover_pairs(df)[0])


def plot_protocol_crossover(df: pd.DataFrame, outdir) -> list[Path]:
    """Where each comparison protocol wins: estimated time and speed-up a2b/fss vs batch size,
    one colour per network profile."""
    pairs, fixed = _crossover_pairs(df)
    if pairs.empty:
        return []
    table = _crossover_summary(pairs).set_index(["network", "series"])
    profiles = profile_order(pairs["network"])
    styles = dict(zip(sorted(pairs["series"].unique(), reverse=True), ["--", ":", "-."] * 3))  # l=64 dashed
    fig, (a1, a2) = subplots(1, 2, figsize=(12, 4.2))
    for pi, prof in enumerate(profiles):
        dp, color = pairs[pairs["network"] == prof].sort_values("batch"), f"C{pi % 10}"
        a2b = dp.drop_duplicates("batch")
        a1.plot(a2b["batch"], a2b["a2b_s"], color=color, marker="o", label=f"{prof}, a2b")
        for ser, ds in dp.groupby("series", sort=True):
            a1.plot(ds["batch"], ds["fss_s"], color=color, marker="s", linestyle=styles[ser], label=f"{prof}, {ser}")
            a2.plot(ds["batch"], ds["speedup"], color=color, marker="s", linestyle=styles[ser],
                    label=f"{prof}, {ser}: {table.loc[(prof, ser), 'note']}")
            x = table.loc[(prof, ser), "crossover_batch"]
            if np.isfinite(x):
                a2.plot([x], [1.0], marker="X", markersize=9, color=color, linestyle="none")
    a2.axhline(1.0, color="k", linewidth=0.8)
    a2.text(0.01, 1.0, "fss wins above", transform=a2.get_yaxis_transform(), va="bottom", fontsize=7)
    for ax in (a1, a2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size [queries]")
        ax.grid(which="both", alpha=0.3)
    a1.set_ylabel("estimated end-to-end time [s]")
    a1.set_title("time per batch (solid: a2b, dashed/dotted: fss)", fontsize=9)
    a2.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    a2.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    a2.set_ylabel("speed-up a2b time / fss time [×]")
    a2.set_title("fss speed-up (X: crossover batch)", fontsize=9)
    legend_outside(a1, "network, protocol")
    legend_outside(a2, "network, series: winner")
    fig.suptitle("comparison protocol crossover: a2b vs fss by network profile and batch size"
                 + (f"\n({fixed})" if fixed else ""), fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, "protocol_crossover")


def plot_latency(df, outdir) -> list[Path]:
    return (plot_latency_owners(df, outdir) + plot_latency_complexity(df, outdir) + plot_latency_share(df, outdir)
            + plot_protocol_crossover(df, outdir))

