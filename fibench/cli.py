"""Command line: ``fibench list | run | plot | report | compare``.

    fibench list [SUITE]                         suites, presets, grids and network profiles
    fibench run SUITE|all [--preset quick|paper] [--set key=value ...] [--out DIR]
                [--resume RUN_DIR] [--no-plot]
    fibench plot RUN_DIR                         PNG + SVG figures into RUN_DIR/figures
    fibench report RUN_DIR [-o FILE] [--html FILE]  markdown summary table (HTML: one file)
    fibench compare A B [--fail-on PCT]          changes between two runs of one suite
    fibench explain RUN_DIR                      what the run's files and columns mean (units)

``--set`` values are JSON-ish: ``--set owners=2,5`` (a list), ``--set alpha=0.1``,
``--set networks=wan,geo``, ``--set repeats=3``, ``--set seed=1``. Without ``--out`` a run goes
to ``results/<suite>/<run-id>/``; with ``all`` every suite goes to ``DIR/<suite>/``.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from fibench.bench import runner
from fibench.bench.runner import SuiteError

app = typer.Typer(
    name="fibench",
    help="Benchmarks for secure federated inference: SMPC latency, communication, ensemble accuracy, incentives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _os_error(exc: OSError) -> str:
    """One line for a file-system error: the file and what is wrong."""
    where = exc.filename if exc.filename is not None else None
    what = exc.strerror or str(exc)
    return f"{where}: {what}" if where is not None else what


def _fail(msg: str, code: int = 1):
    _err(f"error: {msg}")
    raise typer.Exit(code)


def _run_dir_arg(run_dir: Path) -> None:
    if not (run_dir / "meta.json").is_file():
        raise typer.BadParameter(f"{run_dir} is not a run directory (no meta.json)", param_hint="RUN_DIR")


def _format_values(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def _describe_suite(name: str, mod, verbose: bool = True) -> list[str]:
    lines = [f"{name}: {getattr(mod, 'DESCRIPTION', '')}"]
    reason = runner.measure_available(mod)
    measure = mod.MEASURE if isinstance(mod.MEASURE, str) else getattr(mod.MEASURE, "__name__", "?")
    lines.append(f"  measure: {measure}" + ("" if reason is None else f"  [NOT AVAILABLE: {reason}]"))
    for preset in mod.PRESETS:
        try:
            cfg = runner.resolve_config(mod, preset)
            n = len(runner.expand(cfg, getattr(mod, "VALID", None)))
            took = runner.estimated_duration(mod, preset, n * int(cfg["repeats"]))
            head = f"  preset {preset}: {n} grid points x {cfg['repeats']} repeats, estimated {took}"
        except SuiteError as exc:
            head = f"  preset {preset}: invalid ({exc})"
            cfg = None
        lines.append(head)
        if verbose and cfg is not None:
            for i, g in enumerate(cfg["grids"]):
                prefix = f"    grid {i + 1}: " if len(cfg["grids"]) > 1 else "    "
                lines.append(prefix + "; ".join(f"{k}={_format_values(v)}" for k, v in g.items()))
    if verbose:
        first = next(iter(mod.PRESETS))
        lines.append(f"  --set keys: {', '.join(runner.valid_set_keys(mod, first))}")
    return lines


def _key_ranges(mod) -> list[str]:
    from fibench.bench.keys import SEED_RANGE, key_lines

    lines = key_lines(mod)
    if not lines:
        return []
    return ["  allowed values:"] + [f"    {line}" for line in lines] + [
        f"    seed: an integer in [{SEED_RANGE[0]}, {SEED_RANGE[1]}]", "    repeats: an integer >= 1"]


@app.command("list")
def list_cmd(
    suite: Annotated[Optional[str], typer.Argument(help="Show only this suite.")] = None,
    brief: Annotated[bool, typer.Option("--brief", help="Presets only, no grids.")] = False,
):
    """List suites, their presets and grids, and the network profiles."""
    from fibench.bench import network

    errors: dict = {}
    suites = runner.discover_suites(errors)
    if suite is not None:
        try:
            mod = runner.load_suite(suite)
        except SuiteError as exc:
            raise typer.BadParameter(str(exc), param_hint="SUITE") from None
        typer.echo("\n".join(_describe_suite(mod.NAME, mod, True) + _key_ranges(mod)))
        return
    typer.echo("Suites (fibench run SUITE|all --preset PRESET --set key=value):")
    for name, mod in suites.items():
        typer.echo("\n".join(_describe_suite(name, mod, not brief)))
    for name, msg in errors.items():
        typer.echo(f"{name}: [BROKEN: {msg}]")
    typer.echo("\nNetwork profiles (latency per round = max RTT over the round's links; "
               "transfer = max bytes/bandwidth over its links):")
    for name, prof in network.PROFILES.items():
        typer.echo(f"  {name}: {prof.describe()}")
    typer.echo("  (more in a TOML file: --set network_file=PATH; see fibench.bench.network)")


def _parse_sets(items) -> dict:
    try:
        return runner.parse_sets(items)
    except SuiteError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.param) from None


def _plot(path: Path, suite=None, progress: bool = False) -> None:
    from fibench.bench.plots import plot_run

    try:
        out = plot_run(path, suite, progress=progress)
    except OSError as exc:
        _err(f"  plots failed: {_os_error(exc)}")
        return
    except Exception as exc:  # a broken figure must not lose the run
        _err(f"  plots failed: {type(exc).__name__}: {exc}")
        return
    for note in out.skipped:
        _err(f"  plots: {note}")
    if out.files:
        typer.echo(f"  figures: {len(out.files)} files in {path / 'figures'}")


def _execute(plan, progress: bool, plot: bool) -> bool:
    for note in plan.notes:
        _err(f"note: {note}")
    try:
        result = runner.execute(plan, progress=progress, argv=sys.argv)
    except runner.RunFailed as exc:
        _err(f"error: {exc}")
        if plot:
            _plot(exc.path, plan.suite, progress)
        return False
    except KeyboardInterrupt:
        _err(f"\ninterrupted: finished tasks are stored; resume with: fibench run --resume {plan.run.path}")
        raise typer.Exit(130) from None
    except OSError as exc:
        _err(f"error: cannot write the run {plan.run.path}: {_os_error(exc)}")
        return False
    typer.echo(f"{result.suite}: {result.n_done}/{result.n_tasks} tasks done"
               + (f" ({result.n_skipped} resumed)" if result.n_skipped else "") + f" -> {result.path}")
    if plot:
        _plot(result.path, plan.suite, progress)
    return True


@app.command("run")
def run_cmd(
    suite: Annotated[Optional[str], typer.Argument(
        help="Suite name, 'all', or a path to a suite .py file (optional with --resume).")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", "-p", help="Grid preset: quick (CI) or paper.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", "-s", help="Override a grid key: key=value (value JSON-ish; 2,5 is a list). Repeatable.")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Run directory (for 'all': DIR/<suite>/). Default results/<suite>/<run-id>/.")] = None,
    resume: Annotated[Optional[Path], typer.Option(
        "--resume", help="Resume an interrupted run directory (for 'all': a directory of suite runs).")] = None,
    plot: Annotated[bool, typer.Option("--plot/--no-plot", help="Write the figures after the run.")] = True,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bars on stderr (only on a terminal, not in CI).")] = True,
    backend: Annotated[Optional[str], typer.Option(
        "--backend", help="local (default: every party in this process) or mpi (one MPI rank per party, "
                          "launched with mpiexec; communication, latency ops and crosscheck).")] = None,
    parties: Annotated[Optional[int], typer.Option(
        "--parties", min=2, max=16, help="With --backend mpi: run every point with this many ranks.")] = None,
    hosts: Annotated[Optional[str], typer.Option(
        "--hosts", help="With --backend mpi: comma-separated hosts for the ranks (mpiexec -hosts; docs/mpi.md).")] = None,
    hostfile: Annotated[Optional[Path], typer.Option(
        "--hostfile", help="With --backend mpi: an MPICH host file (mpiexec -f; 'host:slots' per line).")] = None,
):
    """Run a suite (or every suite) and store results, meta.json and figures."""
    overrides = _parse_sets(set_)
    try:
        plans = runner.prepare(suite, preset, overrides, out, resume, backend=backend, parties=parties,
                               hosts=hosts, hostfile=hostfile)
    except SuiteError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.param) from None
    except OSError as exc:
        _fail(_os_error(exc), 2)
    ok = True
    from fibench.bench.progress import wanted

    for plan in plans:
        if isinstance(plan, runner.Skipped):
            _err(f"{'error' if plan.failed else 'warning'}: {plan.message}")
            ok = ok and not plan.failed
        else:
            ok = _execute(plan, wanted(progress), plot) and ok
    raise typer.Exit(0 if ok else 1)


@app.command("plot")
def plot_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (holds meta.json).")],
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bar on stderr (only on a terminal, not in CI).")] = True,
):
    """Write the figures of a run (PNG and SVG) into RUN_DIR/figures."""
    _run_dir_arg(run_dir)
    from fibench.bench.plots import plot_run
    from fibench.bench.progress import wanted
    from fibench.bench.results import DamagedRun

    try:
        out = plot_run(run_dir, progress=wanted(progress))
    except DamagedRun as exc:
        raise typer.BadParameter(str(exc), param_hint="RUN_DIR") from None
    except OSError as exc:
        _fail(f"cannot write the figures of {run_dir}: {_os_error(exc)}")
    for note in out.skipped:
        _err(f"note: {note}")
    for f in out.files:
        typer.echo(str(f))


def _report_html(run_dir: Path, html: Path) -> None:
    from fibench.bench.html_report import run_dirs, write_html
    from fibench.bench.results import DamagedRun

    if not run_dirs(run_dir):
        raise typer.BadParameter(f"{run_dir} is not a run directory (no meta.json) nor a directory of "
                                 "suite runs (no */meta.json)", param_hint="RUN_DIR")
    if html.is_dir() or (html.parent.exists() and not html.parent.is_dir()):
        raise typer.BadParameter(f"{html} is a directory or under a file; give a file path", param_hint="--html")
    try:
        write_html(run_dir, html)
    except DamagedRun as exc:
        raise typer.BadParameter(str(exc), param_hint="RUN_DIR") from None
    except OSError as exc:
        _fail(f"cannot write the HTML report: {_os_error(exc)}")
    typer.echo(str(html))


@app.command("report")
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (holds meta.json).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write the markdown here.")] = None,
    html: Annotated[Optional[Path], typer.Option(
        "--html", help="Write a single self-contained HTML file (figures embedded) instead of printing "
                       "markdown; RUN_DIR may be a `run all` directory.")] = None,
):
    """Print a markdown summary table of a run (or write an HTML report with --html)."""
    if html is not None:
        _report_html(run_dir, html)
        return
    _run_dir_arg(run_dir)
    from fibench.bench.report import report
    from fibench.bench.results import DamagedRun, atomic_write_text

    if output is not None and (output.is_dir() or (output.parent.exists() and not output.parent.is_dir())):
        raise typer.BadParameter(f"{output} is a directory or under a file; give a file path", param_hint="--output")
    try:
        text = report(run_dir)
    except DamagedRun as exc:
        raise typer.BadParameter(str(exc), param_hint="RUN_DIR") from None
    except OSError as exc:
        _fail(f"cannot read {run_dir}: {_os_error(exc)}")
    typer.echo(text)
    if output is not None:
        try:
            atomic_write_text(output, text)
        except OSError as exc:
            _fail(f"cannot write the report: {_os_error(exc)}")


@app.command("explain")
def explain_cmd(run_dir: Annotated[Path, typer.Argument(help="A run directory (holds meta.json).")]):
    """Say what a run's files (points/, meta.json, results.csv/.parquet, figures/) and each column
    mean, with units (the same text as RUN_DIR/README.md)."""
    _run_dir_arg(run_dir)
    from fibench.bench.explain import explain
    from fibench.bench.results import DamagedRun

    try:
        text = explain(run_dir)
    except DamagedRun as exc:
        raise typer.BadParameter(str(exc), param_hint="RUN_DIR") from None
    except OSError as exc:
        _fail(f"cannot read {run_dir}: {_os_error(exc)}")
    typer.echo(text)


@app.command("compare")
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="Run directory A (the reference).")],
    b: Annotated[Path, typer.Argument(help="Run directory B (compared with A).")],
    fail_on: Annotated[Optional[float], typer.Option(
        "--fail-on", help="Exit 1 when a count changes or a time metric's median slowdown over the matched "
                          "points exceeds 1 + max(PCT%, the repetitions' spread, 3 standard errors).")] = None,
    fail_on_point: Annotated[bool, typer.Option(
        "--fail-on-point", help="With --fail-on: also exit 1 when a single point is slower than its own "
                                "threshold (catches a regression of one kernel; noisier on a shared machine).")] = False,
    metric: Annotated[Optional[list[str]], typer.Option(
        "--metric", "-m", help="Compare only this column (repeatable).")] = None,
):
    """Compare two runs of one suite: counts exactly, times as ratios B/A (markdown table)."""
    from fibench.bench.compare import CompareError, compare_runs
    from fibench.bench.results import DamagedRun

    if fail_on_point and fail_on is None:
        _fail("--fail-on-point needs --fail-on PCT (the threshold it applies per point)", 2)
    try:
        result = compare_runs(a, b, fail_on=fail_on, metrics=metric, fail_on_point=fail_on_point)
    except (CompareError, DamagedRun) as exc:
        _fail(str(exc), 2)
    except OSError as exc:
        _fail(f"cannot read a run: {_os_error(exc)}", 2)
    typer.echo(result.markdown())
    raise typer.Exit(1 if result.failed else 0)


@app.command("infer")
def infer_cmd(
    mode: Annotated[str, typer.Option(help="M1 (owners share outputs) or M2 (query and weights shared).")] = "M1",
    topology: Annotated[str, typer.Option(help="T1 (owners compute) or T2 (outsourced to --servers).")] = "T1",
    owners: Annotated[int, typer.Option(min=1, max=256, help="Number of owners K.")] = 5,
    alpha: Annotated[str, typer.Option(help="Dirichlet label skew alpha (> 0) or 'iid'.")] = "0.5",
    model: Annotated[str, typer.Option(help="Local model: lr, mlp, mlp:64,32 (ReLU layers of those sizes), cnn "
                                            "(conv 3x3 8ch, ReLU, avgpool 2, dense; cnn:8,16m for more blocks) or "
                                            "onnx:PATH (an ONNX file; each owner retrains its last dense layer).")] = "lr",
    trainer: Annotated[str, typer.Option(help="sklearn (default; a cnn/onnx model trains only its readout) or torch "
                                              "(every layer of a cnn/onnx model; needs PyTorch).")] = "sklearn",
    rule: Annotated[str, typer.Option(help="soft_vote, logit_sum, hard_vote or weighted_vote.")] = "soft_vote",
    protocol: Annotated[str, typer.Option(help="Comparison protocol: a2b or fss (2 parties).")] = "a2b",
    servers: Annotated[Optional[int], typer.Option(min=2, max=3, help="Compute servers for T2 (default 2).")] = None,
    sharing: Annotated[str, typer.Option(help="additive (dealer) or replicated (2-out-of-3 among exactly 3 "
                                              "servers, no dealer: --topology T2 --servers 3).")] = "additive",
    dataset: Annotated[str, typer.Option(help="digits, iris, wine, breast_cancer (scikit-learn's embedded sets), "
                                              "synthetic, or a .npz/.csv path.")] = "digits",
    label_column: Annotated[Optional[str], typer.Option(
        help="CSV data: the label column, a name or a position (0 first, -1 last; default: the last).")] = None,
    standardize: Annotated[bool, typer.Option(
        "--standardize/--no-standardize", help="Scale features to mean 0, sd 1 (training split's statistics).")] = False,
    queries: Annotated[Optional[int], typer.Option(
        min=1, help="Test queries to answer (default: the whole test set; at most the test set).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(
        min=1, help="Queries per secure batch (default: 120, or all the queries when fewer).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of split, partition and training.")] = 0,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bars on stderr (only on a terminal, not in CI).")] = True,
):
    """Train K owners on a non-IID partition, then answer test queries securely; print accuracy,
    agreement with the plaintext pipeline, bytes, rounds, time, and the estimated end-to-end
    time under every network profile."""
    from fibench.bench import infer
    from fibench.bench.formatting import fmt_seconds
    from fibench.bench.progress import wanted
    from fibench.fi import secure_inference as si
    from fibench.mpc import COMPARISONS

    if mode not in si.MODES:
        raise typer.BadParameter(f"must be one of {si.MODES}", param_hint="--mode")
    if topology not in si.TOPOLOGIES:
        raise typer.BadParameter(f"must be one of {si.TOPOLOGIES}", param_hint="--topology")
    if protocol not in COMPARISONS:
        raise typer.BadParameter(f"must be one of {tuple(COMPARISONS)}", param_hint="--protocol")
    from fibench.mpc.context import SHARINGS

    if sharing not in SHARINGS:
        raise typer.BadParameter(f"must be one of {SHARINGS}", param_hint="--sharing")
    try:
        infer.parse_alpha(alpha)
    except ValueError:
        raise typer.BadParameter("must be a number > 0 or 'iid'", param_hint="--alpha") from None
    col = label_column
    if col is not None and col.lstrip("-").isdigit():
        col = int(col)
    try:
        plan = infer.plan_infer(trainer=trainer, mode=mode, topology=topology, owners=owners, alpha=alpha, model=model,
                                rule=rule,
                                protocol=protocol, servers=servers, dataset=dataset, queries=queries,
                                batch_size=batch_size, seed=seed, label_column=col, standardize=standardize,
                                sharing=sharing)
        result = infer.run_infer(plan, progress=wanted(progress))
    except ValueError as e:
        _err(str(e))
        raise typer.Exit(2)
    for note in result.notes:
        _err(f"warning: {note}")
    rep = result.report
    typer.echo(f"{mode}/{topology} K={owners} alpha={alpha} model={model} rule={rule} protocol={protocol} "
               f"parties={rep.parties} queries={rep.queries} dataset={dataset} sharing={rep.sharing}")
    typer.echo(f"accuracy (secure)      {result.accuracy:.4f}")
    typer.echo(f"agreement w/ plaintext {rep.agreement:.4f}")
    typer.echo(f"online bytes / party   {rep.online_bytes_sent_per_party:,} sent, {rep.online_bytes_recv_per_party:,} received")
    typer.echo(f"online rounds          {rep.online_rounds}")
    typer.echo(f"offline bytes / party  {rep.offline_bytes_per_party:,}")
    typer.echo(f"time (local backend)   {rep.time_s:.3f} s (online {rep.online_s:.3f} s, dealer {rep.dealer_s:.3f} s)")
    typer.echo(f"estimated online time of the {rep.queries} queries ({plan.batch_size} per batch) per network profile "
               "(compute = this run's measured online time, all parties in one process, first-call overhead "
               "included):")
    for e in result.estimates:
        typer.echo(f"  {e['profile']:<8} {fmt_seconds(e['est_time_s']):>9}  ({fmt_seconds(e['per_query_s'])} per query; "
                   f"compute {fmt_seconds(e['compute_s'])}, latency {fmt_seconds(e['latency_s'])}, "
                   f"transfer {fmt_seconds(e['transfer_s'])})")


@app.command("regress")
def regress_cmd(
    update: Annotated[bool, typer.Option("--update", help="Rewrite results/baseline after an intended change.")] = False,
    spread: Annotated[int, typer.Option("--spread", min=1, max=100,
                                        help="Runs used by --update to measure the speed-ratio spread.")] = 10,
    progress: Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="Progress bars on stderr (only on a terminal, not in CI).")] = True,
):
    """Performance-regression gate: exact counters and in-run speed ratios vs results/baseline."""
    from fibench.bench import regress

    args = ["--update", "--spread", str(spread)] if update else ["--check"]
    code = regress.main(args + ([] if progress else ["--no-progress"]))
    raise typer.Exit(code)


def main() -> None:  # console script entry point
    from fibench.kernels.threads import passive_wait
    from fibench.mpc.memory import reuse_freed_memory

    passive_wait()
    reuse_freed_memory()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
