"""Figures of the ``latency`` suite: time vs owners (stacked components per network profile),
time vs model size per profile with the compute / latency / transfer components (and a ReLU
layer's time vs its size), the latency share, and the a2b/fss protocol crossover by batch size
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


def plot_latency_relu_size(df: pd.DataFrame, outdir) -> list[Path]:
    """One secure ReLU layer: estimated time vs elements n, per profile and number of parties."""
    if not {"network", "est_time_s", "workload", "n"} <= set(df.columns):
        return []
    d = numeric(df, "n", "est_time_s", "parties")
    relu = d[(d["workload"] == "relu") & d["n"].notna()]
    if relu.empty:
        return []
    relu, fixed = fix_others(relu, ["n", "network", "workload", "parties"], _LAT_DIMS)
    fig, ax = subplots(1, 1, figsize=(6.5, 3.8))
    groups = sorted(relu["parties"].dropna().unique()) if "parties" in relu.columns else [None]
    for pi, prof in enumerate(profile_order(relu["network"])):
        for gi, g in enumerate(groups):
            dd = relu[relu["network"] == prof] if g is None else relu[(relu["network"] == prof) & (relu["parties"] == g)]
            m = median(dd, ["n"], ["est_time_s"]).sort_values("n")
            if not m.empty:
                ax.plot(m["n"], m["est_time_s"], marker="osD^v<>"[gi % 7], color=f"C{pi % 10}",
                        linestyle=["-", "--", ":", "-."][gi % 4],
                        label=prof if g is None else f"{prof}, parties={fmt_value(g)}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("elements n")
    ax.set_ylabel("estimated time [s]")
    ax.set_title("ReLU layer" + (f"\n({fixed})" if fixed else ""), fontsize=9)
    ax.grid(which="both", alpha=0.3)
    legend_outside(ax, "network")
    fig.tight_layout()
    return save(fig, outdir, "latency_vs_relu_size")


_FAMILY_MARKERS = {"lr": "o", "mlp": "s", "cnn": "D"}


def complexity_span(df: pd.DataFrame) -> dict | None:
    """The complexity axis in numbers: the smallest model's estimated time on the fastest
    profile (``lo_s``), the largest CNN's (else the largest model's) on the slowest profile
    (``hi_s``, at the largest batch) and ``decades`` = log10(hi / lo); None without M2 rows."""
    if not {"network", "est_time_s", "model_params"} <= set(df.columns):
        return None
    d = numeric(df, "model_params", "est_time_s", "batch")
    d = d[d["model_params"].notna() & (d["est_time_s"] > 0)]
    if "workload" in d.columns:
        d = d[d["workload"] == "m2"]
    if d.empty:
        return None
    profiles = profile_order(d["network"])
    lo_d = d[d["network"] == profiles[0]]
    lo_d = lo_d[lo_d["model_params"] == lo_d["model_params"].min()]
    hi_d = d[d["network"] == profiles[-1]]
    if "model_family" in hi_d.columns and (hi_d["model_family"] == "cnn").any():
        hi_d = hi_d[hi_d["model_family"] == "cnn"]
    hi_d = hi_d[hi_d["model_params"] == hi_d["model_params"].max()]
    if "batch" in hi_d.columns and hi_d["batch"].notna().any():
        hi_d = hi_d[hi_d["batch"] == hi_d["batch"].max()]
    lo = float(lo_d["est_time_s"].median()) if "batch" not in lo_d.columns else \
        float(lo_d[lo_d["batch"] == lo_d["batch"].min()]["est_time_s"].median())
    hi = float(hi_d["est_time_s"].median())
    name = lambda x: str(x["label"].iloc[0]) if "label" in x.columns else ""  # noqa: E731
    return {"lo_s": lo, "lo_profile": profiles[0], "lo_label": name(lo_d), "hi_s": hi, "hi_profile": profiles[-1],
            "hi_label": name(hi_d), "decades": math.log10(hi / lo) if lo > 0 else math.nan}


def plot_latency_complexity(df: pd.DataFrame, outdir) -> list[Path]:
    """M2 time vs model size (parameters per owner), one panel per network profile (rows: batch
    sizes): the total estimate and its components compute / network latency / transfer;
    markers by model family (lr, mlp, cnn); shared y axis, so the span is visible."""
    paths = plot_latency_relu_size(df, outdir)
    need = {"network", "est_time_s", "model_params", "compute_s", "latency_s", "transfer_s"}
    if not need <= set(df.columns):
        return paths
    d = numeric(df, "model_params", "est_time_s", "compute_s", "latency_s", "transfer_s", "batch", "owners")
    d = d[d["model_params"].notna() & (d["est_time_s"] > 0)]
    if "workload" in d.columns:
        d = d[d["workload"] == "m2"]
    if d.empty:
        return paths
    keep = ["model_params", "network", "model", "hidden", "workload", "batch", "model_family", "label"]
    d, fixed = fix_others(d, keep, _LAT_DIMS)
    if "schedule" in d.columns:
        d = d[d["schedule"].fillna("parallel") == "parallel"]
    if "model_family" not in d.columns:
        d = d.assign(model_family="model")
    batches = sorted(d["batch"].dropna().unique()) if "batch" in d.columns else [None]
    profiles = profile_order(d["network"])
    fig, axes = subplots(len(batches), len(profiles), figsize=(3.3 * len(profiles) + 2.0, 3.0 * len(batches) + 0.8),
                         squeeze=False, sharey=True)
    comps = [(c, lab, col) for (c, lab), col in zip(COMPONENTS, COMPONENT_COLORS)]
    for bi, b in enumerate(batches):
        for pi, prof in enumerate(profiles):
            ax = axes[bi][pi]
            dp = d[d["network"] == prof] if b is None else d[(d["network"] == prof) & (d["batch"] == b)]
            m = median(dp, ["model_params", "model_family"], ["est_time_s"] + [c for c, _, _ in comps])
            m = m.sort_values("model_params")
            if m.empty:
                ax.set_visible(False)
                continue
            first = bi == 0 and pi == len(profiles) - 1
            ax.plot(m["model_params"], m["est_time_s"], color="k", linewidth=1.6, label="total" if first else None)
            for c, lab, color in comps:
                v = m[c].where(m[c] > 0)
                ax.plot(m["model_params"], v, color=color, linewidth=1.0, linestyle="--", label=lab if first else None)
            for fam, dm in m.groupby("model_family", sort=False):
                ax.scatter(dm["model_params"], dm["est_time_s"], marker=_FAMILY_MARKERS.get(fam, "o"), color="k",
                           s=22, zorder=3, label=f"{fam} (total)" if first else None)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.grid(which="both", alpha=0.3)
            ax.set_title(f"{prof}" + (f", batch {int(b)}" if b is not None else ""), fontsize=9)
            if bi == len(batches) - 1:
                ax.set_xlabel("model parameters per owner")
            if pi == 0:
                ax.set_ylabel("estimated time [s]")
    legend_outside(axes[0][-1], "component / model")
    span = complexity_span(d)
    title = "M2 private inference: time vs model size per network profile (components dashed)"
    if span and np.isfinite(span["decades"]):
        title += (f"\nspan {span['decades']:.1f} decades: {span['lo_label']} on {span['lo_profile']} "
                  f"{span['lo_s']:.3g} s -> {span['hi_label']} on {span['hi_profile']} {span['hi_s']:.3g} s")
    fig.suptitle(title + (f"\n({fixed})" if fixed else ""), fontsize=9)
    fig.tight_layout()
    return paths + save(fig, outdir, "latency_vs_complexity")


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

