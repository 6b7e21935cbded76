"""Suite runner: resolve presets and ``--set`` overrides, expand grids, call the suite's
measure function once per (grid point, repetition), store every finished task at once (so that
an interrupted run resumes where it stopped) and show a progress bar.

What a suite module declares, and how it is found, is in :mod:`fibench.bench.suite` (its names
are re-exported here). A command runs in two steps: :func:`prepare` loads the suite(s),
resolves the configuration and checks everything the user gave (``SuiteError`` before anything
is written), once; :func:`execute` runs one prepared run. ``run_suite`` does both.

A GRID that is a *list* of dicts is the union of the sub-grids (each expanded on its own):
the way to write constrained grids (e.g. ``fss`` only with 2 parties). ``--set key=value``
replaces the key's values in every sub-grid that has the key; for a *categorical* (string)
value it first selects: sub-grids that have the key but none of the given values are dropped
(``--set workload=m1`` keeps only the m1 sub-grids), unless no sub-grid has any of them. Scalar values count as
one-element lists. The measure function gets one point: every grid key with a scalar value
(NO_EXPAND keys with their list), plus ``seed`` (the grid's ``seed`` if it has one, else the
run's base seed, default 0) and ``rep`` (0..repeats-1). Its rows are stored with the point's
scalar keys, ``rep``, ``point`` (index of the grid point) and ``task_wall_s`` prepended.

``backend="mpi"`` (with ``parties=P`` to pin the number of parties) runs a suite whose measure
has an mpi counterpart (``fibench.bench.mpi_worker.MPI_MEASURES``) with one process per party;
it is part of the run's stored configuration, so ``--resume`` keeps it.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pandas as pd

from fibench.bench import results as res
from fibench.bench.suite import (  # noqa: F401
    SUITE_ORDER,
    SuiteError,
    discover_suites,
    load_suite,
    load_suite_file,
    measure_available,
    ref_name,
    resolve_measure,
    suite_spec_of_run,
)

#: keys accepted by ``--set`` in addition to the grid's keys
SPECIAL_KEYS = ("seed", "repeats")
DEFAULT_SEED = 0
BACKENDS = ("local", "mpi")


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
        raw = [p for p in t.split(",") if p.strip()]
        parts = _glue_specs(raw)
        if not parts:
            raise SuiteError(f"malformed list {text!r}", "--set")
        if len(parts) == 1 and len(raw) > 1:  # one spec such as mlp:64,32
            return _parse_scalar(parts[0])
        return [_parse_scalar(p) for p in parts]
    return _parse_scalar(t)


def _glue_specs(parts: list[str]) -> list[str]:
    """Sizes of a model spec stay with it: ``lr,mlp:64,32,cnn:8,16m`` -> ``lr``,
    ``mlp:64,32``, ``cnn:8,16m`` (an item of digits, optionally ending in ``m``, after an item
    that holds a ``:`` belongs to that item)."""
    out: list[str] = []
    for p in parts:
        q = p.strip()
        if out and ":" in out[-1] and (q.isdigit() or (q.endswith("m") and q[:-1].isdigit())):
            out[-1] = f"{out[-1]},{q}"
        else:
            out.append(q)
    return out


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


def _check_renamed(suites, overrides: dict) -> None:
    """``SuiteError`` (param ``--set``) for an override key that a suite's ``RENAMED`` (old key
    -> the new key, with a reason) lists: an old name never silently selects nothing."""
    for suite in suites:
        for old, new in (getattr(suite, "RENAMED", None) or {}).items():
            if old in overrides:
                raise SuiteError(f"key {old!r} of suite {suite.NAME!r} was renamed {new}: "
                                 f"use --set {new.split()[0]}=...", "--set")


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
    _check_renamed([suite], overrides)
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


# -- preparing a command ---------------------------------------------------------------------------

@dataclass
class RunPlan:
    """One run, checked and ready: the suite, the run directory, the configuration and the
    meta.json it starts from (see :func:`plan`); :func:`execute` runs it."""
    suite: ModuleType
    run: res.RunDir
    config: dict
    meta: dict
    measure: Callable
    resumed: bool = False
    notes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.suite.NAME


@dataclass
class Skipped:
    """A suite that ``run all`` leaves out: a warning, or an error (``failed``) that makes the
    command fail while the other suites still run."""
    suite: str
    message: str
    failed: bool = False


def _backend_measure(suite: ModuleType, backend: str):
    """The measure reference serving ``suite`` on ``backend``."""
    if backend not in BACKENDS:
        raise SuiteError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}", "--backend")
    if backend == "local":
        return suite.MEASURE
    from fibench.bench import mpi_worker

    try:
        measure = mpi_worker.mpi_measure(suite.MEASURE)
    except ValueError as exc:
        raise SuiteError(f"suite {suite.NAME!r}: {exc}", "--backend") from None
    reason = mpi_worker.mpi_available()
    if reason is not None:
        raise SuiteError(f"suite {suite.NAME!r} cannot run on the mpi backend: {reason}", "--backend")
    return measure


def _check_hosts(hosts, hostfile) -> tuple:
    """``hosts``: host names (``"a,b"`` or a list) for ``mpiexec -hosts``; ``hostfile``: an
    MPICH host file for ``mpiexec -f``. At most one; returns ``(hosts str | None, hostfile abs |
    None)``."""
    if hosts is not None and hostfile is not None:
        raise SuiteError("give --hosts or --hostfile, not both", "--hosts")
    if hosts is not None:
        names = hosts.split(",") if isinstance(hosts, str) else list(hosts)
        names = [str(h).strip() for h in names]
        if not names or any(not h or any(c.isspace() for c in h) or h.startswith("-") for h in names):
            raise SuiteError(f"--hosts must be comma-separated host names (e.g. node1,node2), got {hosts!r}",
                             "--hosts")
        hosts = ",".join(names)
    if hostfile is not None:
        path = Path(hostfile)
        if not path.is_file():
            raise SuiteError(f"--hostfile {hostfile}: no such file", "--hostfile")
        hostfile = str(path.resolve())
    return hosts, hostfile


def _pin_backend(config: dict, backend: str, parties, hosts=None, hostfile=None) -> dict:
    """Store a non-local backend (the pinned number of parties, the hosts) in the run's configuration."""
    if backend == "local":
        if parties is not None:
            raise SuiteError("parties= pins the number of mpi ranks: use it with backend='mpi' "
                             "(or --set parties=...)", "--parties")
        if hosts is not None or hostfile is not None:
            raise SuiteError("--hosts / --hostfile place the mpi ranks: use them with --backend mpi", "--hosts")
        return config
    hosts, hostfile = _check_hosts(hosts, hostfile)
    if parties is not None:
        if isinstance(parties, bool) or not isinstance(parties, int) or parties < 2:
            raise SuiteError(f"--parties must be an integer >= 2, got {parties!r}", "--parties")
        for g in config["grids"]:
            g["parties"] = [parties]
    placed = {"mpi_hosts": hosts} if hosts else {"mpi_hostfile": hostfile} if hostfile else {}
    return {**config, "backend": backend, "parties": parties, **placed}


