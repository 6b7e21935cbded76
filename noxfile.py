"""nox sessions: tests, nojit, bench, regress, figures, lint. Each installs fibench in its own venv
(``nox --no-venv -s NAME`` runs one in the current environment instead)."""
import shutil
import sys
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session):
    session.install("-e", ".[test,mpi]")
    session.run("pytest", "-q", *session.posargs)


#: the kernel and protocol tests (what ``nojit`` runs as plain Python)
KERNEL_AND_PROTOCOL_TESTS = ["tests/test_ring_fixedpoint.py", "tests/test_arith_protocols.py",
                             "tests/test_compare_argmax.py", "tests/test_prg_sharing.py", "tests/test_fss_gates.py",
                             "tests/test_dcf_vector.py", "tests/test_shapley.py"]


@nox.session
def nojit(session):
    """The kernel and protocol tests with numba's JIT off (NUMBA_DISABLE_JIT=1): the kernels run as
    plain Python, so coverage tools and debuggers see them, and a typing-only bug cannot hide."""
    session.install("-e", ".[test,mpi]")
    session.run("pytest", "-q", *(session.posargs or KERNEL_AND_PROTOCOL_TESTS), env={"NUMBA_DISABLE_JIT": "1"})


@nox.session
def bench(session):
    """Micro benchmarks with pytest-benchmark (median, ratio to numpy in extra_info)."""
    session.install("-e", ".[test,mpi]")
    session.run("pytest", "tests/bench_kernels.py", *(f for f in ["tests/bench_fss.py", "tests/bench_shapley.py"]),
                "--benchmark-enable", "--benchmark-columns=median,iqr,rounds",
                "--benchmark-sort=name", "--benchmark-autosave", *session.posargs)


@nox.session
def regress(session):
    """The CI performance-regression gate (exact counters + in-run speed ratios)."""
    session.install("-e", ".[test,mpi]")
    session.run("python", "-m", "fibench.bench.regress", "--check", *session.posargs)


#: the README's figures: (run, figure stem in it, file in docs/figures/). "quick/SUITE" is that
#: suite's folder of `fibench run all --preset quick`; the other runs are EXTRA_RUNS (the commands
#: the README's captions name)
README_FIGURES = [
    ("quick/latency", "latency_vs_owners_m2", "latency_vs_owners_m2.png"),
    ("quick/latency", "latency_vs_complexity", "latency_vs_complexity.png"),
    ("quick/latency", "protocol_crossover", "protocol_crossover.png"),
    ("quick/accuracy", "gain_vs_alpha_lr", "gain_vs_alpha_lr.png"),
    ("quick/communication", "communication_bytes_rounds", "communication_bytes_rounds.png"),
    ("quick/communication", "communication_per_layer_parties-2", "communication_per_layer.png"),
    ("quick/incentives", "incentives_rank_vs_alpha", "incentives_rank_vs_alpha.png"),
    ("quick/crosscheck", "crosscheck_model_vs_measured", "crosscheck_model_vs_measured.png"),
    ("privacy-synthetic", "accuracy_vs_epsilon", "privacy_accuracy_vs_epsilon.png"),
    ("privacy-synthetic", "queries_vs_budget", "privacy_queries_vs_budget.png"),
    ("privacy-incentives", "incentives_vs_sigma_owners-50", "privacy_incentives_vs_sigma.png"),
]
#: runs besides the quick main job: name -> `fibench run` arguments
EXTRA_RUNS = {
    "privacy-synthetic": ["privacy", "--preset", "paper", "--set", "dataset=synthetic", "--set", "seed=0"],
    "privacy-incentives": ["privacy", "--preset", "quick", "--set", "part=incentives", "--set", "owners=10,50,250",
                           "--set", "seed=0,1,2,3,4"],
}
FIGURES_RUN = Path("results") / "readme-figures"


def _passthrough(session) -> bool:
    return isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv)


@nox.session
def figures(session):
    """Every suite's quick preset with its figures (the README's main job, into
    results/readme-figures/quick/), the runs of EXTRA_RUNS, then the README's figures copied into
    docs/figures/ (README_FIGURES)."""
    if _passthrough(session):
        py = sys.executable
    else:
        session.install("-e", ".[mpi]")
        py = "python"
    if FIGURES_RUN.exists():
        shutil.rmtree(FIGURES_RUN)  # fresh runs: figures from one grid and one commit
    session.run(py, "-m", "fibench.cli", "run", "all", "--preset", "quick", "--out", str(FIGURES_RUN / "quick"),
                "--no-progress", external=True)
    for name, args in EXTRA_RUNS.items():  # about 15 min more on 2 cores
        session.run(py, "-m", "fibench.cli", "run", *args, "--out", str(FIGURES_RUN / name), "--no-progress",
                    external=True)
    for run, stem, dest in README_FIGURES:
        src = FIGURES_RUN / run / "figures" / f"{stem}.png"
        shutil.copyfile(src, Path("docs") / "figures" / dest)
        session.log(f"docs/figures/{dest} <- {src}")


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "fibench", "kernels", "suites", "tests", "noxfile.py")
