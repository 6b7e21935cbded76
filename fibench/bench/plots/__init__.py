"""Figures of the suites: ``common`` (shared helpers) and one module per suite, each on Agg
canvases of its own (no pyplot, no global backend state).

``plot_run(run_dir)`` reads a run's ``meta.json`` and ``results.csv`` and calls the figure
functions its suite names in ``PLOTS`` (``fn(df, outdir) -> list of paths``); every figure is
written as PNG and SVG into ``<run_dir>/figures/``. A figure whose columns are missing is
skipped; a figure that would not show what its title promises (one point) is not drawn and
its function returns a ``NotDrawn`` saying why; ``PlotResult.skipped`` lists both.
``progress=True`` shows a bar over the figure functions on stderr (large runs take a while).
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from fibench.bench import results as res
from fibench.bench.plots.common import NotDrawn
from fibench.bench.suite import SuiteError, load_suite, suite_plots, suite_spec_of_run


@dataclass
class PlotResult:
    files: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def plot_run(run_dir, suite=None, progress: bool = False) -> PlotResult:
    """Write every figure of a run into ``<run_dir>/figures``. ``suite``: the suite module (or
    name, or file) when the caller has it loaded already; default: the one meta.json names."""
    run = res.RunDir(run_dir)
    meta = run.read_meta()
    df = run.load_results()
    out = PlotResult()
    name = suite.NAME if isinstance(suite, ModuleType) else meta.get("suite")
    if df.empty:
        out.skipped.append("no results to plot")
        return out
    try:
        fns = suite_plots(load_suite(suite if suite is not None else suite_spec_of_run(meta)))
    except SuiteError as exc:
        out.skipped.append(f"no plots for suite {name!r}: {exc}")
        return out
    if not fns:
        out.skipped.append(f"no plots defined for suite {name!r}")
        return out
    run.figures.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tight_layout/legend chatter
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(fns), desc=f"{name} figures", unit="fn", file=sys.stderr, leave=False)
        try:
            for fn in fns:
                for p in fn(df, run.figures) or []:
                    if isinstance(p, NotDrawn):
                        out.skipped.append(str(p))
                    else:
                        out.files.append(Path(p))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    if not out.files and not out.skipped:
        out.skipped.append(f"suite {name!r}: the results lack the columns its plots need")
    return out
