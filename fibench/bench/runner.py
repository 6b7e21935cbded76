"""Suite runner: discover suites, resolve presets and ``--set`` overrides, expand grids, call
the suite's measure function once per (grid point, repetition), store every finished task at
once (so that an interrupted run resumes where it stopped) and show a progress bar.

A suite is a module (``suites/<name>.py``, installed as ``fibench.suites.<name>``; or any
``.py`` file given by path) with::

    NAME = "latency"; DESCRIPTION = "..."
    MEASURE = "fibench.bench.measures.latency:run_point"     # or a callable: params -> list[dict]
    PRESETS = {"quick": GRID, "paper": GRID}        # GRID: {key: [values]} or a list of such
    REPEATS = {"quick": 1, "paper": 3}              # optional (default 1)
    NO_EXPAND = ("networks",)                       # optional: list-valued keys passed whole
    VALID = lambda point: True                      # optional: drop grid points it rejects

A GRID that is a *list* of dicts is the union of the sub-grids (each expanded on its own):
the way to write constrained grids (e.g. ``fss`` only with 2 parties). ``--set key=value``
replaces the key's values in every sub-grid that has the key; for a *categorical* (string)
value it first selects: sub-grids that have the key but none of the given values are dropped
(``--set workload=m1`` keeps only the m1 sub-grids), unless no sub-grid has any of them. Scalar values count as
one-element lists. The measure function gets one point: every grid key with a scalar value
(NO_EXPAND keys with their list), plus ``seed`` (the grid's ``seed`` if it has one, else the
run's base seed, default 0) and ``rep`` (0..repeats-1). Its rows are stored with the point's
scalar keys, ``rep``, ``point`` (index of the grid point) and ``task_wall_s`` prepended.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import itertools
import json
import math
import pkgutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

import pandas as pd

from fibench.bench import results as res

#: suites in the order ``fibench run all`` runs them (others follow alphabetically)
SUITE_ORDER = ("kernels", "communication", "latency", "accuracy", "incentives", "crosscheck")
#: keys accepted by ``--set`` in addition to the grid's keys
SPECIAL_KEYS = ("seed", "repeats")
DEFAULT_SEED = 0


class SuiteError(ValueError):
    """A suite, preset or override that cannot be used (message is meant for the user);
    ``param`` names the command-line parameter at fault (``SUITE``, ``--preset``, ``--set``...)."""

    def __init__(self, message: str, param: str = "SUITE"):
        super().__init__(message)
        self.param = param


# -- discovery ------------------------------------------------------------------------------

def _check_suite(mod: ModuleType, origin: str) -> ModuleType:
    missing = [a for a in ("NAME", "PRESETS", "MEASURE") if not hasattr(mod, a)]
    if missing:
        raise SuiteError(f"suite {origin} lacks {', '.join(missing)}")
    if not isinstance(mod.PRESETS, dict) or not mod.PRESETS:
        raise SuiteError(f"suite {origin}: PRESETS must be a non-empty dict preset -> grid")
    return mod


def discover_suites(errors: dict | None = None) -> dict[str, ModuleType]:
    """Every suite module in ``fibench.suites`` by NAME, in run order.

    Modules that fail to import, or lack NAME/PRESETS/MEASURE, are left out; their error
    messages go into ``errors`` (module name -> message) when a dict is given.
    """
    import fibench.suites as pkg

    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        modname = f"{pkg.__name__}.{info.name}"
        try:
            mod = _check_suite(importlib.import_module(modname), modname)
        except Exception as exc:  # a broken suite must not break `fibench list`
            if errors is not None:
                errors[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        found[mod.NAME] = mod
    order = {n: i for i, n in enumerate(SUITE_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def load_suite_file(path) -> ModuleType:
    path = Path(path).resolve()
    if not path.is_file():
        raise SuiteError(f"suite file not found: {path}")
    modname = f"_fibench_user_suite_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:
        del sys.modules[modname]
        raise SuiteError(f"cannot import suite file {path}: {type(exc).__name__}: {exc}") from exc
    mod.__fibench_source__ = str(path)
    return _check_suite(mod, str(path))


def load_suite(spec) -> ModuleType:
    """A suite by NAME, by a ``.py`` path, by dotted module name, or a module object as is."""
    if isinstance(spec, ModuleType):
        return _check_suite(spec, spec.__name__)
    spec = str(spec)
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        return load_suite_file(spec)
    errors: dict = {}
    suites = discover_suites(errors)
    if spec in suites:
        return suites[spec]
    if spec in errors:
        raise SuiteError(f"suite {spec!r} cannot be loaded: {errors[spec]}")
    if "." in spec:
        try:
            return _check_suite(importlib.import_module(spec), spec)
        except ImportError:
            pass
    raise SuiteError(f"unknown suite {spec!r}; choose from {', '.join(suites) or '(none found)'}, "
                     "'all', or a path to a suite .py file")


def resolve_measure(measure) -> Callable:
    if callable(measure):
        return measure
    if not isinstance(measure, str) or ":" not in measure:
        raise SuiteError(f"MEASURE must be a callable or 'module:function', got {measure!r}")
    modname, fname = measure.split(":", 1)
    try:
        mod = importlib.import_module(modname)
    except ImportError as exc:
        raise SuiteError(f"measure module {modname!r} cannot be imported: {exc}") from exc
    fn = getattr(mod, fname, None)
    if not callable(fn):
        raise SuiteError(f"measure function {measure!r} not found")
    return fn


def measure_available(suite: ModuleType) -> str | None:
    """``None`` if the suite's measure function can be loaded, else the reason."""
    try:
        resolve_measure(suite.MEASURE)
    except SuiteError as exc:
        return str(exc)
    return None


