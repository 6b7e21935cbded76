"""Figures of a run: ``plot_run(run_dir)`` reads ``meta.json`` and ``results.csv`` and
dispatches on the suite name stored in meta.json. Every figure is written as PNG and SVG into
``<run_dir>/figures/`` (atomically). Axes carry units, log scales are used where values span
decades, legends sit outside the data area.

Column names are looked up from a short list of candidates so that suites written by others
can evolve without breaking the plots; a figure whose columns are missing is skipped with a
note (``plot_run`` returns the notes in ``PlotResult.skipped``).
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fibench.bench import results as res  # noqa: E402

FORMATS = ("png", "svg")
COMPONENTS = (("compute_s", "compute"), ("latency_s", "network latency"), ("transfer_s", "transfer"))
COMPONENT_COLORS = ("#4C72B0", "#DD8452", "#55A868")
PROFILE_ORDER = ("lan", "region", "wan", "geo")


@dataclass
class PlotResult:
    files: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


# -- helpers ---------------------------------------------------------------------------------------

def save(fig, outdir, stem: str, formats=FORMATS) -> list[Path]:
    outdir = Path(outdir)
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=120)
        paths.append(res.atomic_write_bytes(outdir / f"{stem}.{fmt}", buf.getvalue()))
    plt.close(fig)
    return paths


def col(df: pd.DataFrame, *candidates):
    """The first candidate column present in ``df`` (or None)."""
    for c in candidates:
        if c in df.columns:
            return c
    return None


def legend_outside(ax, title=None):
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, frameon=False)


def spans_decades(values, decades: float = 1.5) -> bool:
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return v.size > 1 and math.log10(v.max() / v.min()) >= decades


def fmt_seconds(s: float) -> str:
    if not np.isfinite(s):
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    if s < 120:
        return f"{s:.3g} s"
    return f"{s / 60:.3g} min"


def fix_others(df: pd.DataFrame, keep: list[str], candidates: list[str]) -> tuple[pd.DataFrame, str]:
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
            fixed.append(f"{c}={_fmt_value(v)}")
    return df, ", ".join(fixed)


def _fmt_value(v) -> str:
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)


def profile_order(names) -> list:
    names = list(dict.fromkeys(names))
    return [p for p in PROFILE_ORDER if p in names] + sorted(n for n in names if n not in PROFILE_ORDER)


def numeric(df: pd.DataFrame, *cols) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def _alpha_value(v):
    """Dirichlet alpha as a float; "iid"/"inf" (an IID split) -> +inf."""
    if isinstance(v, str) and v.strip().lower() in ("iid", "inf", "infinity", "∞"):
        return math.inf
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def inf_axis(values):
    """Map +inf on a log axis to 10x the largest finite value; returns (mapped, tick, label)."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v) & (v > 0)]
    if not np.isinf(v).any():
        return v, None, None
    pos = (finite.max() * 10) if finite.size else 1.0
    return np.where(np.isinf(v), pos, v), pos, "∞ (IID)"


# -- latency ---------------------------------------------------------------------------------------

_LAT_DIMS = ["workload", "model", "hidden", "owners", "topology", "servers", "parties", "n", "batch",
             "protocol", "argmax", "features", "classes"]


def _median(df, by, values):
    return df.groupby(by, dropna=False, sort=True)[values].median().reset_index()


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
        fig, axes = plt.subplots(1, len(profiles), figsize=(3.4 * len(profiles) + 1.5, 3.6), squeeze=False)
        for ax, prof in zip(axes[0], profiles):
            dp = dw[dw["network"] == prof]
            owners = sorted(dp["owners"].dropna().unique())
            width = 0.8 / max(1, len(topos))
            for ti, topo in enumerate(topos):
                dt = dp if topo is None else dp[dp["topology"] == topo]
                m = _median(dt, ["owners"], [c for c, _ in COMPONENTS]).set_index("owners").reindex(owners)
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
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels) + 1.5, 3.8), squeeze=False)
    linestyles = ["-", "--", ":", "-."]
    markers = "osD^v<>"
    for ax, (title, dp, xcol, xlabel, fixed, split) in zip(axes[0], panels):
        groups = [None] if split is None or split not in dp.columns else sorted(dp[split].dropna().unique())
        for pi, prof in enumerate(profile_order(dp["network"])):
            for gi, g in enumerate(groups):
                dd = dp[dp["network"] == prof] if g is None else dp[(dp["network"] == prof) & (dp[split] == g)]
                m = _median(dd, [xcol], ["est_time_s"]).sort_values(xcol)
                if m.empty:
                    continue
                lab = prof if g is None else f"{prof}, {split}={_fmt_value(g)}"
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
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
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
    pairs = _median(fss, on + ["series"], ["est_time_s"]).rename(columns={"est_time_s": "fss_s"}).merge(
        _median(a2b, on, ["est_time_s"]).rename(columns={"est_time_s": "a2b_s"}), on=on)
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
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
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


def plot_latency(df, outdir, meta=None) -> list[Path]:
    return (plot_latency_owners(df, outdir) + plot_latency_complexity(df, outdir) + plot_latency_share(df, outdir)
            + plot_protocol_crossover(df, outdir))


# -- communication ------------------------------------------------------------------------------

