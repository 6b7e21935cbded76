"""Compare two runs of one suite (``fibench compare A B [--fail-on PCT] [--metric NAME ...]``).

Points are matched by their parameters (the grid keys of both runs' configs, plus the
non-numeric columns a measure function adds, such as ``network``), never by row order; when
a measure returns several rows with equal keys they are matched by their order within the point.

* counts (every numeric column that is not a time: bytes, rounds, messages, accuracy) are
  compared exactly (median over repetitions);
* times (columns ending in ``_s``/``_ms`` or naming ``time``) as the ratio B/A of the medians
  over repetitions, with each side's relative spread ``(max - min) / median`` over the
  repetitions (widened by ``X_min_s``/``X_max_s`` columns that a measure reports for ``X_s``).

With ``fail_on=PCT`` a time regresses when ``ratio > 1 + max(PCT/100, spread A, spread B)``
(a noisy point needs a larger slowdown to fail, as the regression gate's tolerance does) and
the fastest repetition of B is more than PCT slower than the fastest of A (a load burst on a
shared machine moves medians, a real slowdown moves every repetition); any changed count
fails too. Times under ``TIME_FLOOR_S`` on both sides are not judged.
Points only in A or only in B are listed (they do not fail).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fibench.bench import results as res
from fibench.bench.report import BOOKKEEPING, _grid_keys, _is_time, fmt, markdown_table

TIME_FLOOR_S = 1e-6
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
    fail_on: float | None = None
    failures: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def markdown(self) -> str:
        lines = [f"# fibench compare: {self.suite}", "",
                 f"- **A**: {self.a}", f"- **B**: {self.b}",
                 f"- **matched points**: {self.n_matched} (only in A: {len(self.only_a)}, "
                 f"only in B: {len(self.only_b)})"]
        if self.fail_on is not None:
            lines.append(f"- **gate**: time ratio B/A > 1 + max({fmt(self.fail_on)}%, spread of A, spread of B), "
                         "or any count changed")
        lines.append("")
        lines += ["## Counts", ""]
        if self.counts.empty:
            lines += [f"all {self.n_counts_equal} counts equal", ""]
        else:
            lines += [f"{len(self.counts)} changed, {self.n_counts_equal} equal", "",
                      markdown_table(self.counts), ""]
        lines += ["## Times (B/A of medians over repetitions; spread: min–max)", ""]
        lines += [markdown_table(self.times) if not self.times.empty else "_no time columns_", ""]
        for title, pts in (("Only in A", self.only_a), ("Only in B", self.only_b)):
            if pts:
                lines += [f"## {title}", ""] + [f"- {p}" for p in pts] + [""]
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


def _equal(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def compare_runs(a, b, fail_on: float | None = None, metrics=None) -> Comparison:
    """Compare run directories ``a`` and ``b`` (see the module docstring)."""
    if fail_on is not None and (not math.isfinite(fail_on) or fail_on < 0):
        raise CompareError(f"--fail-on must be a percentage >= 0, got {fail_on}")
    meta_a, df_a = _open(a, "A")
    meta_b, df_b = _open(b, "B")
    sa, sb = meta_a.get("suite"), meta_b.get("suite")
    if sa != sb:
        raise CompareError(f"runs of different suites: A ({a}) is {sa!r}, B ({b}) is {sb!r}; "
                           "compare two runs of one suite")
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
            if _is_time(c):
                lo, hi = _siblings(c, available)
                med_a, lo_a, hi_a = _spread(ra[c], ra[lo] if lo else None, ra[hi] if hi else None)
                med_b, lo_b, hi_b = _spread(rb[c], rb[lo] if lo else None, rb[hi] if hi else None)
                rel_a = (hi_a - lo_a) / med_a if med_a > 0 else 0.0
                rel_b = (hi_b - lo_b) / med_b if med_b > 0 else 0.0
                if math.isnan(med_a) or math.isnan(med_b):
                    ratio = math.nan
                elif med_a < TIME_FLOOR_S and med_b < TIME_FLOOR_S:
                    ratio = 1.0
                else:
                    ratio = med_b / med_a if med_a > 0 else math.inf
                thr = max((fail_on or 0.0) / 100.0, rel_a, rel_b)
                # the fastest repetitions must be slower too: load bursts move medians and maxima,
                # a real slowdown moves every repetition
                fastest = lo_b / lo_a if lo_a > 0 else (1.0 if lo_b < TIME_FLOOR_S else math.inf)
                verdict = ""
                if fail_on is not None:
                    verdict = "FAIL" if (ratio > 1.0 + thr and fastest > 1.0 + (fail_on / 100.0)) else "ok"
                    if verdict == "FAIL":
                        out.failures.append(f"{label}: {c} {fmt(ratio)}x slower (threshold {fmt(1 + thr)}x)")
                times.append({"point": label, "metric": c,
                              "A": f"{fmt(med_a)} ({fmt(lo_a)}–{fmt(hi_a)})",
                              "B": f"{fmt(med_b)} ({fmt(lo_b)}–{fmt(hi_b)})",
                              "B/A": fmt(ratio), "min B/A": fmt(fastest), "threshold": fmt(1 + thr),
                              "verdict": verdict})
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
    out.counts = pd.DataFrame(counts, columns=["point", "metric", "A", "B", "B-A"])
    out.times = pd.DataFrame(times, columns=["point", "metric", "A", "B", "B/A", "min B/A", "threshold", "verdict"])
    return out
