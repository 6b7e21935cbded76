"""Figures of the ``incentives`` suite (Agg canvases, no pyplot).

``plot_incentives(df, outdir)`` writes, into ``outdir``:

* ``incentives_rank_vs_alpha``: Spearman rank correlation with exact Shapley vs the Dirichlet
  alpha (IID last, a marker of its own), one line per scheme, one panel per number of owners (no
  adversary; mean over seeds, bars = min..max when there are several seeds, and the title says
  how many);
* ``incentives_shares``: reward share of every owner under every scheme for one setting
  (the most heterogeneous alpha, the largest number of owners up to ``SHARES_MAX_OWNERS`` = 32,
  a sybil if present), the
  adversary's bar hatched;
* ``incentives_adversary_share``: the adversary's reward share per scheme and attack
  (mean over the grid), against the fair share 1/players.

Returns the list of written paths (PNG and SVG).
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from fibench.bench.plots.common import alpha_value, save, subplots

SCHEME_ORDER = ("shapley", "mc_shapley", "banzhaf", "loo",
                "agreement", "pseudo_shapley", "confidence", "peer_ca", "equal")
LABEL_FREE = ("agreement", "pseudo_shapley", "confidence", "peer_ca", "equal")
#: the shares figure shows the largest number of owners up to this (the smallest beyond it)
SHARES_MAX_OWNERS = 32


def _alpha_label(a) -> str:
    v = alpha_value(a)
    return "IID" if math.isinf(v) else f"{v:g}"


def _schemes(df):
    present = list(dict.fromkeys(df["scheme"]))
    return [s for s in SCHEME_ORDER if s in present] + [s for s in present if s not in SCHEME_ORDER]


def _style(s):
    return {"linestyle": "--" if s in LABEL_FREE else "-", "marker": "o" if s in LABEL_FREE else "s"}


def plot_rank_vs_alpha(df, outdir) -> list[Path]:
    need = {"scheme", "alpha", "spearman", "owners"}
    if not need <= set(df.columns):
        return []
    d = df.copy()
    if "adversary" in d.columns:
        d = d[d["adversary"].astype(str) == "none"]
    d = d[d["scheme"] != "shapley"]
    setting = []
    for c, pref in (("model", "lr"), ("rule", "soft")):
        if c in d.columns and d[c].nunique() > 1:
            keep = pref if pref in set(d[c]) else d[c].iloc[0]
            d = d[d[c] == keep]
            setting.append(f"{c} = {keep}")
    if d.empty:
        return []
    d["alpha_key"] = d["alpha"].map(alpha_value)
    owners = sorted(d["owners"].unique())
    alphas = sorted(d["alpha_key"].unique())
    xpos = {a: i for i, a in enumerate(alphas)}
    n_seeds = int(d["seed"].nunique()) if "seed" in d.columns else 1
    fig, axes = subplots(1, len(owners), figsize=(4.6 * len(owners) + 1.8, 3.8), sharey=True, squeeze=False)
    for ax, K in zip(axes[0], owners):
        dk = d[d["owners"] == K]
        schemes = _schemes(dk)
        for si, s in enumerate(schemes):
            dodge = (si - (len(schemes) - 1) / 2) * 0.04  # side by side, so the bars stay readable
            g = dk[dk["scheme"] == s].groupby("alpha_key")["spearman"].agg(["mean", "min", "max"])
            g = g.dropna()
            if g.empty:
                continue
            style, color = _style(s), f"C{si % 10}"
            fin, iid = g[np.isfinite(g.index)], g[np.isinf(g.index)]
            for part, line in ((fin, style["linestyle"]), (iid, "none")):  # IID: a marker, no line to it
                if part.empty:
                    continue
                ax.errorbar([xpos[a] + dodge for a in part.index], part["mean"],
                            yerr=np.clip([part["mean"] - part["min"], part["max"] - part["mean"]], 0, None)
                            if n_seeds > 1 else None,
                            capsize=2, color=color, marker=style["marker"], linestyle=line,
                            label=s if (part is fin or fin.empty) else None)
        ax.set_xticks(range(len(alphas)), [_alpha_label(a) for a in alphas])
        if np.isinf(alphas[-1]) and len(alphas) > 1:
            ax.axvspan(len(alphas) - 1.6, len(alphas) - 1.4, color="0.92", zorder=0)  # the jump to ∞
        ax.set_xlabel("Dirichlet α (label skew; smaller = more heterogeneous)")
        ax.set_title(f"{K} owners", fontsize=10)
        ax.axhline(0.0, color="grey", linewidth=0.6)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Spearman ρ with exact Shapley")
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), title="scheme", fontsize=8)
    extra = (", " + ", ".join(setting)) if setting else ""
    data = f", dataset {d['dataset'].iloc[0]}" if "dataset" in d.columns and d["dataset"].nunique() == 1 else ""
    spread = f"mean, bars min..max over {n_seeds} seeds" if n_seeds > 1 else "one seed: no spread shown"
    fig.suptitle("Rank agreement of reward schemes with exact Shapley "
                 f"(no adversary{extra}{data}; {spread})", fontsize=10)
    fig.tight_layout()
    return save(fig, outdir, "incentives_rank_vs_alpha")


def _pick_setting(df):
    d = df.copy()
    d["alpha_key"] = d["alpha"].map(alpha_value)
    advs = list(d["adversary"].astype(str).unique()) if "adversary" in d.columns else ["none"]
    adv = "sybil" if "sybil" in advs else ("none" if "none" in advs else advs[0])
    if "adversary" in d.columns:
        d = d[d["adversary"].astype(str) == adv]
    owners = sorted(d["owners"].unique())
    readable = [k for k in owners if k <= SHARES_MAX_OWNERS]  # one bar per owner and scheme must stay readable
    K = readable[-1] if readable else owners[0]
    d = d[d["owners"] == K]
    a = d["alpha_key"].min()
    d = d[d["alpha_key"] == a]
    if "seed" in d.columns:
        d = d[d["seed"] == d["seed"].min()]
    if "rep" in d.columns:
        d = d[d["rep"] == d["rep"].min()]
    for c in ("model", "rule"):
        if c in d.columns:
            d = d[d[c] == d[c].iloc[0]]
    return d, adv, K, a


def plot_shares(df, outdir) -> list[Path]:
    need = {"scheme", "alpha", "owners", "shares"}
    if not need <= set(df.columns):
        return []
    d, adv, K, a = _pick_setting(df)
    if d.empty:
        return []
    schemes = _schemes(d)
    shares = {s: np.array([float(x) for x in str(d[d["scheme"] == s]["shares"].iloc[0]).split(";")])
              for s in schemes}
    P = max(len(v) for v in shares.values())
    fig, ax = subplots(figsize=(min(16.0, max(8.0, 0.1 * P * len(schemes) + 3)), 4.0))
    width = 0.8 / len(schemes)
    cmap = matplotlib.colormaps["tab10"]
    for j, s in enumerate(schemes):
        v = shares[s]
        x = np.arange(len(v)) + (j - (len(schemes) - 1) / 2) * width
        bars = ax.bar(x, v, width, label=s, color=cmap(j % 10))
        if adv != "none" and len(v) == P and P > K:
            bars[-1].set_hatch("//")
    labels = [f"{i}" for i in range(K)] + ([f"{adv}"] if P > K else [])
    ax.set_xticks(range(P), labels)
    ax.set_xlabel("owner (adversary last)" if P > K else "owner")
    ax.set_ylabel("reward share")
    ax.axhline(1.0 / P, color="grey", linewidth=0.7, linestyle=":", label="equal share")
    ax.set_title(f"Reward shares per owner: {K} owners, α = {_alpha_label(a)}, adversary = {adv}", fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="scheme", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, outdir, "incentives_shares")


def plot_adversary_share(df, outdir) -> list[Path]:
    need = {"scheme", "adversary", "adversary_share"}
    if not need <= set(df.columns):
        return []
    d = df[df["adversary"].astype(str) != "none"].dropna(subset=["adversary_share"])
    if d.empty:
        return []
    schemes = _schemes(d)
    advs = [a for a in ("sybil", "random", "constant") if a in set(d["adversary"])] + \
        [a for a in d["adversary"].unique() if a not in ("sybil", "random", "constant")]
    fig, ax = subplots(figsize=(8, 3.8))
    width = 0.8 / len(advs)
    for j, a in enumerate(advs):
        g = d[d["adversary"] == a].groupby("scheme")["adversary_share"].mean()
        vals = [g.get(s, np.nan) for s in schemes]
        ax.bar(np.arange(len(schemes)) + (j - (len(advs) - 1) / 2) * width, vals, width, label=a)
    if "players" in d.columns:
        fair = float((1.0 / d["players"]).mean())
        ax.axhline(fair, color="grey", linestyle=":", linewidth=0.8, label="1 / players (mean)")
    ax.set_xticks(range(len(schemes)), schemes, rotation=30, ha="right")
    ax.set_ylabel("adversary's reward share (mean over grid)")
    ax.set_xlabel("scheme")
    ax.set_title("Reward share given to an adversarial owner", fontsize=10)
    ax.legend(title="adversary", fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, outdir, "incentives_adversary_share")


def plot_incentives(df: pd.DataFrame, outdir) -> list[Path]:
    """All incentives figures for a results table; returns the written paths."""
    if df is None or len(df) == 0 or "scheme" not in df.columns:
        return []
    Path(outdir).mkdir(parents=True, exist_ok=True)
    paths = []
    paths += plot_rank_vs_alpha(df, outdir)
    paths += plot_shares(df, outdir)
    paths += plot_adversary_share(df, outdir)
    return paths