# -- values and overrides ----------------------------------------------------------------------

def _parse_scalar(text: str):
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    low = t.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    if low in ("inf", "+inf", "infinity", "+infinity"):
        return math.inf
    if low in ("-inf", "-infinity"):
        return -math.inf
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        pass
    return t


def parse_value(text: str):
    """JSON-ish: ``5`` -> 5, ``0.1`` -> 0.1, ``2,5`` -> [2, 5], ``[1, 2]`` -> [1, 2],
    ``lan,wan`` -> ["lan", "wan"], ``inf`` -> inf, ``true`` -> True, ``none`` -> None."""
    t = text.strip()
    if t == "":
        raise SuiteError("empty value", "--set")
    if t.startswith("["):
        try:
            val = json.loads(t)
        except json.JSONDecodeError:
            inner = t[1:-1] if t.endswith("]") else None
            if inner is None:
                raise SuiteError(f"malformed list {text!r}", "--set") from None
            val = [_parse_scalar(p) for p in inner.split(",") if p.strip()]
        if not isinstance(val, list):
            raise SuiteError(f"malformed list {text!r}", "--set")
        return val
    if "," in t:
        parts = [p for p in t.split(",") if p.strip()]
        if not parts:
            raise SuiteError(f"malformed list {text!r}", "--set")
        return [_parse_scalar(p) for p in parts]
    return _parse_scalar(t)


def parse_sets(items) -> dict:
    """``["owners=2,5", "seed=1"]`` -> ``{"owners": [2, 5], "seed": 1}``."""
    out = {}
    for item in items or ():
        if "=" not in item:
            raise SuiteError(f"--set expects key=value, got {item!r}", "--set")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key or not key.replace("_", "").replace("-", "").isalnum():
            raise SuiteError(f"--set: bad key {key!r} in {item!r}", "--set")
        try:
            out[key] = parse_value(value)
        except SuiteError as exc:
            raise SuiteError(f"--set {key}: {exc}", "--set") from None
    return out


# -- configuration ----------------------------------------------------------------------------

def _grids(preset_value) -> list[dict]:
    if isinstance(preset_value, dict):
        grids = [preset_value]
    elif isinstance(preset_value, (list, tuple)) and all(isinstance(g, dict) for g in preset_value):
        grids = list(preset_value)
    else:
        raise SuiteError("a preset must be a dict key -> values or a list of such dicts")
    return [dict(g) for g in grids]


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _categorical(value) -> bool:
    return all(isinstance(v, str) for v in _as_list(value))


def _select_grids(grids: list[dict], key: str, value) -> list[dict]:
    """A categorical override selects among sub-grids: sub-grids that have ``key`` but none of
    the requested values are dropped, provided at least one sub-grid has one of them."""
    want = set(_as_list(value))
    hit = [g for g in grids if key in g and want & {v for v in _as_list(g[key]) if isinstance(v, str)}]
    if not hit:
        return grids
    return [g for g in grids if key not in g or any(g is h for h in hit)]


def grid_keys(suite: ModuleType, preset: str) -> list[str]:
    keys: list[str] = []
    for g in _grids(suite.PRESETS[preset]):
        keys += [k for k in g if k not in keys]
    return keys


def valid_set_keys(suite: ModuleType, preset: str) -> list[str]:
    keys = grid_keys(suite, preset)
    return keys + [k for k in SPECIAL_KEYS if k not in keys]


