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
    NotDrawn,
    constants,
    facets,
    legend_outside,
    median,
    numeric,
    save,
    setting_text,
    subplots,
    varying,
)

COMPONENTS = (("compute_s", "compute"), ("latency_s", "network latency"), ("transfer_s", "transfer"))
COMPONENT_COLORS = ("#4C72B0", "#DD8452", "#55A868")

#: settings that make one latency series (everything but the axis, the profile, the topology)
_SERIES_DIMS = ["model", "hidden", "servers", "parties", "n", "batch", "protocol", "cmp_bits", "argmax",
                "schedule", "features", "classes", "logits", "owner_model"]


def plot_latency_owners(df: pd.DataFrame, outdir) -> list:
    """Per workload (m1, m2): estimated time vs owners K, stacked components, one column of
    panels per network profile and one row per series of settings in which K takes at least two
    values (topologies side by side, T2 hatched); a workload without such a series is not drawn."""
    paths = []
    need = {"owners", "network", "compute_s", "latency_s", "transfer_s"}
    if not need <= set(df.columns):
        return paths
    d = numeric(df[df["owners"].notna()], "owners", "compute_s", "latency_s", "transfer_s", "hidden", "batch",
                "cmp_bits", "servers", "features", "classes")
    if d.empty:
        return paths
    for wl, dw in d.groupby("workload") if "workload" in d.columns else [("", d)]:
        stem = f"latency_vs_owners_{wl}" if wl else "latency_vs_owners"
        series = facets(dw, _SERIES_DIMS, {"owners": 2})
        if not series:
            paths.append(NotDrawn(stem, f"no series of {wl or 'the'} settings has two or more owner counts"))
            continue
        settings = [s for s, _ in series]
        vary, const = varying(settings), constants(settings)
        profiles = profile_order(dw["network"])
        topos = sorted(dw["topology"].dropna().unique()) if "topology" in dw.columns else [None]
        nr, nc = len(series), len(profiles)
        fig, axes = subplots(nr, nc, figsize=(3.2 * nc + 1.5, 2.7 * nr + 0.9), squeeze=False)
        for ri, (sett, ds) in enumerate(series):
            for ci, prof in enumerate(profiles):
                ax = axes[ri][ci]
                dp = ds[ds["network"] == prof]
                owners = sorted(dp["owners"].dropna().unique())
                here = [t for t in topos if t is None or (dp["topology"] == t).any()]
                width = 0.8 / max(1, len(here))
                for hi, topo in enumerate(here):
                    ti = topos.index(topo)
                    dt = dp if topo is None else dp[dp["topology"] == topo]
                    m = median(dt, ["owners"], [c for c, _ in COMPONENTS]).set_index("owners").reindex(owners)
                    x = np.arange(len(owners)) + (hi - (len(here) - 1) / 2) * width
                    bottom = np.zeros(len(owners))
                    for (c, label), color in zip(COMPONENTS, COMPONENT_COLORS):
                        vals = m[c].fillna(0).to_numpy()
                        ax.bar(x, vals, width * 0.95, bottom=bottom, color=color,
                               label=label if (hi == 0 and ri == 0 and ci == nc - 1) else None,
                               hatch=None if ti == 0 else "//", edgecolor="white", linewidth=0.5)
                        bottom += vals
                    if topo is not None and len(topos) > 1:
                        for xi, tot in zip(x, bottom):
                            if tot > 0:
                                ax.text(xi, tot, topo, ha="center", va="bottom", fontsize=6)
                ax.set_xticks(np.arange(len(owners)), [str(int(o)) for o in owners])
                if ri == nr - 1:
                    ax.set_xlabel("owners K")
                head = prof if not vary else f"{prof} | {setting_text(sett, vary)}"
                ax.set_title(head, fontsize=8)
                if ci == 0:
                    ax.set_ylabel("est. time per inference [s]", fontsize=8)
                ax.grid(axis="y", alpha=0.3)
        legend_outside(axes[0][-1], "component")
        title = f"{wl}: time vs number of owners K, per network profile (median over repetitions)"
        if len(topos) > 1:
            title += f"\nbars: {', '.join(map(str, topos))}; hatched = {topos[-1]}"
        fig.suptitle(title + (f"\n{setting_text(const)}" if const else ""), fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, stem)
    return paths


