"""A suite, found in one place: discovery, loading, and what its module declares.

A suite is a module (``suites/<name>.py``, installed as ``fibench.suites.<name>``; or any
``.py`` file given by path) that holds grids and names, and imports no fibench code::

    NAME = "latency"; DESCRIPTION = "..."
    MEASURE = "fibench.bench.measures.latency:run_point"     # or a callable: params -> list[dict]
    PRESETS = {"quick": GRID, "paper": GRID}        # GRID: {key: [values]} or a list of such
    REPEATS = {"quick": 1, "paper": 3}              # optional (default 1)
    NO_EXPAND = ("networks",)                       # optional: list-valued keys passed whole
    VALID = lambda point: True                      # optional: drop grid points it rejects
    PLOTS = ("fibench.bench.plots.latency:plot_latency_owners", ...)   # optional: fn(df, outdir) -> paths
    TABLES = {"title": "fibench.bench.measures.latency:latency_pivot"}  # optional: fn(df) -> DataFrame | None
    REPORT = {"index": [...], "values": [...]}     # optional: columns of the report's main table

``MEASURE``, ``PLOTS`` and ``TABLES`` name functions as ``"module:function"`` strings (or are
callables, for suites written in a test or a notebook); :func:`resolve_ref` imports them when
they are used, so listing suites imports neither the MPC engine nor matplotlib. Table functions
must not need matplotlib (``fibench report`` does not import it).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

#: suites in the order ``fibench run all`` runs them (others follow alphabetically)
SUITE_ORDER = ("kernels", "communication", "latency", "accuracy", "incentives", "privacy", "crosscheck")


class SuiteError(ValueError):
    """A suite, preset or override that cannot be used (message is meant for the user);
    ``param`` names the command-line parameter at fault (``SUITE``, ``--preset``, ``--set``...)."""

    def __init__(self, message: str, param: str = "SUITE"):
        super().__init__(message)
        self.param = param


# -- discovery and loading ----------------------------------------------------------------------

def _check_suite(mod: ModuleType, origin: str) -> ModuleType:
    missing = [a for a in ("NAME", "PRESETS", "MEASURE") if not hasattr(mod, a)]
    if missing:
        raise SuiteError(f"suite {origin} lacks {', '.join(missing)}")
    if not isinstance(mod.PRESETS, dict) or not mod.PRESETS:
        raise SuiteError(f"suite {origin}: PRESETS must be a non-empty dict preset -> grid")
    plots = getattr(mod, "PLOTS", ())
    if isinstance(plots, str) or not isinstance(plots, (list, tuple)):
        raise SuiteError(f"suite {origin}: PLOTS must be a list of 'module:function' names")
    if not isinstance(getattr(mod, "TABLES", {}), dict):
        raise SuiteError(f"suite {origin}: TABLES must be a dict title -> 'module:function'")
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


def suite_spec_of_run(meta: dict) -> str | None:
    """What to load for a stored run: its suite file while that still exists, else its NAME."""
    source = str(meta.get("suite_source") or "")
    return source if source.endswith(".py") and Path(source).is_file() else meta.get("suite")


# -- what a suite names ----------------------------------------------------------------------------

def resolve_ref(ref, kind: str = "measure") -> Callable:
    """The function a suite names: a callable as is, or ``"module:function"`` imported now.
    ``kind`` (``measure``, ``plot``, ``table``) words the error (a ``SuiteError``)."""
    if callable(ref):
        return ref
    if not isinstance(ref, str) or ":" not in ref:
        raise SuiteError(f"{kind.upper()} must be a callable or 'module:function', got {ref!r}")
    modname, fname = ref.split(":", 1)
    try:
        mod = importlib.import_module(modname)
    except ImportError as exc:
        raise SuiteError(f"{kind} module {modname!r} cannot be imported: {exc}") from exc
    fn = getattr(mod, fname, None)
    if not callable(fn):
        raise SuiteError(f"{kind} function {ref!r} not found")
    return fn


def resolve_measure(measure) -> Callable:
    return resolve_ref(measure, "measure")


def measure_available(suite: ModuleType) -> str | None:
    """``None`` if the suite's measure function can be loaded, else the reason."""
    try:
        resolve_measure(suite.MEASURE)
    except SuiteError as exc:
        return str(exc)
    return None


def ref_name(ref) -> str:
    """``module:function`` of a reference (strings as they are)."""
    if isinstance(ref, str):
        return ref
    name = getattr(ref, "__qualname__", type(ref).__qualname__)
    return f"{getattr(ref, '__module__', '?')}:{name}"


def suite_plots(suite: ModuleType) -> list[Callable]:
    """The suite's figure functions ``fn(df, outdir) -> list of paths``, in declared order."""
    return [resolve_ref(r, "plot") for r in getattr(suite, "PLOTS", ())]


def suite_tables(suite: ModuleType) -> list[tuple[str, Callable]]:
    """The suite's extra report tables: ``(title, fn(df) -> DataFrame | None)``."""
    return [(title, resolve_ref(r, "table")) for title, r in getattr(suite, "TABLES", {}).items()]