_PLACEMENT_ENV = {"mpi_hosts": "FIBENCH_MPI_HOSTS", "mpi_hostfile": "FIBENCH_MPI_HOSTFILE"}


def _place_ranks(config: dict) -> dict:
    """Point ``launch_mpi`` at a run's stored ``mpi_hosts`` / ``mpi_hostfile`` (environment
    variables of this process); returns the previous values for :func:`_restore_env`."""
    if not any(config.get(k) for k in _PLACEMENT_ENV):
        return {}
    old = {v: os.environ.get(v) for v in _PLACEMENT_ENV.values()}
    for key, var in _PLACEMENT_ENV.items():
        if config.get(key):
            os.environ[var] = config[key]
        else:
            os.environ.pop(var, None)
    return old


def _restore_env(old: dict) -> None:
    for var, value in old.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


def _resume_target(resume) -> res.RunDir:
    run = res.RunDir(resume)
    if not run.exists():
        raise SuiteError(f"--resume: {resume} is not a fibench run directory (no meta.json)", "--resume")
    return run


def _read_meta(run: res.RunDir, param: str = "--resume") -> dict:
    try:
        return run.read_meta()
    except (res.DamagedRun, OSError) as exc:
        raise SuiteError(str(exc), param) from None


def _check_out(path: Path) -> None:
    """``--out`` must be (or become) a directory we can write: not a file, not under a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SuiteError(f"--out {path} is a file, not a directory", "--out")
    parent = path
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent != path and not parent.is_dir():
        raise SuiteError(f"--out {path}: {parent} is a file, not a directory", "--out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SuiteError(f"--out {path}: {parent} is not writable", "--out")


def _point_text(keys) -> str:
    return ", ".join(f"{k}={_as_text(v)}" for k, v in keys.items())


def _as_text(v) -> str:
    if isinstance(v, list):
        return ",".join(map(str, v))
    return str(v)


def check_config(suite: ModuleType, config: dict) -> tuple[list[dict], list[str]]:
    """Every grid point of ``config`` checked against the suite's ``KEYS``/``CHECK`` (see
    :mod:`fibench.bench.keys`); ``(points, notes)``. Raises ``SuiteError`` for a bad value and for
    an empty grid (naming the overrides that emptied it). Writes nothing."""
    valid = getattr(suite, "VALID", None)
    points = expand(config, valid)
    overrides = {k: v for k, v in (config.get("overrides") or {}).items() if k != "repeats"}
    notes: list[str] = []
    if valid is not None:
        total = len(expand(config))
        dropped = total - len(points)
        rule = (getattr(valid, "__doc__", None) or "").strip().splitlines()
        why = f" ({rule[0].rstrip('.')})" if rule else ""
        if not points:
            given = f" after --set {_point_text(overrides)}" if overrides else ""
            raise SuiteError(f"suite {suite.NAME!r}: the grid is empty{given}: the suite's VALID rule drops "
                             f"all {total} points{why}; change the conflicting keys "
                             f"{', '.join(overrides) or '(the preset)'}", "--set")
        # an override that no point left carries was dropped silently with its points
        lost = [k for k in overrides if k not in SPECIAL_KEYS and any(k in g for g in config["grids"])
                and not any(k in pt for pt in points)]
        if lost:
            others = {k: v for k, v in overrides.items() if k not in lost}
            raise SuiteError(f"suite {suite.NAME!r}: --set {_point_text({k: overrides[k] for k in lost})} "
                             f"conflicts with {('--set ' + _point_text(others)) if others else 'the preset'}: the "
                             f"suite's VALID rule drops every point that has {', '.join(lost)}{why}", "--set")
        if dropped and overrides:
            notes.append(f"{suite.NAME}: {dropped} of {total} grid points left out by the suite's VALID rule{why}")
    if not points:
        raise SuiteError(f"suite {suite.NAME!r}: the grid is empty", "--set")
    from fibench.bench import keys

    keys.check_points(suite, points)
    return points, notes


def _check_points_dir(run: res.RunDir) -> None:
    """A damaged per-task file makes ``--resume`` fail at once, naming the file."""
    try:
        run.check_points()
    except res.DamagedRun as exc:
        raise SuiteError(str(exc), "--resume") from None


def plan(suite=None, preset: str | None = None, overrides: dict | None = None, out=None, resume=None,
         strict: bool = True, results_root="results", backend: str | None = None,
         parties: int | None = None, hosts=None, hostfile=None) -> RunPlan:
    """Load the suite and check a run of it; nothing is written yet.

    ``suite``: a name, a suite file, a module, or ``None`` with ``resume`` (the suite is read
    from the run's meta.json). ``out``: the run directory (default ``results/<suite>/<run-id>``);
    ``resume``: an existing run directory whose stored configuration (backend included) is
    re-used (``preset``/``overrides`` must then be left out). ``strict``: an override key
    unknown to this suite is an error (else it is ignored, as ``run all`` does).
    ``backend="mpi"``: ``parties`` pins the number of ranks, ``hosts`` (``"a,b"``) or
    ``hostfile`` (MPICH's ``-f`` file) place them (stored with the run, re-used on resume).
    Raises ``SuiteError``.
    """
    if resume is not None and (preset is not None or overrides):
        raise SuiteError("--resume re-uses the run's stored configuration; leave out --preset and --set",
                         "--resume")
    if suite is None:
        if resume is None:
            raise SuiteError("give a suite name, 'all', or --resume RUN_DIR", "SUITE")
        spec = suite_spec_of_run(_read_meta(_resume_target(resume)))
        try:
            suite = load_suite(spec)
        except SuiteError as exc:
            raise SuiteError(f"{res.RunDir(resume).meta_path} names a suite that cannot be loaded: {exc}",
                             "--resume") from None
    suite = load_suite(suite)
    if resume is not None:
        run = _resume_target(resume)
        meta = _read_meta(run)
        if not isinstance(meta.get("config"), dict) or not isinstance(meta["config"].get("grids"), list):
            raise SuiteError(f"--resume: {run.meta_path} holds no run configuration (config.grids)", "--resume")
        if meta.get("suite") != suite.NAME:
            raise SuiteError(f"--resume: {resume} is a run of suite {meta.get('suite')!r}, not {suite.NAME!r}",
                             "--resume")
        config = meta["config"]
        stored = config.get("backend", "local")
        if hosts is not None or hostfile is not None:
            raise SuiteError("--resume re-uses the run's stored hosts; leave out --hosts and --hostfile", "--resume")
        if backend is not None and backend != stored:
            raise SuiteError(f"--resume: {resume} runs on the {stored} backend, not {backend}", "--resume")
        measure = resolve_measure(_backend_measure(suite, stored))
        _check_points_dir(run)
        _, notes = check_config(suite, config)
        return RunPlan(suite, run, config, meta, measure, resumed=True)
    backend = backend or "local"
    config = _pin_backend(resolve_config(suite, preset, overrides, strict=strict), backend, parties, hosts, hostfile)
    _, notes = check_config(suite, config)
    run = res.RunDir(out if out is not None else default_run_dir(suite.NAME, results_root))
    if run.exists():
        raise SuiteError(f"--out {run.path} already holds a run; use --resume {run.path} or another --out",
                         "--out")
    _check_out(run.path)
    ref = _backend_measure(suite, backend)
    measure = resolve_measure(ref)
    description = getattr(suite, "DESCRIPTION", "")
    meta = {
        "suite": suite.NAME,
        "description": description if backend == "local" else f"{description} [{backend} backend]",
        "suite_source": getattr(suite, "__fibench_source__", getattr(suite, "__name__", None)),
        "measure": ref_name(ref),
        "run_id": run.path.name,
        "config": config,
    }
    return RunPlan(suite, run, config, meta, measure, notes=notes)


def plan_all(preset: str | None = None, overrides: dict | None = None, out=None, resume=None,
             results_root="results") -> list:
    """``run all``: a :class:`RunPlan` for every discovered suite that can run, a
    :class:`Skipped` for the others, in run order. ``out``/``resume``: a directory holding
    one run per suite (``DIR/<suite>/``); with ``resume``, the suites already there are resumed
    and the others start with ``preset``/``overrides``. Override keys need only be known to
    some suite. Raises ``SuiteError`` for a preset or key that no suite has."""
    errors: dict = {}
    suites = discover_suites(errors)
    entries: list = [Skipped(name, f"suite module {name} is broken and skipped: {msg}") for name, msg in errors.items()]
    if preset is not None and not any(preset in m.PRESETS for m in suites.values()):
        allowed = sorted({p for m in suites.values() for p in m.PRESETS})
        raise SuiteError(f"unknown preset {preset!r}; choose from {', '.join(allowed)}", "--preset")
    if overrides:
        _check_renamed(suites.values(), overrides)
        known = {k for m in suites.values() for p in m.PRESETS for k in valid_set_keys(m, p)}
        unknown = [k for k in overrides if k not in known]
        if unknown:
            raise SuiteError(f"unknown key(s) {', '.join(map(repr, unknown))} in every suite; "
                             f"valid keys: {', '.join(sorted(known))}", "--set")
    base = resume if resume is not None else out
    if resume is not None:
        rdir = Path(resume)
        if not rdir.is_dir():
            raise SuiteError(f"--resume: {resume} is not a directory of suite runs", "--resume")
        if (rdir / res.META).is_file():
            raise SuiteError(f"--resume: {resume} is a run of one suite; resume it with "
                             f"fibench run --resume {resume}", "--resume")
        if not any((rdir / name / res.META).is_file() for name in suites):
            raise SuiteError(f"--resume: {resume} holds no suite run (no {resume}/<suite>/{res.META}); "
                             "give the --out of a `fibench run all`", "--resume")
    elif out is not None:
        _check_out(Path(out))
    p = preset or "quick"
    bad: list[str] = []
    for name, mod in suites.items():
        reason = measure_available(mod)
        if reason is not None:
            entries.append(Skipped(name, f"skipping suite {name}: {reason}"))
            continue
        if p not in mod.PRESETS:
            entries.append(Skipped(name, f"suite {name} has no preset {p!r}; skipped"))
            continue
        target = Path(base) / name if base is not None else None
        again = resume is not None and target is not None and (target / res.META).is_file()
        try:
            entries.append(plan(mod, resume=target) if again else
                           plan(mod, p, overrides, out=target, strict=False, results_root=results_root))
        except SuiteError as exc:
            bad.append(str(exc) if str(exc).startswith(f"suite {name!r}") else f"suite {name!r}: {exc}")
    if bad:  # validate every suite before any of them writes anything
        raise SuiteError("; ".join(bad), "--set" if overrides else "SUITE")
    return entries


def prepare(suite, preset: str | None = None, overrides: dict | None = None, out=None, resume=None,
            results_root="results", backend: str | None = None, parties: int | None = None, hosts=None,
            hostfile=None) -> list:
    """What ``fibench run SUITE|all`` runs: ``plan_all`` for ``"all"``, else one :func:`plan`
    (``backend``/``parties``: see :func:`plan`; one suite at a time on the mpi backend)."""
    if suite == "all":
        if backend not in (None, "local") or parties is not None or hosts is not None or hostfile is not None:
            raise SuiteError("--backend mpi / --parties / --hosts run one suite at a time (e.g. fibench run communication "
                             "--backend mpi), not 'all'", "--backend")
        return plan_all(preset, overrides, out, resume, results_root)
    return [plan(suite, preset, overrides, out, resume, results_root=results_root, backend=backend, parties=parties,
                 hosts=hosts, hostfile=hostfile)]


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


def default_run_dir(suite_name: str, results_root="results") -> Path:
    return Path(results_root) / suite_name / res.new_run_id()


def _history_entry(argv, kind: str) -> dict:
    git = res.git_info()
    return {"event": kind, "time": res.now_iso(), "argv": list(argv),
            "commit": git.get("commit"), "dirty": git.get("dirty")}


def execute(prepared: RunPlan, progress: bool = True, argv: list | None = None) -> RunResult:
    """Run (or resume) a prepared run; returns where it went and how it ended. Raises
    ``RunFailed`` when the measure function raises or a file cannot be written (finished tasks
    are kept; resume later), ``KeyboardInterrupt`` after storing what was done.

    meta.json keeps the history of the run: ``argv`` and ``environment`` of the command that
    started it, and one ``history`` entry (argv, time, commit) per start and resume."""
    from fibench.mpc.memory import reuse_freed_memory

    reuse_freed_memory()  # steady-state timings: freed arrays' pages are reused, not faulted in again
    suite, run, config, meta, measure = (prepared.suite, prepared.run, prepared.config, prepared.meta,
                                         prepared.measure)
    points = expand(config, getattr(suite, "VALID", None))
    repeats = int(config["repeats"])
    tasks = [(task_id(p, r), p, r, i) for i, p in enumerate(points) for r in range(repeats)]
    order = [t[0] for t in tasks]
    argv = list(argv if argv is not None else sys.argv)

    fresh = not run.path.exists()
    run.create()
    run.clean_tmp()
    done = run.finished() & set(order)
    history = meta.setdefault("history", [])
    if prepared.resumed:
        meta.setdefault("resumed", []).append(res.now_iso())
        history.append(_history_entry(argv, "resume"))
    else:
        history.append(_history_entry(argv, "start"))
    meta.update({
        "status": "running",
        "n_points": len(points),
        "repeats": repeats,
        "n_tasks": len(tasks),
        "n_done": len(done),
        "seeds": sorted({p["seed"] for p in points}, key=str),
        "started": meta.get("started", res.now_iso()),
        "ended": None,
        "pid": os.getpid(),
        "host": platform.node(),
    })
    meta.setdefault("argv", argv)                       # the command that started the run
    meta.setdefault("environment", res.environment())   # ... and where it started
    if prepared.resumed:
        history[-1]["environment"] = {k: v for k, v in res.environment().items() if k != "packages"}
    try:
        run.write_meta(meta)
    except OSError:
        if fresh:  # nothing of the run is there yet: leave no directory behind
            _remove_empty_run(run)
        raise

    skipped = len(done)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), initial=len(done), desc=suite.NAME, unit="pt",
                   file=sys.stderr, dynamic_ncols=True, mininterval=0.2)
    status, error, writing = "complete", None, False
    placed = _place_ranks(config)
    try:
        for tid, point, rep, index in tasks:
            if tid in done:
                continue
            params = dict(point)
            params["rep"] = rep
            if bar is not None:  # what is being measured (or trained) now
                bar.set_postfix_str(_point_text(point), refresh=True)
            t0 = time.perf_counter()
            rows = _rows_of(measure(params), suite.NAME)
            wall = time.perf_counter() - t0
            base = {k: v for k, v in point.items() if _scalar(v)}
            base.update({"rep": rep, "point": index, "task_wall_s": wall})
            writing = True
            run.write_point(tid, [{**base, **row} for row in rows])
            writing = False
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
        where = "writing a task's results" if writing else "at a grid point"
        raise RunFailed(f"suite {suite.NAME!r} failed {where} ({error}); "
                        f"{len(done)}/{len(tasks)} tasks stored; resume with --resume {run.path}", run.path) from exc
    finally:
        _restore_env(placed)
        if bar is not None:
            bar.close()
        try:
            df = run.load_points(order)
            run.write_results(df)
            _write_readme(run, meta, df, suite)
            jit = _jit_summary(df) if len(df) else None
            if jit is not None:
                meta["jit_compile"] = jit
        except (OSError, res.DamagedRun) as exc:
            if status == "complete":
                status = "failed"
            if error is None:
                error = f"{type(exc).__name__}: {str(exc)[:500]}"
            meta["results_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        else:
            meta.pop("results_error", None)
        meta.update({"status": status, "error": error, "ended": res.now_iso(), "n_done": len(done)})
        meta.pop("pid", None)
        meta.pop("host", None)
        if status == "complete":
            meta.pop("traceback", None)
        run.write_meta_final(meta)
    if status != "complete":  # the measures ran, but results.csv could not be written
        raise RunFailed(f"suite {suite.NAME!r}: {error}; {len(done)}/{len(tasks)} tasks stored; "
                        f"resume with --resume {run.path}", run.path)
    return RunResult(run.path, suite.NAME, len(tasks), len(done), skipped, status)


def _point_text(point: dict, width: int = 60) -> str:
    """The grid point in a few words for the progress bar: its scalar settings, cut to ``width``."""
    text = " ".join(f"{k}={v}" for k, v in point.items() if _scalar(v) and k != "seed" and v is not None)
    return text if len(text) <= width else text[: width - 1] + "…"


def _write_readme(run: res.RunDir, meta: dict, df, suite) -> None:
    """README.md of the run: what its files and columns mean (``fibench explain``)."""
    from fibench.bench.explain import explain_text

    text = explain_text(meta, df, suite)
    res.atomic_write_text(run.path / res.RUN_README, text)


def estimated_duration(suite, preset: str, n_tasks: int) -> str:
    """How long ``preset`` takes, in words: the suite's ``DURATION_S[preset]`` (seconds measured
    on the reference machine, see the suite), else a lower bound from the quick preset's time
    per task (larger presets have larger tasks), else "unknown"."""
    from fibench.bench.formatting import fmt_duration

    known = getattr(suite, "DURATION_S", {}) or {}
    if preset in known:
        return f"~{fmt_duration(known[preset])}"
    base = next(((p, t) for p, t in known.items() if p in suite.PRESETS), None)
    if base is not None:
        try:
            cfg = resolve_config(suite, base[0])
            base_tasks = len(expand(cfg, getattr(suite, "VALID", None))) * int(cfg["repeats"])
        except SuiteError:
            base_tasks = 0
        if base_tasks:
            return f">= {fmt_duration(base[1] / base_tasks * n_tasks)} ({base[0]}'s time per task x {n_tasks} tasks)"
    return "unknown"


def _remove_empty_run(run: res.RunDir) -> None:
    for d in (run.points, run.figures, run.path):
        try:
            d.rmdir()
        except OSError:
            pass


def run_suite(suite, preset: str | None = None, overrides: dict | None = None, out=None,
              resume=None, progress: bool = True, results_root="results", strict: bool = True,
              argv: list | None = None, backend: str | None = None, parties: int | None = None) -> RunResult:
    """:func:`plan` then :func:`execute`: run (or resume) a suite. Raises ``SuiteError`` on bad
    input and ``RunFailed`` when the measure function raises."""
    return execute(plan(suite, preset, overrides, out, resume, strict, results_root, backend, parties),
                   progress, argv)