def plot_latency_relu_size(df: pd.DataFrame, outdir) -> list:
    """One secure ReLU layer: estimated time vs elements n, one line per network profile,
    protocol and number of parties."""
    if not {"network", "est_time_s", "workload", "n"} <= set(df.columns):
        return []
    d = numeric(df, "n", "est_time_s", "parties")
    relu = d[(d["workload"] == "relu") & d["n"].notna()]
    if relu.empty:
        return []
    series = facets(relu, ["protocol", "cmp_bits", "parties", "features", "classes"], {"n": 2})
    if not series:
        return [NotDrawn("latency_vs_relu_size", "every ReLU series has one size n only")]
    vary = varying([s for s, _ in series])
    const = constants([s for s, _ in series])
    fig, ax = subplots(1, 1, figsize=(7.0, 3.8))
    for gi, (sett, dd) in enumerate(series):
        for pi, prof in enumerate(profile_order(dd["network"])):
            m = median(dd[dd["network"] == prof], ["n"], ["est_time_s"]).sort_values("n")
            ax.plot(m["n"], m["est_time_s"], marker="osD^v<>"[gi % 7], color=f"C{pi % 10}",
                    linestyle=["-", "--", ":", "-."][gi % 4],
                    label=prof + (f", {setting_text(sett, vary)}" if vary else ""))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("elements n")
    ax.set_ylabel("estimated time [s]")
    ax.set_title("ReLU layer: time vs size" + (f"\n({setting_text(const)})" if const else ""), fontsize=9)
    ax.grid(which="both", alpha=0.3)
    legend_outside(ax, "network" + (", " + ", ".join(vary) if vary else ""))
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


#: settings that make one complexity series (rows of the figure); the models are its x axis
_COMPLEXITY_DIMS = ["owners", "topology", "servers", "parties", "protocol", "cmp_bits", "argmax", "batch",
                    "features", "classes"]


def _params_label(v: float) -> str:
    return f"{v / 1e6:.3g}M" if v >= 1e6 else (f"{v / 1e3:.3g}k" if v >= 1e3 else f"{v:.0f}")


def _model_names(d: pd.DataFrame) -> pd.Series:
    """The model of each row as a spec: ``mlp`` with ``hidden`` units reads ``mlp:hidden``."""
    names = d["model"].astype(str) if "model" in d.columns else d["model_family"].astype(str)
    if "hidden" in d.columns:
        h = pd.to_numeric(d["hidden"], errors="coerce")
        plain_mlp = (names == "mlp") & h.notna()
        names = names.where(~plain_mlp, "mlp:" + h.fillna(0).astype(int).astype(str))
    return names