def resolve_config(suite: ModuleType, preset: str | None = None, overrides: dict | None = None,
                   strict: bool = True) -> dict:
    """The full resolved configuration of a run (stored in meta.json; resume re-uses it).

    ``strict``: an override key unknown to this suite is an error (else it is ignored, as
    ``fibench run all`` does for keys that only some suites have).
    """
    presets = list(suite.PRESETS)
    preset = preset or ("quick" if "quick" in presets else presets[0])
    if preset not in suite.PRESETS:
        raise SuiteError(f"unknown preset {preset!r} for suite {suite.NAME!r}; choose from {', '.join(presets)}",
                         "--preset")
    overrides = dict(overrides or {})
    no_expand = tuple(getattr(suite, "NO_EXPAND", ()))
    grids = _grids(suite.PRESETS[preset])
    allowed = valid_set_keys(suite, preset)
    unknown = [k for k in overrides if k not in allowed]
    if unknown and strict:
        raise SuiteError(f"unknown key(s) {', '.join(map(repr, unknown))} for suite {suite.NAME!r} "
                         f"(preset {preset!r}); valid keys: {', '.join(allowed)}", "--set")
    repeats_map = getattr(suite, "REPEATS", {}) or {}
    repeats = int(repeats_map.get(preset, 1)) if isinstance(repeats_map, dict) else int(repeats_map)
    seed = DEFAULT_SEED
    for key, value in overrides.items():
        if key not in allowed:
            continue
        if key == "repeats":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SuiteError(f"--set repeats must be an integer >= 1, got {value!r}", "--set")
            repeats = value
            continue
        if key == "seed" and not any("seed" in g for g in grids):
            if isinstance(value, list):
                for g in grids:
                    g["seed"] = value
            elif isinstance(value, bool) or not isinstance(value, int):
                raise SuiteError(f"--set seed must be an integer or a list of integers, got {value!r}", "--set")
            else:
                seed = value
            continue
        if key in no_expand and not isinstance(value, list):
            value = [value]
        elif _categorical(value):
            grids = _select_grids(grids, key, value)
        for g in grids:
            if key in g:
                g[key] = value
    for g in grids:
        for k in no_expand:
            if k in g and not isinstance(g[k], (list, tuple)):
                g[k] = [g[k]]
    return {
        "preset": preset,
        "grids": grids,
        "repeats": repeats,
        "seed": seed,
        "no_expand": list(no_expand),
        "overrides": overrides,
    }


def expand(config: dict, valid: Callable | None = None) -> list[dict]:
    """All grid points (dicts), de-duplicated, in grid order; each has ``seed``."""
    no_expand = set(config.get("no_expand", ()))
    points: list[dict] = []
    seen: set[str] = set()
    for g in config["grids"]:
        keys = list(g)
        axes = []
        for k in keys:
            v = g[k]
            if k in no_expand:
                axes.append([list(v)])
            elif isinstance(v, (list, tuple)):
                if len(v) == 0:
                    raise SuiteError(f"grid key {k!r} has an empty list of values", "--set")
                axes.append(list(v))
            else:
                axes.append([v])
        for combo in itertools.product(*axes):
            point = dict(zip(keys, combo))
            point.setdefault("seed", config.get("seed", DEFAULT_SEED))
            if valid is not None and not valid(dict(point)):
                continue
            key = _canonical(point)
            if key not in seen:
                seen.add(key)
                points.append(point)
    return points


def _canonical(point: dict) -> str:
    return json.dumps(point, sort_keys=True, default=str)


def task_id(point: dict, rep: int) -> str:
    return f"{hashlib.sha1(_canonical(point).encode()).hexdigest()[:16]}-r{rep}"


# -- running -------------------------------------------------------------------------------------

@dataclass
class RunResult:
    path: Path
    suite: str
    n_tasks: int
    n_done: int
    n_skipped: int
    status: str
    errors: list = field(default_factory=list)


