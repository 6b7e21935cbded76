"""nox sessions: tests, nojit, bench, regress, figures, lint. Each installs fibench in its own venv."""
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


@nox.session
def figures(session):
    """Every suite's quick preset with its figures (the README's main job)."""
    session.install("-e", ".[mpi]")
    session.run("fibench", "run", "all", "--preset", "quick", "--out", "results/quick")


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "fibench", "kernels", "suites", "tests", "noxfile.py")
