"""Compare two runs of one suite (``fibench compare A B [--fail-on PCT] [--metric NAME ...]``).

Points are matched by their parameters (the grid keys of both runs' configs, plus the
non-numeric columns a measure function adds, such as ``network``), never by row order; when
a measure returns several rows with equal keys they are matched by their order within the point.

* counts (every numeric column that is not a time: bytes, rounds, messages, accuracy) are
  compared exactly (median over repetitions);
* times (columns ending in ``_s``/``_ms`` or naming ``time``) as the ratio B/A of the medians
  over repetitions, with each side's relative spread ``(max - min) / median`` over the
  repetitions (widened by ``X_min_s``/``X_max_s`` columns that a measure reports for ``X_s``);
* columns computed from measured times that a suite declares in ``TIMED`` (column -> "higher"
  when larger is faster, "lower" when smaller is faster, ``None`` when it has no direction:
  kernel throughput and the in-run ``ratio_vs_numpy``, the latency share of an estimate) are
  compared like times, never exactly: "higher" ones are judged on the slowdown A/B, direction-less
  ones are shown and never judged.

With ``fail_on=PCT`` (a CI gate) the comparison fails when a count changed, or when a judged
time metric's **overall slowdown** -- the median over the matched points of each point's
slowdown (B/A of the medians over repetitions for a time, A/B for a "higher" column; each
distinct measurement once) -- exceeds ``1 + max(PCT/100, median spread of the points'
repetitions, exp(3 * se) - 1)``, where se = 1.2533 * sigma / sqrt(n) is the standard error of
that median and sigma the robust spread (1.4826 x MAD) of the points' log slowdowns: the
run-to-run noise that back-to-back repetitions do not see. A single point is listed as
``slower`` when its slowdown and its fastest repetition's both exceed ``1 + max(PCT/100,
spread A, spread B, exp(3 * sigma) - 1)``; it fails the gate only with ``fail_on_point=True``
(``--fail-on-point``: catches a regression confined to one kernel), not by default: on a shared
2-core machine single points of an unchanged tree moved by up to 36x between two runs (10 pairs
of ``kernels`` runs, 3 repetitions), while the median moved by at most 1.22x (see
docs/compare_report.md for the measured pass rates). Times under ``TIME_FLOOR_S`` on both
sides are not judged.
Points only in A or only in B are listed (they do not fail).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fibench.bench import results as res
from fibench.bench.report import BOOKKEEPING, _grid_keys, _is_time, fmt, markdown_table
from fibench.bench.suite import SuiteError, load_suite, suite_spec_of_run

TIME_FLOOR_S = 1e-6
#: a point's slowdown must exceed exp(SCATTER_K * sigma), sigma the robust spread of the log
#: slowdowns of that metric over the matched points (the run-to-run noise that back-to-back
#: repetitions do not see); the median slowdown must exceed exp(SCATTER_K * its standard error)
SCATTER_K = 3.0
#: fewer matched points than this: no scatter estimate (repetitions and PCT only)
MIN_SCATTER_POINTS = 5
_SUB = "_sub"


class CompareError(ValueError):
    """Runs that cannot be compared (message: one line naming the run and what is wrong)."""


@dataclass
class Comparison:
    suite: str
    a: Path
    b: Path
    counts: pd.DataFrame          # changed counts: point, metric, A, B
    times: pd.DataFrame           # point, metric, A, B, ratio, threshold, verdict
    only_a: list = field(default_factory=list)
    only_b: list = field(default_factory=list)
    n_matched: int = 0
    n_counts_equal: int = 0
    overall: pd.DataFrame = field(default_factory=pd.DataFrame)  # per time metric: median slowdown
    fail_on: float | None = None
    failures: list = field(default_factory=list)
    slower_points: list = field(default_factory=list)  # single points beyond their threshold (listed, not failing)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def markdown(self) -> str:
        lines = [f"# fibench compare: {self.suite}", "",
                 f"- **A**: {self.a}", f"- **B**: {self.b}",
                 f"- **matched points**: {self.n_matched} (only in A: {len(self.only_a)}, "
                 f"only in B: {len(self.only_b)})"]
        if self.fail_on is not None:
            lines.append(f"- **gate**: a count changed, or a time metric's median slowdown over the points "
                         f"(B/A of a time, A/B of a throughput) > 1 + max({fmt(self.fail_on)}%, the points' "
                         "repetition spread, 3 standard errors of the median)")
        lines.append("")
        lines += ["## Counts", ""]
        if self.counts.empty:
            lines += [f"all {self.n_counts_equal} counts equal", ""]
        else:
            lines += [f"{len(self.counts)} changed, {self.n_counts_equal} equal", "",
                      markdown_table(self.counts), ""]
        lines += [("## Times (B/A of medians over repetitions; spread: min–max; "
                   "slowdown: B/A, or A/B where higher is better)"), ""]
        lines += [markdown_table(self.times) if not self.times.empty else "_no time columns_", ""]
        if not self.overall.empty:
            lines += [("## Overall (median slowdown over the matched points; scatter: robust spread "
                       "of the points' slowdowns)"), "", markdown_table(self.overall), ""]
        for title, pts in (("Only in A", self.only_a), ("Only in B", self.only_b)):
            if pts:
                lines += [f"## {title}", ""] + [f"- {p}" for p in pts] + [""]
        if self.slower_points:
            lines += ["## Single points beyond their threshold (listed; the gate judges the overall slowdown)", ""]
            lines += [f"- {p}" for p in self.slower_points] + [""]
        if self.fail_on is not None:
            if self.failures:
                lines += [f"**FAIL**: {len(self.failures)} regression(s)", ""]
                lines += [f"- {f}" for f in self.failures] + [""]
            else:
                lines += ["**PASS**", ""]
        return "\n".join(lines)


def _open(path, which: str) -> tuple[dict, pd.DataFrame]:
    path = Path(path)
    if not path.exists():
        raise CompareError(f"run {which}: {path} does not exist")
    if not path.is_dir():
        raise CompareError(f"run {which}: {path} is not a directory")
    run = res.RunDir(path)
    if not run.meta_path.exists() and any(path.glob(f"*/{res.META}")):
        raise CompareError(f"run {which}: {path} is a directory of suite runs (fibench run all); "
                           f"compare one suite's runs: {path}/<suite>")
    try:
        meta = run.read_meta()
    except FileNotFoundError as exc:
        raise CompareError(f"run {which}: {exc}") from None
    df = run.load_results()
    if df.empty:
        raise CompareError(f"run {which}: {path} has no results yet")
    return meta, df


def _metric_columns(df: pd.DataFrame, keys: list[str]) -> list[str]:
    return [c for c in df.columns if c not in keys and c not in BOOKKEEPING and c != _SUB
            and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]


def _key_columns(meta: dict, df: pd.DataFrame) -> list[str]:
    grid = [k for k in _grid_keys(meta) if k in df.columns]
    extra = [c for c in df.columns if c not in grid and c not in BOOKKEEPING
             and not pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    return grid + extra


def _keyed(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    d = df.copy()
    for k in keys:
        d[k] = d[k].map(fmt) if k in d.columns else ""
    reps = d["rep"] if "rep" in d.columns else pd.Series(0, index=d.index)
    d["_rep"] = reps
    d[_SUB] = d.groupby(keys + ["_rep"], sort=False, dropna=False).cumcount()
    return d


def _label(key: tuple, keys: list[str], shown: list[str], multi: bool) -> str:
    parts = [f"{k}={v}" for k, v in zip(keys + [_SUB], key) if k in shown and (k != _SUB or multi)]
    return ", ".join(parts) or "(single point)"


def _spread(values: pd.Series, lo: pd.Series | None, hi: pd.Series | None) -> tuple[float, float, float]:
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return math.nan, math.nan, math.nan
    med, a, b = float(v.median()), float(v.min()), float(v.max())
    if lo is not None and hi is not None:
        lo_v, hi_v = pd.to_numeric(lo, errors="coerce").dropna(), pd.to_numeric(hi, errors="coerce").dropna()
        if not lo_v.empty and not hi_v.empty:
            a, b = min(a, float(lo_v.min())), max(b, float(hi_v.max()))
    return med, a, b


def _siblings(c: str, cols) -> tuple[str | None, str | None]:
    if c.endswith("_s") and not c.endswith(("_min_s", "_max_s")):
        lo, hi = c[:-2] + "_min_s", c[:-2] + "_max_s"
        if lo in cols and hi in cols:
            return lo, hi
    return None, None


def _timed_columns(meta: dict) -> dict:
    """The run's suite's ``TIMED`` (column -> "higher" | "lower" | None); {} when the suite is
    gone or declares none."""
    try:
        suite = load_suite(suite_spec_of_run(meta))
    except SuiteError:
        return {}
    timed = getattr(suite, "TIMED", None) or {}
    if not isinstance(timed, dict) or any(v not in ("higher", "lower", None) for v in timed.values()):
        raise CompareError(f"suite {meta.get('suite')!r}: TIMED must map columns to 'higher', 'lower' or None")
    return dict(timed)


def _equal(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def _log_scatter(slowdowns) -> tuple[float, float, int]:
    """(median log slowdown, robust standard deviation of the log slowdowns (1.4826 x MAD), n)
    over the finite positive slowdowns; the scatter is 0 with fewer than ``MIN_SCATTER_POINTS``."""
    logs = [math.log(v) for v in slowdowns if isinstance(v, float) and math.isfinite(v) and v > 0]
    if not logs:
        return 0.0, 0.0, 0
    s = pd.Series(logs)
    med = float(s.median())
    sigma = 1.4826 * float((s - med).abs().median()) if len(logs) >= MIN_SCATTER_POINTS else 0.0
    return med, sigma, len(logs)


def _judge(out: Comparison, times: list[dict], fail_on: float | None) -> None:
    """Thresholds and verdicts of the time rows (module docstring), one metric at a time; sets
    ``out.overall`` (median slowdown over the matched points, each distinct measurement once)."""
    pct = (fail_on or 0.0) / 100.0
    overall = []
    for metric in dict.fromkeys(t["metric"] for t in times):
        rows = [t for t in times if t["metric"] == metric]
        # rows of one measurement (latency: one per network profile) repeat its A and B: count it once
        distinct = {(t["A"], t["B"]): t["_slowdown"] for t in rows}
        med, sigma, n = _log_scatter(list(distinct.values()))
        point_noise = math.exp(SCATTER_K * sigma) - 1.0
        for t in rows:
            thr = max(pct, t["_spread"], point_noise)
            t["threshold"] = fmt(1 + thr)
            sd = t["_slowdown"]
            t["slowdown"] = fmt(sd) if not math.isnan(sd) else ""
            t["fastest slowdown"] = fmt(t["_fastest"]) if not math.isnan(sd) else ""
            t["verdict"] = ""
            if fail_on is not None:
                if math.isnan(sd):
                    t["verdict"] = "not judged"
                else:
                    t["verdict"] = "slower" if (sd > 1.0 + thr and t["_fastest"] > 1.0 + thr) else "ok"
                if t["verdict"] == "slower":
                    out.slower_points.append(f"{t['point']}: {metric} {fmt(sd)}x slower (threshold {fmt(1 + thr)}x)")
        if n == 0:
            continue
        spreads = pd.Series([t["_spread"] for t in rows if not math.isnan(t["_slowdown"])], dtype=float)
        agg_thr = max(pct, float(spreads.median()) if len(spreads) else 0.0,
                      math.exp(SCATTER_K * 1.2533 * sigma / math.sqrt(n)) - 1.0)
        agg = math.exp(med)
        verdict = ""
        if fail_on is not None:
            verdict = "FAIL" if agg > 1.0 + agg_thr else "ok"
            if verdict == "FAIL":
                out.failures.append(f"overall: {metric} {fmt(agg)}x slower, median of {n} points "
                                    f"(threshold {fmt(1 + agg_thr)}x)")
        overall.append({"metric": metric, "points": n, "median slowdown": fmt(agg),
                        "scatter": fmt(math.exp(sigma)), "threshold": fmt(1 + agg_thr), "verdict": verdict})
    out.overall = pd.DataFrame(overall, columns=["metric", "points", "median slowdown", "scatter", "threshold",
                                                 "verdict"])


def compare_runs(a, b, fail_on: float | None = None, metrics=None, fail_on_point: bool = False) -> Comparison:
    """Compare run directories ``a`` and ``b`` (see the module docstring)."""
    if fail_on is not None and (not math.isfinite(fail_on) or fail_on < 0):
        raise CompareError(f"--fail-on must be a percentage >= 0, got {fail_on}")
    meta_a, df_a = _open(a, "A")
    meta_b, df_b = _open(b, "B")
    sa, sb = meta_a.get("suite"), meta_b.get("suite")
    if sa != sb:
        raise CompareError(f"runs of different suites: A ({a}) is {sa!r}, B ({b}) is {sb!r}; "
                           "compare two runs of one suite")
    timed = {**_timed_columns(meta_a), **_timed_columns(meta_b)}
    keys = list(dict.fromkeys(_key_columns(meta_a, df_a) + _key_columns(meta_b, df_b)))
    ka, kb = _keyed(df_a, keys), _keyed(df_b, keys)
    cols_a, cols_b = _metric_columns(ka, keys), _metric_columns(kb, keys)
    available = [c for c in cols_a if c in cols_b]
    if metrics:
        unknown = [m for m in metrics if m not in available]
        if unknown:
            raise CompareError(f"--metric: {', '.join(map(repr, unknown))} not a numeric column of both runs; "
                               f"choose from {', '.join(available)}")
        chosen = list(metrics)
    else:
        folded = {x for c in available for x in _siblings(c, available) if x}
        chosen = [c for c in available if c not in folded]  # X_min_s/X_max_s are X_s's spread
    idx = keys + [_SUB]
    ga, gb = ka.groupby(idx, sort=False, dropna=False), kb.groupby(idx, sort=False, dropna=False)
    pts_a, pts_b = list(ga.groups), list(gb.groups)
    set_a, set_b = set(pts_a), set(pts_b)
    multi = bool(ka[_SUB].max() > 0 or kb[_SUB].max() > 0)
    both = pd.concat([ka[keys], kb[keys]])
    shown = [k for k in keys if both[k].nunique() > 1] + [_SUB]
    out = Comparison(sb, Path(a), Path(b), pd.DataFrame(), pd.DataFrame(), fail_on=fail_on)
    out.only_a = [_label(p, keys, shown, multi) for p in pts_a if p not in set_b]
    out.only_b = [_label(p, keys, shown, multi) for p in pts_b if p not in set_a]
    counts, times = [], []
    for p in pts_a:
        if p not in set_b:
            continue
        out.n_matched += 1
        ra, rb = ga.get_group(p), gb.get_group(p)
        label = _label(p, keys, shown, multi)
        for c in chosen:
            if _is_time(c) or c in timed:
                better = timed.get(c, "lower")
                lo, hi = _siblings(c, available)
                med_a, lo_a, hi_a = _spread(ra[c], ra[lo] if lo else None, ra[hi] if hi else None)
                med_b, lo_b, hi_b = _spread(rb[c], rb[lo] if lo else None, rb[hi] if hi else None)
                rel_a = (hi_a - lo_a) / med_a if med_a > 0 else 0.0
                rel_b = (hi_b - lo_b) / med_b if med_b > 0 else 0.0
                if math.isnan(med_a) or math.isnan(med_b):
                    ratio = math.nan
                elif abs(med_a) < TIME_FLOOR_S and abs(med_b) < TIME_FLOOR_S and better == "lower":
                    ratio = 1.0
                else:
                    ratio = med_b / med_a if med_a > 0 else math.inf
                # the fastest repetitions must be slower too: load bursts move medians and maxima,
                # a real slowdown moves every repetition
                if better == "higher":  # throughput-like: the slowdown is A/B, the fastest is the largest
                    slowdown = med_a / med_b if med_b > 0 else math.inf
                    fastest = hi_a / hi_b if hi_b > 0 else math.inf
                else:
                    slowdown = ratio
                    fastest = lo_b / lo_a if lo_a > 0 else (1.0 if lo_b < TIME_FLOOR_S else math.inf)
                times.append({"point": label, "metric": c, "better": better or "-",
                              "A": f"{fmt(med_a)} ({fmt(lo_a)}–{fmt(hi_a)})",
                              "B": f"{fmt(med_b)} ({fmt(lo_b)}–{fmt(hi_b)})",
                              "B/A": fmt(ratio), "_slowdown": slowdown if better else math.nan,
                              "_fastest": fastest, "_spread": max(rel_a, rel_b)})
            else:
                va = pd.to_numeric(ra[c], errors="coerce").median()
                vb = pd.to_numeric(rb[c], errors="coerce").median()
                va, vb = float(va), float(vb)
                if _equal(va, vb):
                    out.n_counts_equal += 1
                    continue
                counts.append({"point": label, "metric": c, "A": fmt(va), "B": fmt(vb),
                               "B-A": fmt(vb - va) if math.isfinite(va) and math.isfinite(vb) else ""})
                if fail_on is not None:
                    out.failures.append(f"{label}: {c} changed {fmt(va)} -> {fmt(vb)}")
    _judge(out, times, fail_on)
    if fail_on_point:
        out.failures += out.slower_points
    out.counts = pd.DataFrame(counts, columns=["point", "metric", "A", "B", "B-A"])
    out.times = pd.DataFrame(times, columns=["point", "metric", "better", "A", "B", "B/A", "slowdown",
                                             "fastest slowdown", "threshold", "verdict"])
    return out