def plot_communication(df, outdir, meta=None) -> list[Path]:
    op = col(df, "op", "operation", "workload", "computation")
    bcol = col(df, "online_bytes_sent_per_party", "bytes_per_party", "online_bytes_per_party",
               "bytes_sent_per_party", "online_bytes_total", "bytes")
    rcol = col(df, "online_rounds", "rounds")
    if op is None or (bcol is None and rcol is None):
        return []
    pcol = col(df, "parties", "n_parties")
    d = numeric(df, *(c for c in (bcol, rcol, "n", pcol) if c))
    mcol = col(d, "argmax_method", "method")
    if mcol is not None:  # argmax/pairs and argmax/tree are different operations
        m = d[mcol].astype(str)
        d[op] = np.where(m.isin(["-", "", "nan", "None"]), d[op].astype(str), d[op].astype(str) + "/" + m)
    size_note = ""
    if "n" in d.columns:  # per op, its largest size
        d = d[d["n"] == d.groupby(op)["n"].transform("max")]
        sizes = d.groupby(op, sort=False)["n"].first()
        size_note = "n = " + ", ".join(f"{k}:{int(v)}" for k, v in sizes.items()) if sizes.nunique() > 1 \
            else (f"n={int(sizes.iloc[0])}" if len(sizes) else "")
    d, fixed = fix_others(d, [op, "protocol", pcol], ["frac_bits", "batch", "owners", "phase", "rows"])
    note = "; ".join(x for x in (size_note, fixed) if x)
    hue_cols = [c for c in ("protocol", pcol) if c and c in d.columns and d[c].nunique() > 1]
    if hue_cols:
        hues = list(dict.fromkeys(tuple(r) for r in d[hue_cols].itertuples(index=False)))
        hues.sort(key=lambda t: tuple(str(x) for x in t))
    else:
        hues = [()]

    def hue_label(h):
        return ", ".join(f"P={int(v)}" if c == pcol else str(v) for c, v in zip(hue_cols, h))

    ops = list(dict.fromkeys(d[op]))
    metrics = [(c, lab) for c, lab in ((bcol, "bytes sent per party"), (rcol, "rounds")) if c]
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(5.5, 0.9 * len(ops)) * len(metrics) + 2.0, 4.0),
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
    return save(fig, outdir, "communication_bytes_rounds")


# -- accuracy ----------------------------------------------------------------------------------------

def plot_accuracy(df, outdir, meta=None) -> list[Path]:
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
    d[a] = d[a].map(_alpha_value)
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
        fig, axes = plt.subplots(1, len(ks), figsize=(3.4 * len(ks) + 1.8, 3.6), squeeze=False, sharey=True)
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


# -- kernels --------------------------------------------------------------------------------------

def plot_kernels(df, outdir, meta=None) -> list[Path]:
    kcol = col(df, "kernel")
    tcol = col(df, "throughput", "throughput_elems_per_s")
    rcol = col(df, "ratio_vs_numpy", "speedup_vs_numpy")
    if kcol is None or "n" not in df.columns or (tcol is None and rcol is None):
        return []
    d = numeric(df, "n", *(c for c in (tcol, rcol) if c))
    paths = []
    if tcol:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
        for i, (kern, dk) in enumerate(d.groupby(kcol, sort=True)):
            m = dk.groupby("n")[tcol].median().sort_index()
            ax.plot(m.index, m.to_numpy(), marker="o", label=kern, linestyle="-" if i < 10 else "--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("problem size n [elements]")
        ax.set_ylabel("throughput [elements/s]")
        ax.grid(which="both", alpha=0.3)
        legend_outside(ax, "kernel")
        fig.tight_layout()
        paths += save(fig, outdir, "kernels_throughput")
    if rcol:
        nmax = d["n"].max()
        m = d.groupby(kcol)[rcol].median().sort_values()
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(m) + 1.5))
        ax.barh(m.index, m.to_numpy())
        ax.axvline(1.0, color="k", linewidth=0.7)
        if spans_decades(m.to_numpy(), 1.0):
            ax.set_xscale("log")
        ax.set_xlabel("speed relative to numpy reference [×] (median over sizes)")
        ax.set_title(f"kernel speed ÷ numpy speed (sizes up to n={int(nmax)})", fontsize=9)
        fig.tight_layout()
        paths += save(fig, outdir, "kernels_ratio_vs_numpy")
    return paths


# -- incentives -------------------------------------------------------------------------------------

def plot_incentives(df, outdir, meta=None) -> list[Path]:
    try:
        from fibench.bench.plots import incentives as plots_incentives
    except ImportError:
        return []
    return [Path(p) for p in (plots_incentives.plot_incentives(df, outdir) or [])]


PLOTTERS = {
    "latency": plot_latency,
    "communication": plot_communication,
    "accuracy": plot_accuracy,
    "kernels": plot_kernels,
    "incentives": plot_incentives,
}


def plot_run(run_dir, suite: str | None = None) -> PlotResult:
    """Write every figure of a run into ``<run_dir>/figures``."""
    run = res.RunDir(run_dir)
    meta = run.read_meta()
    df = run.load_results()
    suite = suite or meta.get("suite")
    out = PlotResult()
    if df.empty:
        out.skipped.append("no results to plot")
        return out
    fn = PLOTTERS.get(suite)
    if fn is None:
        out.skipped.append(f"no plots defined for suite {suite!r}")
        return out
    run.figures.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tight_layout/legend chatter
        files = fn(df, run.figures, meta)
    out.files = [Path(p) for p in files]
    if not out.files:
        out.skipped.append(f"suite {suite!r}: the results lack the columns its plots need")
    return out
