"""nox sessions: tests, bench, regress, plots, lint. Each installs fibench in its own venv."""
import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session):
    session.install("-e", ".[test,mpi]")
    session.run("pytest", "-q", *session.posargs)


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


@nox.session
def plots(session):
    session.install("-e", ".[mpi]")
    session.run("fibench", "run", "all", "--preset", "quick", "--out", "results/quick")


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "fibench", "kernels", "suites", "tests", "noxfile.py")
