"""Run directories, atomic writes and run metadata.

A run lives in ``results/<suite>/<run-id>/``::

    meta.json        git commit, package versions, CPU, seeds, full resolved config, start/end,
                     status, JIT compile times reported by the measure function
    points/          one small CSV per finished task (grid point x repetition), written
                     atomically as soon as the task finishes: a run killed even with SIGKILL
                     loses no finished task, and ``--resume`` skips what is there
    results.csv      tidy table (one row per grid point and repetition), rebuilt from points/
    results.parquet  the same table with its column types (pyarrow)
    README.md        what the files and every column mean, with units (``fibench explain RUN``)
    figures/         PNG and SVG plots

Every file is written to a temporary file in the same directory, flushed and fsync'ed, then
moved into place with ``os.replace`` (atomic on POSIX): a reader sees the old or the new file,
never a torn one. Files get mode 0666 and directories 0777 less the umask (0644/0755 under
the usual 022), so that others can read a run as they read any other output.

Columns that hold integers in every task's rows stay integers in results.csv and
results.parquet (pandas' nullable ``Int64`` where some rows lack the column), rather than
becoming floats (``5.0``) when another task's rows have no value there.
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
import platform
import secrets
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is read or built (the mpi ranks need none)
    import pandas as pd

POINTS_DIR = "points"
FIGURES_DIR = "figures"
META = "meta.json"
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
RUN_README = "README.md"

#: a row column in which a measure function may report JIT compile time (seconds)
JIT_KEY = "jit_compile_s"

PACKAGES = ("fibench", "numpy", "numba", "scipy", "pandas", "scikit-learn", "matplotlib",
            "cryptography", "typer", "tqdm", "mpi4py", "pyarrow")


# -- atomic writes ------------------------------------------------------------------------------

class DamagedRun(ValueError):
    """A run directory's file that cannot be read (message names the file and what is wrong)."""


