"""What a run directory holds and what each column of its table means, with units.

``explain(run_dir)`` returns markdown: the files (``points/``, ``meta.json``, ``results.csv``,
``results.parquet``, ``figures/``), the meta.json keys, then one line per column of the run's
table — a grid key (with its allowed values from the suite's ``KEYS``), a measured value (from
:data:`COLUMNS`: meaning and unit), or "(not documented)" for a column no one described (a
test keeps the built-in suites at zero of those). The runner writes the same text as
``README.md`` into every run; ``fibench explain RUN`` prints it.
"""
from __future__ import annotations

from pathlib import Path

from fibench.bench import results as res

FILES = f"""\
| file | what it is |
|---|---|
| `{res.POINTS_DIR}/` | one small CSV per finished task (grid point x repetition), written as soon as the task ends; `fibench run --resume` skips what is there, and `results.csv` is rebuilt from it |
| `{res.META}` | the run's record: suite, preset, the full resolved config, seeds, status (`running`, `complete`, `failed`, `interrupted`), start/end times, git commit, package versions, CPU, host, the command line, the history of starts and resumes, JIT compile times |
| `{res.RESULTS_CSV}` | the tidy table: one row per grid point and repetition (some suites: several rows per task, e.g. one per network profile or reward scheme); integer columns stay integers (empty = no value) |
| `{res.RESULTS_PARQUET}` | the same table as parquet (`pandas.read_parquet`), with its column types |
| `{res.FIGURES_DIR}/` | the suite's figures, PNG and SVG (`fibench plot RUN` redraws them) |
| `{res.RUN_README}` | this text (`fibench explain RUN` prints it) |

All files are written atomically (a reader never sees a torn file) with mode 0666 less the
umask (directories 0777 less the umask): 0644/0755 under the usual umask 022.
"""

META_KEYS = {
    "suite": "suite name", "description": "the suite's one-line description",
    "suite_source": "the suite's .py file", "measure": "the measure function (module:function)",
    "run_id": "the run's id (start time + random suffix)",
    "config": "preset, the resolved grids, repeats, seed, list-valued keys passed whole, the --set overrides",
    "seeds": "seeds of the grid points",
    "status": "running, complete, failed or interrupted", "started": "start time (ISO 8601)",
    "ended": "end time (ISO 8601)", "n_points": "grid points", "repeats": "repetitions per point",
    "n_tasks": "points x repetitions", "n_done": "tasks stored", "argv": "the command that started the run",
    "environment": "git commit/branch/dirty, package versions, CPU model/count/numba threads, host",
    "history": "one entry (event, time, argv, commit) per start and resume",
    "jit_compile": "numba compile time reported by the measure (total_s, max_s [s]), excluded from timings",
    "error": "why the run stopped (null when complete)",
}

#: columns every run has (added by the runner)
RUNNER = {
    "rep": "repetition index (0-based) of the grid point",
    "point": "grid point index (0-based, in grid order)",
    "task_wall_s": "wall time of the whole task (measure call, warm-up and JIT included) [s]",
    "seed": "seed of data splits, partitions and synthetic inputs (never of masks) [integer]",
}