def plot_latency_complexity(df: pd.DataFrame, outdir) -> list:
    """M2 time vs model size (parameters per owner), one column of panels per network profile
    and one row per series of settings (owners, topology, protocol, batch...) that has two or
    more models: the total estimate and its components compute / network latency / transfer;
    markers by model family (lr, mlp, cnn), a tick and a name at every model; shared y axis,
    so the span is visible. The sequential schedule (another axis) is left out."""
    paths = plot_latency_relu_size(df, outdir)
    need = {"network", "est_time_s", "model_params", "compute_s", "latency_s", "transfer_s"}
    if not need <= set(df.columns):
        return paths
    d = numeric(df, "model_params", "est_time_s", "compute_s", "latency_s", "transfer_s", "batch", "owners",
                "servers", "cmp_bits", "features", "classes")
    d = d[d["model_params"].notna() & (d["est_time_s"] > 0)]
    if "workload" in d.columns:
        d = d[d["workload"] == "m2"]
    if "schedule" in d.columns:
        d = d[d["schedule"].fillna("parallel") == "parallel"]
    if d.empty:
        return paths
    if "model_family" not in d.columns:
        d = d.assign(model_family="model")
    d = d.assign(model_name=_model_names(d))
    series = facets(d, _COMPLEXITY_DIMS, {"model_params": 2})
    if not series:
        return paths + [NotDrawn("latency_vs_complexity", "no series of M2 settings has two or more model sizes")]
    settings = [st for st, _ in series]
    vary, const = varying(settings), constants(settings)
    profiles = profile_order(d["network"])
    nr, nc = len(series), len(profiles)
    fig, axes = subplots(nr, nc, figsize=(3.4 * nc + 2.0, 3.2 * nr + 1.0), squeeze=False, sharey=True)
    comps = [(c, lab, col) for (c, lab), col in zip(COMPONENTS, COMPONENT_COLORS)]
    for ri, (sett, ds) in enumerate(series):
        for ci, prof in enumerate(profiles):
            ax = axes[ri][ci]
            m = median(ds[ds["network"] == prof], ["model_params", "model_family", "model_name"],
                       ["est_time_s"] + [c for c, _, _ in comps]).sort_values("model_params")
            if m.empty:
                ax.set_visible(False)
                continue
            first = ri == 0 and ci == nc - 1
            ax.plot(m["model_params"], m["est_time_s"], color="k", linewidth=1.6, label="total" if first else None)
            for c, lab, color in comps:
                ax.plot(m["model_params"], m[c].where(m[c] > 0), color=color, linewidth=1.0, linestyle="--",
                        label=lab if first else None)
            for fam, dm in m.groupby("model_family", sort=False):
                ax.scatter(dm["model_params"], dm["est_time_s"], marker=_FAMILY_MARKERS.get(fam, "o"), color="k",
                           s=22, zorder=3, label=f"{fam} (total)" if first else None)
            if ci == 0:  # name every model once per row
                for _, r in m.iterrows():
                    ax.annotate(r["model_name"], (r["model_params"], r["est_time_s"]), xytext=(2, 4),
                                textcoords="offset points", fontsize=6, rotation=30)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ticks = m["model_params"].drop_duplicates().to_numpy(float)
            ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([_params_label(t) for t in ticks]))
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.tick_params(axis="x", labelrotation=60, labelsize=7)
            ax.grid(which="both", alpha=0.3)
            head = prof if not vary else f"{prof} | {setting_text(sett, vary)}"
            ax.set_title(head, fontsize=8)
            if ri == nr - 1:
                ax.set_xlabel("model parameters per owner")
            if ci == 0:
                ax.set_ylabel("estimated time [s]")
    legend_outside(axes[0][-1], "component / model")
    span = complexity_span(d)
    title = "M2 private inference: time vs model size per network profile (components dashed)"
    if span and np.isfinite(span["decades"]):
        title += (f"\nspan {span['decades']:.1f} decades: {span['lo_label']} on {span['lo_profile']} "
                  f"{span['lo_s']:.2g} s -> {span['hi_label']} on {span['hi_profile']} {span['hi_s']:.2g} s")
    fig.suptitle(title + (f"\n({setting_text(const)})" if const else ""), fontsize=9)
    fig.tight_layout()
    return paths + save(fig, outdir, "latency_vs_complexity")


#: per workload, the column that says how much one call computes (never mixed on one panel)
_SIZE_OF = {"relu": ("n", "elements n"), "m1": ("batch", "batch"), "m2": ("batch", "batch")}
_WORKLOAD_TITLE = {"relu": "one ReLU layer", "m1": "M1 output-level ensemble", "m2": "M2 full private inference"}


