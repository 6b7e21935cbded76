"""Markdown summary of a run (``fibench report RUN_DIR``).

The header gives the suite, status, preset, commit, CPU and times; the table has one row per
grid point (repetitions aggregated: median, and ``min–max`` for timing columns when there are
several repetitions). Grouping columns are the grid keys that vary plus the non-numeric
columns the measure function adds (e.g. ``network``); value columns are the numeric columns
it adds. A suite may fix both with ``REPORT = {"index": [...], "values": [...]}`` and put tables
of its own on top with ``TABLES = {title: "module:function"}`` (``fn(df) -> DataFrame | None``;
the latency suite's pivot of time per network profile). No matplotlib is imported here.
"""
from __future__ import annotations

import math
import os
import platform

import numpy as np
import pandas as pd

from fibench.bench import results as res
from fibench.bench.suite import SuiteError, load_suite, suite_spec_of_run, suite_tables

BOOKKEEPING = ("rep", "point", "task_wall_s", "seed", res.JIT_KEY)
MAX_VALUE_COLS = 10


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    return str(v).replace("|", "\\|")


def markdown_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines)


def _grid_keys(meta: dict) -> list[str]:
    keys: list[str] = []
    for g in meta.get("config", {}).get("grids", []):
        keys += [k for k in g if k not in keys]
    return keys


def _is_time(c: str) -> bool:
    return c.endswith("_s") or c.endswith("_ms") or "time" in c


def summarize(df: pd.DataFrame, meta: dict, index=None, values=None) -> pd.DataFrame:
    """One row per grid point (and per non-numeric row column such as ``network``)."""
    if df.empty:
        return df
    no_expand = set(meta.get("config", {}).get("no_expand", []))
    gkeys = [k for k in _grid_keys(meta) if k in df.columns and k not in no_expand]
    if index is None:
        varying = [k for k in gkeys if df[k].nunique(dropna=True) > 1]
        extra = [c for c in df.columns if c not in gkeys and c not in BOOKKEEPING
                 and not pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
        index = varying + extra
    index = [c for c in index if c in df.columns]
    if values is None:
        values = [c for c in df.columns if c not in index and c not in gkeys and c not in BOOKKEEPING
                  and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
        values = values[:MAX_VALUE_COLS]
    values = [c for c in values if c in df.columns]
    if not values:
        return df[index].drop_duplicates().reset_index(drop=True) if index else df.head(0)
    d = df.copy()
    for c in values:
        d[c] = pd.to_numeric(d[c], errors="coerce")
    group_cols = index + (["point"] if "point" in d.columns else [])
    if not group_cols:
        d["_all"] = 0
        group_cols = ["_all"]
    g = d.groupby(group_cols, dropna=False, sort=False)
    med = g[values].median()
    nrep = int(d["rep"].max()) + 1 if "rep" in d.columns and d["rep"].notna().any() else 1
    out = med.copy()
    if nrep > 1:
        lo, hi = g[values].min(), g[values].max()
        for c in values:
            if _is_time(c):
                out[c] = [f"{fmt(m)} ({fmt(a)}–{fmt(b)})" for m, a, b in zip(med[c], lo[c], hi[c])]
    out = out.reset_index().drop(columns=["point", "_all"], errors="ignore")
    return out


def _alive(pid) -> bool:
    """Whether process ``pid`` (of this host) still runs; True when unknown."""
    if not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def collect(run_dir) -> dict:
    """What a report shows: ``meta``, ``title``, ``description``, ``info`` (label, value pairs),
    ``tables`` ((title, DataFrame) pairs: the suite's TABLES, then the summary) and ``empty``."""
    run = res.RunDir(run_dir)
    meta = run.read_meta()
    n_done = len(run.finished()) if run.points.is_dir() else meta.get("n_done")
    status = meta.get("status")
    if status == "running" and meta.get("host") == platform.node() and not _alive(meta.get("pid")):
        status = "interrupted (the process that ran it is gone; resume with fibench run --resume)"
    # results.csv is rebuilt when a run ends: after a kill the per-task files are the truth
    stale = n_done != meta.get("n_done") or meta.get("status") == "running" or not run.csv_path.is_file()
    df = run.load_points() if stale else run.load_results()
    env = meta.get("environment", {})
    git = env.get("git", {}) or {}
    cpu = env.get("cpu", {}) or {}
    cfg = meta.get("config", {})
    commit = git.get("commit") or "(no commit)"
    if git.get("dirty"):
        commit += " (dirty)"
    info = [
        ("status", status),
        ("preset", cfg.get("preset")),
        ("overrides", ", ".join(f"{k}={v}" for k, v in (cfg.get("overrides") or {}).items()) or "none"),
        ("grid points × repeats", f"{meta.get('n_points')} × {meta.get('repeats')} = {meta.get('n_tasks')} "
                                  f"({n_done} done)"),
        ("seeds", ", ".join(map(str, meta.get("seeds", [])))),
        ("commit", commit),
        ("CPU", f"{cpu.get('model')} ({cpu.get('usable')}/{cpu.get('count')} cores usable)"),
        ("started / ended", f"{meta.get('started')} / {meta.get('ended')}"),
    ]
    jit = meta.get("jit_compile")
    if jit:
        info.append(("JIT compile (excluded)", f"{jit['total_s']:.3g} s total over {jit['n_reports']} reports"))
    if meta.get("error"):
        info.append(("error", meta["error"]))
    out = {"meta": meta, "title": f"fibench run: {meta.get('suite')} / {meta.get('run_id')}",
           "description": meta.get("description"), "info": info, "tables": [], "empty": df.empty}
    if df.empty:
        return out
    spec, tables = {}, []
    try:
        suite = load_suite(suite_spec_of_run(meta))
        spec = getattr(suite, "REPORT", {}) or {}
        tables = suite_tables(suite)
    except SuiteError:  # the suite is gone or broken: the generic table still describes the run
        pass
    for title, fn in tables:
        extra = fn(df)
        if extra is not None and not extra.empty:
            out["tables"].append((title, extra))
    table = summarize(df, meta, spec.get("index"), spec.get("values"))
    out["tables"].append(("Results (median over repetitions)", table))
    return out


def report(run_dir) -> str:
    data = collect(run_dir)
    lines = [f"# {data['title']}", ""]
    if data["description"]:
        lines += [data["description"], ""]
    lines += [f"- **{k}**: {v}" for k, v in data["info"]] + [""]
    if data["empty"]:
        lines.append("_no results yet_")
        return "\n".join(lines) + "\n"
    for title, table in data["tables"]:
        lines += [f"## {title}", "", markdown_table(table), ""]
    return "\n".join(lines)