class RunFailed(RuntimeError):
    """The measure function raised; finished tasks are stored and the run can be resumed."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path


def _scalar(v) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def _rows_of(result, suite_name: str) -> list[dict]:
    if isinstance(result, dict):
        result = [result]
    if not isinstance(result, (list, tuple)) or not all(isinstance(r, dict) for r in result):
        raise TypeError(f"measure function of suite {suite_name!r} must return a list of dicts, "
                        f"got {type(result).__name__}")
    return list(result)


def _jit_summary(df: pd.DataFrame) -> dict | None:
    if res.JIT_KEY not in df.columns:
        return None
    vals = pd.to_numeric(df[res.JIT_KEY], errors="coerce")
    if {"point", "rep"} <= set(df.columns):  # one report per task, even when it has several rows
        vals = vals.groupby([df["point"], df["rep"]]).max()
    vals = vals.dropna()
    if vals.empty:
        return None
    return {"total_s": float(vals.sum()), "max_s": float(vals.max()), "n_reports": int(vals.size)}


def _measure_name(measure) -> str:
    if isinstance(measure, str):
        return measure
    name = getattr(measure, "__qualname__", type(measure).__qualname__)
    return f"{getattr(measure, '__module__', '?')}:{name}"


def default_run_dir(suite_name: str, results_root="results") -> Path:
    return Path(results_root) / suite_name / res.new_run_id()


def run_suite(suite, preset: str | None = None, overrides: dict | None = None, out=None,
              resume=None, progress: bool = True, results_root="results", strict: bool = True,
              argv: list | None = None) -> RunResult:
    """Run (or resume) a suite; returns where it went and how it ended.

    ``out``: the run directory (default ``results/<suite>/<run-id>``); ``resume``: an existing
    run directory whose stored configuration is re-used (``preset``/``overrides`` must then be
    left out). Raises ``SuiteError`` on bad input and ``RunFailed`` when the measure function
    raises (finished tasks are kept; resume later).
    """
    suite = load_suite(suite)
    if resume is not None:
        if preset is not None or overrides:
            raise SuiteError("--resume re-uses the run's stored configuration; leave out --preset and --set",
                             "--resume")
        run = res.RunDir(resume)
        if not run.exists():
            raise SuiteError(f"--resume: {resume} is not a fibench run directory (no meta.json)", "--resume")
        meta = run.read_meta()
        if meta.get("suite") != suite.NAME:
            raise SuiteError(f"--resume: {resume} is a run of suite {meta.get('suite')!r}, not {suite.NAME!r}",
                             "--resume")
        config = meta["config"]
        meta.setdefault("resumed", []).append(res.now_iso())
    else:
        config = resolve_config(suite, preset, overrides, strict=strict)
        run = res.RunDir(out if out is not None else default_run_dir(suite.NAME, results_root))
        if run.exists():
            raise SuiteError(f"--out {run.path} already holds a run; use --resume {run.path} or another --out",
                             "--out")
        meta = {
            "suite": suite.NAME,
            "description": getattr(suite, "DESCRIPTION", ""),
            "suite_source": getattr(suite, "__fibench_source__", getattr(suite, "__name__", None)),
            "measure": _measure_name(suite.MEASURE),
            "run_id": run.path.name,
            "config": config,
        }
    measure = resolve_measure(suite.MEASURE)
    points = expand(config, getattr(suite, "VALID", None))
    repeats = int(config["repeats"])
    tasks = [(task_id(p, r), p, r, i) for i, p in enumerate(points) for r in range(repeats)]
    order = [t[0] for t in tasks]

    run.create()
    meta.update({
        "status": "running",
        "n_points": len(points),
        "repeats": repeats,
        "n_tasks": len(tasks),
        "seeds": sorted({p["seed"] for p in points}, key=str),
        "started": meta.get("started", res.now_iso()),
        "ended": None,
        "argv": argv if argv is not None else meta.get("argv", sys.argv),
        "environment": res.environment(),
    })
    run.write_meta(meta)

    done = run.finished() & set(order)
    skipped = len(done)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), initial=len(done), desc=suite.NAME, unit="pt",
                   file=sys.stderr, dynamic_ncols=True, mininterval=0.2)
    status, error = "complete", None
    try:
        for tid, point, rep, index in tasks:
            if tid in done:
                continue
            params = dict(point)
            params["rep"] = rep
            t0 = time.perf_counter()
            rows = _rows_of(measure(params), suite.NAME)
            wall = time.perf_counter() - t0
            base = {k: v for k, v in point.items() if _scalar(v)}
            base.update({"rep": rep, "point": index, "task_wall_s": wall})
            run.write_point(tid, [{**base, **row} for row in rows])
            done.add(tid)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        status, error = "interrupted", "KeyboardInterrupt"
        raise
    except BaseException as exc:
        status = "failed"
        error = f"{type(exc).__name__}: {str(exc)[:500]}"
        meta["traceback"] = traceback.format_exc(limit=8)[-4000:]
        raise RunFailed(f"suite {suite.NAME!r} failed at a grid point ({error}); "
                        f"{len(done)}/{len(tasks)} tasks stored; resume with --resume {run.path}", run.path) from exc
    finally:
        if bar is not None:
            bar.close()
        df = run.load_points(order)
        run.write_results(df)
        jit = _jit_summary(df) if len(df) else None
        if jit is not None:
            meta["jit_compile"] = jit
        meta.update({"status": status, "error": error, "ended": res.now_iso(), "n_done": len(done)})
        if status == "complete":
            meta.pop("traceback", None)
        run.write_meta(meta)
    return RunResult(run.path, suite.NAME, len(tasks), len(done), skipped, status)