def plot_latency_share(df: pd.DataFrame, outdir) -> list:
    """Estimated time and the share of it that is round latency, per network profile: one
    column of panels per workload (ReLU, M1, M2), one colour per size (ReLU elements n, M1/M2
    batch), every grid point of that workload and size a dot (jittered)."""
    if not {"network", "est_time_s", "latency_s"} <= set(df.columns):
        return []
    d = numeric(df, "est_time_s", "latency_s", "n", "batch")
    d = d[d["est_time_s"] > 0]
    if d.empty:
        return []
    d = d.assign(share=d["latency_s"] / d["est_time_s"])
    if "workload" not in d.columns:
        d = d.assign(workload="")
    order = {w: i for i, w in enumerate(_SIZE_OF)}
    wls = sorted(d["workload"].dropna().unique(), key=lambda w: (order.get(w, len(order)), str(w)))
    profiles = profile_order(d["network"])
    fig, axes = subplots(2, len(wls), figsize=(3.8 * len(wls) + 1.5, 6.4), squeeze=False, sharey="row")
    rng = np.random.default_rng(0)
    for wi, wl in enumerate(wls):
        dw = d[d["workload"] == wl]
        size_col, size_label = _SIZE_OF.get(wl, (None, None))
        sizes = sorted(dw[size_col].dropna().unique()) if size_col in dw.columns else [None]
        a1, a2 = axes[0][wi], axes[1][wi]
        for si, size in enumerate(sizes):
            ds = dw if size is None else dw[dw[size_col] == size]
            for i, prof in enumerate(profiles):
                dp = ds[ds["network"] == prof]
                jitter = rng.uniform(-0.25, 0.25, len(dp))
                kw = dict(s=12, alpha=0.7, color=f"C{si % 10}",
                          label=(f"{size_label} = {int(size)}" if size is not None and i == 0 else None))
                a1.scatter(i + jitter, dp["est_time_s"], **kw)
                a2.scatter(i + jitter, 100 * dp["share"], **kw)
        n_pts = len(dw.drop_duplicates([c for c in ("point", "network") if c in dw.columns]))
        a1.set_title(f"{_WORKLOAD_TITLE.get(wl, wl)} ({n_pts} points)", fontsize=9)
        for ax in (a1, a2):
            ax.set_xticks(range(len(profiles)), profiles)
            ax.grid(axis="y", which="both", alpha=0.3)
        a2.set_xlabel("network profile")
        a1.set_yscale("log")
        a2.set_ylim(0, 100)
        if a1.get_legend_handles_labels()[0]:
            a1.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("estimated time [s]")
    axes[1][0].set_ylabel("network latency share of time [%]")
    fig.suptitle("estimated time and its round-latency share, per workload and size (every grid point a dot)",
                 fontsize=9)
    fig.tight_layout()
    return save(fig, outdir, "latency_share")


# settings that must agree for an a2b row and an fss row to be compared (those present are used)
_XO_KEYS = ["workload", "model", "hidden", "owners", "topology", "servers", "parties", "n", "features",
            "classes", "argmax", "schedule", "logits", "owner_model"]


def _fss_series(bits) -> str:
    return f"fss (l={int(bits)})" if pd.notna(bits) else "fss"