#: measured columns, by meaning; one glossary for every built-in suite (names agree across suites)
COLUMNS = {
    # time
    "time_s": "median wall time of one call over the repetitions inside the task [s]",
    "time_min_s": "fastest of those calls [s]", "time_max_s": "slowest of those calls [s]",
    "warmup_s": "first (warm-up) call, not in the median [s]",
    "jit_compile_s": "numba compile time of the first call, reported apart [s]",
    "dealer_s": "time of the dealer (offline correlations) inside a call [s]",
    "online_s": "online part of a call (wall minus dealer) [s]",
    "wall_s": "wall time of the measured run (latency: the local-backend run; crosscheck: the whole mpiexec launch) [s]",
    "train_s": "time to train the owners' local models [s]",
    "numpy_time_s": "median time of the numpy reference on the same data, same run [s]",
    "throughput": "work per second of the kernel (elements; ring_matmul: multiply-adds; shapley: coalitions) [1/s]",
    "ratio_vs_numpy": "numpy time / kernel time on the same data (> 1: the kernel is faster) [x]",
    # counts
    "online_bytes_sent_per_party": "online bytes sent by the busiest party [B]",
    "online_bytes_recv_per_party": "online bytes received by the busiest party [B]",
    "online_messages_per_party": "online messages sent by the busiest party [count]",
    "online_rounds": "online communication rounds on the critical path [count]",
    "online_rounds_engine": "rounds as the engine counted them, before the schedule (parallel/sequential) [count]",
    "online_bytes_total": "online bytes sent by all parties together [B]",
    "online_bytes_per_party": "online bytes sent per party (the busiest) [B]",
    "offline_bytes_per_party": "offline (dealer) bytes received per party [B]",
    "offline_rounds": "offline rounds (dealer to parties) [count]",
    "online_bytes_per_element": "online bytes sent per party per input element [B]",
    "offline_bytes_per_element": "offline bytes per party per input element [B]",
    "loopback_bytes": "bytes through the loopback interface during the launch (TCP transport) [B]",
    "layers": "layers of that kind in the model [count]",
    "layer": "layer kind (share, dense, conv, relu, maxpool, avgpool, argmax); empty: a whole op",
    "bytes_share": "share of the inference's online bytes spent in this layer kind [fraction]",
    "rounds_share": "share of the inference's online rounds spent in this layer kind [fraction]",
    "total_online_bytes_per_party": "online bytes per party of the whole inference [B]",
    "total_online_rounds": "online rounds of the whole inference [count]",
    # network model
    "network": "network profile the row is priced under (fibench list shows them)",
    "compute_s": "measured compute time (the slowest party's, no network delay) [s]",
    "latency_s": "round latency: sum over rounds of the largest RTT of the round's links [s]",
    "transfer_s": "transfer: sum over rounds of the largest bytes/bandwidth of the round's links [s]",
    "est_time_s": "estimated end-to-end online time = compute_s + latency_s + transfer_s [s]",
    "latency_share": "latency_s / est_time_s [fraction]",
    "offline_est_s": "estimated time to ship the offline (dealer) material under the profile [s]",
    "compute_per_party_s": "compute time of one party (compute_s / parties in the local backend) [s]",
    "measured_s": "median wall time on the mpi backend with the profile's delays injected [s]",
    "measured_min_s": "fastest call with delays injected [s]", "measured_max_s": "slowest call with delays injected [s]",
    "measured_online_s": "online part of the delayed calls [s]",
    "injected_s": "delay injected per call (sum of the emulated round latencies) [s]",
    "est_error": "est_time_s / measured_s - 1 (model error; + = the model overestimates) [fraction]",
    "est_rtt_time_s": "the model's estimate with one full RTT per round (its default) [s]",
    "est_rtt_error": "est_rtt_time_s / measured_s - 1 [fraction]",
    # backend cross-check
    "backend": "local (one process) or mpi (one rank per party)",
    "argmax_method": "argmax circuit: tree (tournament) or pairs (all pairs in one round); - for other ops",
    "counts_match_local": "bytes, messages and rounds equal the local backend's [bool]",
    "local_time_s": "the same op on the local backend, same launch [s]",
    "local_online_s": "its online part [s]", "ratio_to_local": "time_s / local_time_s [x]",
    "online_ratio_to_local": "online_s / local_online_s [x]",
    "local_dealer_s": "its dealer part [s]", "dealer_ratio_to_local": "dealer_s / local_dealer_s [x]",
    "correct": "the revealed result equals the plaintext one [fraction of elements]",
    "threads": "numba threads used",
    # latency rows
    "label": "short name of the computation (workload, model, K, topology, protocol)",
    "model_family": "lr, mlp or cnn", "model_params": "parameters of one owner's model [count]",
    "n_parties": "compute parties of the run [count]",
    "agree": "secure labels equal to the plaintext labels [fraction]",
    # accuracy rows
    "rule": "aggregation rule (soft_vote, logit_sum, hard_vote, weighted_vote) or reward rule",
    "accuracy": "ensemble accuracy on the test set [fraction]", "macro_f1": "ensemble macro-F1 [fraction]",
    "gain_over_best": "ensemble accuracy - best single owner's [accuracy]",
    "gain_over_mean": "ensemble accuracy - mean single owner's [accuracy]",
    "best_owner_accuracy": "best owner alone [fraction]", "mean_owner_accuracy": "mean owner alone [fraction]",
    "min_owner_accuracy": "worst owner alone [fraction]",
    "centralized_accuracy": "one model trained on the union of the owners' data (upper bound) [fraction]",
    "gap_to_centralized": "centralized_accuracy - accuracy [accuracy]",
    "classes_per_owner": "mean number of distinct classes an owner holds (measured) [count]",
    "shards_per_owner": "label-sorted shards dealt to each owner by partition=shards [count]",
    "num_classes_per_partition": "exact number of classes of each owner under partition=pathological [count]",
    "self_balancing": "Flower's self-balancing Dirichlet partition: owners above n/K samples take no further class",
    "tv_to_global": "mean total-variation distance of an owner's label distribution to the global one [0..1]",
    "n_train": "training samples (all owners) [count]", "n_test": "test samples [count]",
    "hidden": "hidden units of a one-hidden-layer mlp (0: no hidden layer)",
    # incentives rows
    "scheme": "reward scheme (shapley, mc_shapley, banzhaf, loo; label-free: agreement, pseudo_shapley, "
              "confidence, peer_ca, equal)",
    "kind": "merit (needs labels) or label_free", "players": "owners plus the adversary, if any [count]",
    "reference": "the merit reference the scheme is scored against (exact or Monte-Carlo Shapley)",
    "spearman": "Spearman rank correlation of the scheme's rewards with the reference [-1..1]",
    "kendall": "Kendall rank correlation with the reference [-1..1]",
    "l1": "L1 distance of the reward shares to the reference's [0..2]",
    "topk": "overlap of the top-k owners with the reference's [fraction]",
    "adversary_share": "reward share the adversarial owner gets [fraction]",
    "ensemble_acc": "accuracy of the full ensemble [fraction]",
    "ref_cv": "coefficient of variation of the reference rewards [ratio]",
    "n_perms": "Monte-Carlo permutations (mc_shapley) [count]",
    "shares": "reward share of every player, ';'-separated, adversary last [fractions]",
}