def _umask() -> int:
    """The process umask (read without changing it where /proc tells it)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _tmp_name_prefix(name: str) -> str:
    return f".{name}."


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_name_prefix(path.name), suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; outputs honour the umask
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_default(obj):
    """``json.dumps(..., default=json_default)``: numpy scalars and arrays, sets, tuples and
    paths as JSON values; anything else as its ``repr``."""
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    return repr(obj)


def _clean(obj):
    """JSON has no inf/nan: write them as ``{"__float__": "inf"}`` (``read_json`` restores them)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": str(obj)}
    if type(obj).__module__ == "numpy" and hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return _clean(obj.item())
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def atomic_write_json(path, obj, *, indent: int = 2, sort_keys: bool = False) -> Path:
    text = json.dumps(_clean(obj), indent=indent, sort_keys=sort_keys, default=json_default, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def _restore(d: dict):
    if len(d) == 1 and "__float__" in d:
        return float(d["__float__"])
    return d


def read_json(path):
    """Read JSON written by ``atomic_write_json`` (non-finite floats restored)."""
    with open(path) as fh:
        return json.load(fh, object_hook=_restore)


def overwrite_in_place(path, text: str) -> None:
    """Last resort when an atomic write fails (disk full: no room for a second copy): rewrite
    the existing file in place, which needs no new blocks when the text is not longer."""
    with open(path, "r+b") as fh:
        fh.write(text.encode("utf-8"))
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def clean_stale_tmp(directory, names=None) -> list[Path]:
    """Remove hidden ``.NAME.XXXX.tmp`` files an interrupted atomic write left in ``directory``
    (only those of ``names`` when given). Returns what was removed."""
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for f in directory.glob(".*.tmp"):
        if names is not None and not any(f.name.startswith(_tmp_name_prefix(n)) for n in names):
            continue
        try:
            f.unlink()
            removed.append(f)
        except FileNotFoundError:
            pass
    return removed


def atomic_write_csv(path, df: pd.DataFrame) -> Path:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return atomic_write_text(path, buf.getvalue())


def have_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _parquet_ready(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every object column that mixes types (alpha: ``0.05`` and ``"iid"``) as
    text, which parquet needs (one type per column); missing values stay missing."""
    out = df
    for c in df.columns:
        if df[c].dtype != object:
            continue
        vals = df[c].dropna()
        if vals.map(type).nunique() > 1:
            if out is df:
                out = df.copy()
            out[c] = df[c].map(lambda v: v if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return out


def atomic_write_parquet(path, df: pd.DataFrame) -> Path:
    """``df`` as parquet (pyarrow, a dependency of fibench), atomically."""
    if not have_pyarrow():
        raise ImportError("writing results.parquet needs pyarrow (a dependency of fibench): pip install pyarrow")
    buf = io.BytesIO()
    _parquet_ready(df).to_parquet(buf, index=False, engine="pyarrow")
    return atomic_write_bytes(path, buf.getvalue())


def integer_columns(frames) -> set[str]:
    """Columns that hold integers in every frame that has a value in them (a frame whose column
    is all missing says nothing) and in at least one."""
    import pandas as pd

    seen, bad = set(), set()
    for f in frames:
        for c in f.columns:
            s = f[c]
            if pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s):
                seen.add(c)
            elif s.notna().any():
                bad.add(c)
    return seen - bad


def keep_integers(df: pd.DataFrame, columns) -> pd.DataFrame:
    """``df`` with ``columns`` as int64 (no missing value) or nullable ``Int64``."""
    import pandas as pd

    for c in columns:
        if c in df.columns and not pd.api.types.is_integer_dtype(df[c]):
            df[c] = df[c].astype("Int64" if df[c].isna().any() else "int64")
    return df


# -- metadata -------------------------------------------------------------------------------------

def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-xxxx``: sortable by start time, unique with a random suffix."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def git_info(cwd=None) -> dict:
    cwd = cwd or Path(__file__).resolve().parent.parent

    def git(*args):
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None, "branch": git("rev-parse", "--abbrev-ref", "HEAD")}


def package_versions(names=PACKAGES) -> dict:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def cpu_info() -> dict:
    model = None
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {
        "model": model or platform.processor() or platform.machine(),
        "count": os.cpu_count(),
        "usable": usable,
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "numba_threads": _numba_threads(),
    }


def _numba_threads():
    try:
        import numba

        return numba.config.NUMBA_NUM_THREADS
    except Exception:  # pragma: no cover - numba is a hard dependency
        return None


def environment() -> dict:
    return {"git": git_info(), "packages": package_versions(), "cpu": cpu_info(), "host": platform.node()}


# -- run directories --------------------------------------------------------------------------

class RunDir:
    """One run's directory. ``task_id`` strings name finished tasks (grid point x repetition)."""

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def points(self) -> Path:
        return self.path / POINTS_DIR

    @property
    def figures(self) -> Path:
        return self.path / FIGURES_DIR

    @property
    def meta_path(self) -> Path:
        return self.path / META

    @property
    def csv_path(self) -> Path:
        return self.path / RESULTS_CSV

    def create(self) -> "RunDir":
        self.points.mkdir(parents=True, exist_ok=True)
        self.figures.mkdir(parents=True, exist_ok=True)
        return self

    def clean_tmp(self) -> list[Path]:
        """Temporary files of writes that a kill interrupted (one writer per run: the runner
        calls this when it opens the run)."""
        removed = clean_stale_tmp(self.path)
        for d in (self.points, self.figures):
            removed += clean_stale_tmp(d)
        return removed

    def exists(self) -> bool:
        return self.meta_path.is_file()

    # meta
    def read_meta(self) -> dict:
        """The run's meta.json; ``DamagedRun`` naming the file when it is empty, truncated, not
        JSON or not an object; ``FileNotFoundError`` when there is none."""
        try:
            meta = read_json(self.meta_path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.path} is not a fibench run directory (no {META})") from None
        except IsADirectoryError:
            raise DamagedRun(f"{self.meta_path} is a directory, not a file") from None
        except UnicodeDecodeError:
            raise DamagedRun(f"{self.meta_path} is not a text file (damaged run directory)") from None
        except json.JSONDecodeError as exc:
            what = "empty" if exc.doc.strip() == "" else f"not valid JSON ({exc.msg} at line {exc.lineno})"
            raise DamagedRun(f"{self.meta_path} is {what} (damaged run directory)") from None
        if not isinstance(meta, dict):
            raise DamagedRun(f"{self.meta_path} must hold a JSON object, got {type(meta).__name__} "
                             "(damaged run directory)")
        return meta

    def write_meta(self, meta: dict) -> None:
        atomic_write_json(self.meta_path, meta)

    def write_meta_final(self, meta: dict) -> None:
        """The last write of a run: atomic, else in place (disk full), so that meta.json never
        keeps saying ``running`` after the run ended; raises only when both fail."""
        try:
            self.write_meta(meta)
        except OSError:
            text = json.dumps(_clean(meta), indent=2, default=json_default, allow_nan=False) + "\n"
            overwrite_in_place(self.meta_path, text)

    # per-task completion
    def point_path(self, task_id: str) -> Path:
        return self.points / f"{task_id}.csv"

    def write_point(self, task_id: str, rows: list[dict]) -> Path:
        import pandas as pd

        df = pd.DataFrame(rows)
        return atomic_write_csv(self.point_path(task_id), df)

    def finished(self) -> set[str]:
        if not self.points.is_dir():
            return set()
        return {p.stem for p in self.points.glob("*.csv") if not p.name.startswith(".")}

    def load_points(self, order: list[str] | None = None) -> pd.DataFrame:
        """All finished tasks' rows, in ``order`` of task ids (others after, sorted)."""
        import pandas as pd

        done = self.finished()
        ids = [t for t in (order or []) if t in done]
        ids += sorted(done - set(ids))
        frames = []
        for t in ids:
            df = self._read_point(t)
            if df is not None:
                frames.append(df)
        if not frames:
            return pd.DataFrame()
        return keep_integers(pd.concat(frames, ignore_index=True, sort=False), integer_columns(frames))

    def _read_point(self, task_id: str):
        import pandas as pd

        path = self.point_path(task_id)
        try:
            return pd.read_csv(path)
        except pd.errors.EmptyDataError:
            return None  # a task that returned no rows
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise DamagedRun(f"{path} is not a readable CSV ({type(exc).__name__}); delete it and "
                             f"resume the run to measure that task again") from None

    def check_points(self) -> None:
        """``DamagedRun`` naming the first per-task file that cannot be read."""
        for t in sorted(self.finished()):
            self._read_point(t)

    @property
    def parquet_path(self) -> Path:
        return self.path / RESULTS_PARQUET

    def write_results(self, df: pd.DataFrame) -> list[Path]:
        """results.csv and results.parquet (the same table, its column types kept)."""
        written = [atomic_write_csv(self.csv_path, df)]
        if len(df.columns):
            written.append(atomic_write_parquet(self.parquet_path, df))
        elif self.parquet_path.exists():  # no rows yet: no stale table beside the empty CSV
            self.parquet_path.unlink()
        return written

    def load_results(self) -> pd.DataFrame:
        import pandas as pd

        if self.csv_path.is_file():
            try:
                return pd.read_csv(self.csv_path)
            except pd.errors.EmptyDataError:
                return pd.DataFrame()
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                raise DamagedRun(f"{self.csv_path} is not a readable CSV ({type(exc).__name__}); "
                                 f"rebuild it from {POINTS_DIR}/ with fibench run --resume {self.path}") from None
            except IsADirectoryError:
                raise DamagedRun(f"{self.csv_path} is a directory, not a file") from None
        return self.load_points()


def load_run(path) -> tuple[dict, pd.DataFrame]:
    """``(meta, results)`` of a run directory."""
    run = RunDir(path)
    return run.read_meta(), run.load_results()