def _crossover_pairs(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """a2b and fss times at the same settings, one row per (settings, network, fss series,
    batch) with ``a2b_s``, ``fss_s`` and ``speedup`` = a2b_s / fss_s (medians over
    repetitions), kept where a series has two or more batch sizes; and the setting columns
    (``_XO_KEYS`` present). No setting is fixed: each combination is a facet of its own."""
    if not {"protocol", "batch", "network", "est_time_s"} <= set(df.columns):
        return pd.DataFrame(), []
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
    return pairs.assign(speedup=pairs["a2b_s"] / pairs["fss_s"]), keys


def _crossover_summary(pairs: pd.DataFrame, keys=()) -> pd.DataFrame:
    """Per (settings, network, series): between which two measured batch sizes the faster
    protocol changes first (``crossover_lo``, ``crossover_hi``; the note says it in words, no
    more precise than the grid), a log-linear estimate inside that interval
    (``crossover_batch``, a rough guide), and the speed-up at the largest batch."""
    rows = []
    keys = list(keys)
    for key, g in (pairs.groupby(keys + ["network", "series"], sort=False, dropna=False) if len(pairs) else []):
        g = g.sort_values("batch")
        batches = g["batch"].to_numpy(float)
        b, r = np.log10(batches), g["speedup"].to_numpy(float)
        fss_wins, x, lo, hi = r >= 1, math.nan, math.nan, math.nan
        if fss_wins.all() or not fss_wins.any():
            note = f"{'fss' if fss_wins[0] else 'a2b'} wins at all batches"
        else:  # the first change of winner: between two measured batch sizes
            i = int(np.argmax(fss_wins != fss_wins[0]))
            lo, hi = batches[i - 1], batches[i]
            x = 10 ** (b[i - 1] + (1 - r[i - 1]) / (r[i] - r[i - 1]) * (b[i] - b[i - 1]))
            note = f"{'fss' if fss_wins[i] else 'a2b'} wins above a batch in ({lo:g}, {hi:g}]"
            if (fss_wins[i:] != fss_wins[i]).any():
                note += " (changes again at larger batches)"
        rows.append({**dict(zip(keys + ["network", "series"], key)), "crossover_lo": lo, "crossover_hi": hi,
                     "crossover_batch": x, "speedup_at_max_batch": r[-1], "note": note})
    cols = ["network", "series", "crossover_lo", "crossover_hi", "crossover_batch", "speedup_at_max_batch", "note"]
    out = pd.DataFrame(rows, columns=keys + cols)
    vary = [k for k in keys if out[k].astype(str).nunique() > 1]
    out = out[vary + cols]  # settings shared by every row say nothing
    if out.empty:
        return out
    rank = {p: i for i, p in enumerate(profile_order(out["network"]))}
    return out.sort_values(vary + ["network", "series"],
                           key=lambda s: s.map(rank) if s.name == "network" else s, ignore_index=True)


def protocol_crossover_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per (settings where several combinations were measured, network profile, fss series):
    the two measured batch sizes between which the faster comparison protocol changes
    (``crossover_lo``, ``crossover_hi``; NaN when one protocol wins at every batch, see
    ``note``), a log-linear estimate inside them (``crossover_batch``) and the speed-up
    a2b time / fss time at the largest batch (> 1: fss is faster). Empty when the table has no
    a2b/fss pair at the same settings and at least two batch sizes."""
    pairs, keys = _crossover_pairs(df)
    return _crossover_summary(pairs, keys)


def plot_protocol_crossover(df: pd.DataFrame, outdir) -> list:
    """Where each comparison protocol wins: estimated time and speed-up a2b/fss vs batch size,
    one colour per network profile; one figure per combination of the other settings
    (``protocol_crossover.png``, or ``protocol_crossover_1.png``... when there are several)."""
    pairs, keys = _crossover_pairs(df)
    if pairs.empty:
        return []
    combos = facets(pairs, keys)
    settings = [st for st, _ in combos]
    vary, const = varying(settings), constants(settings)
    paths = []
    for ci, (sett, dc) in enumerate(combos):
        stem = "protocol_crossover" if len(combos) == 1 else f"protocol_crossover_{ci + 1}"
        table = _crossover_summary(dc.drop(columns=keys)).set_index(["network", "series"])
        profiles = profile_order(dc["network"])
        styles = dict(zip(sorted(dc["series"].unique(), reverse=True), ["--", ":", "-."] * 3))  # l=64 dashed
        fig, (a1, a2) = subplots(1, 2, figsize=(12.5, 4.2))
        for pi, prof in enumerate(profiles):
            dp, color = dc[dc["network"] == prof].sort_values("batch"), f"C{pi % 10}"
            a2b = dp.drop_duplicates("batch")
            a1.plot(a2b["batch"], a2b["a2b_s"], color=color, marker="o", label=f"{prof}, a2b")
            for ser, ds in dp.groupby("series", sort=True):
                row = table.loc[(prof, ser)]
                a1.plot(ds["batch"], ds["fss_s"], color=color, marker="s", linestyle=styles[ser],
                        label=f"{prof}, {ser}")
                a2.plot(ds["batch"], ds["speedup"], color=color, marker="s", linestyle=styles[ser],
                        label=f"{prof}, {ser}: {row['note']}")
                if np.isfinite(row["crossover_lo"]):  # the interval the grid locates the crossover in
                    a2.plot([row["crossover_lo"], row["crossover_hi"]], [1.0, 1.0], color=color, linewidth=5,
                            alpha=0.5, solid_capstyle="butt")
        a2.axhline(1.0, color="k", linewidth=0.8)
        a2.text(0.01, 1.0, "fss wins above", transform=a2.get_yaxis_transform(), va="bottom", fontsize=7)
        for ax in (a1, a2):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("batch size [queries]")
            ax.grid(which="both", alpha=0.3)
        a1.set_ylabel("estimated end-to-end time [s]")
        a1.set_title("time per batch (solid: a2b, dashed/dotted: fss)", fontsize=9)
        a2.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        a2.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        a2.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        a2.set_ylabel("speed-up a2b time / fss time [×]")
        a2.set_title("fss speed-up (thick bar at 1: the measured batches the crossover lies between)",
                     fontsize=8)
        legend_outside(a1, "network, protocol")
        legend_outside(a2, "network, series: winner")
        head = setting_text({**const, **{k: sett[k] for k in vary if k in sett}})
        fig.suptitle("comparison protocol crossover: a2b vs fss by network profile and batch size"
                     + (f"\n({head})" if head else ""), fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, stem)
    return paths


def plot_latency(df, outdir) -> list[Path]:
    return (plot_latency_owners(df, outdir) + plot_latency_complexity(df, outdir) + plot_latency_share(df, outdir)
            + plot_protocol_crossover(df, outdir))