def _grid_lines(suite) -> dict:
    if suite is None:
        return {}
    from fibench.bench.keys import key_lines

    out = {}
    for line in key_lines(suite):
        k, _, allowed = line.partition(": ")
        out[k] = allowed
    return out


def column_doc(name: str, grid: dict) -> str:
    """One column's meaning: a grid key (its allowed values), a runner or measured column."""
    if name in RUNNER:
        return RUNNER[name]
    if name in grid:
        return f"grid key ({grid[name]})"
    if name in COLUMNS:
        return COLUMNS[name]
    return "(not documented)"


def undocumented(columns, suite=None) -> list[str]:
    """Columns neither a grid key of ``suite`` nor in the glossary."""
    grid = _grid_lines(suite)
    return [c for c in columns if column_doc(c, grid) == "(not documented)"]


def explain(run_dir, suite=None) -> str:
    """Markdown: what the run's files, meta.json keys and every column of its table mean."""
    run = res.RunDir(run_dir)
    meta = run.read_meta()
    if suite is None:
        from fibench.bench.suite import SuiteError, load_suite, suite_spec_of_run

        try:
            suite = load_suite(suite_spec_of_run(meta))
        except (SuiteError, TypeError):
            suite = None
    if run.parquet_path.is_file():  # its column types are the table's (a CSV reads Int64 back as float)
        import pandas as pd

        df = pd.read_parquet(run.parquet_path)
    else:
        df = run.load_results()
    return explain_text(meta, df, suite)


def type_name(dtype) -> str:
    """A column's type in words: integer, integer or empty, real, bool, text."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer or empty" if isinstance(dtype, pd.api.extensions.ExtensionDtype) else "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "real"
    return "text"


def explain_text(meta: dict, df, suite=None) -> str:
    """The markdown of :func:`explain` for ``meta`` and the table ``df``."""
    grid = _grid_lines(suite)
    columns, dtypes = list(df.columns), [type_name(df[c].dtype) for c in df.columns]
    name = meta.get("suite", "?")
    lines = [f"# fibench run: {name}", "",
             f"Suite `{name}`, preset `{(meta.get('config') or {}).get('preset')}` (its status and progress: "
             f"`status`, `n_done` in meta.json). Read the table with "
             f"`pandas.read_parquet(\"{res.RESULTS_PARQUET}\")` or `pandas.read_csv(\"{res.RESULTS_CSV}\")`.", "",
             "## Files", "", FILES, "## meta.json", ""]
    lines += [f"- `{k}`: {v}" for k, v in META_KEYS.items()]
    lines += ["", f"## Columns of {res.RESULTS_CSV} ({len(columns)})", "",
              "| column | type | meaning [unit] |", "|---|---|---|"]
    for c, t in zip(columns, dtypes):
        lines.append(f"| `{c}` | {t} | {column_doc(c, grid)} |")
    return "\n".join(lines) + "\n"


def write_run_readme(run_dir, suite=None) -> Path:
    """``README.md`` in the run directory (the runner calls this when a run ends)."""
    return res.atomic_write_text(Path(run_dir) / res.RUN_README, explain(run_dir, suite))
