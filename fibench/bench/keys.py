"""Allowed values of a suite's grid keys, and the check of every grid point before a run.

A suite declares, as pure data (``KEYS`` in ``suites/<name>.py``), one spec per grid key::

    KEYS = {
        "owners": {"int": (1, 64)},                     # an integer in [1, 64] (None: unbounded)
        "alpha": {"real": (0, None), "open": True,      # a finite real > 0 ("open": the bounds
                  "also": ("iid", "inf")},              #   are excluded), or one of "also"
        "model": {"choice": ("lr", "mlp")},             # one of these values
        "dataset": {"dataset": ("digits", "synthetic")},  # a built-in name or an existing .npz/.csv
        "networks": {"profiles": "network_file"},       # a list of network profile names: the
                                                        #   built-in ones and those of the point's
                                                        #   ``network_file``
        "network_file": {"toml": True, "none": True},   # a TOML file of [profiles.NAME] tables
        "model": {"model": ("lr", "mlp", "cnn"),        # a model spec of these kinds (parsed by
                  "also": ("logreg",)},                 #   fibench.fi.models.parse_model: "lr",
    }                                                   #   "mlp", "mlp:64,32", "cnn", "cnn:8,16m")

``"none": True`` also allows ``None`` (``--set key=none``). Keys without a spec are not checked
(suites written in a test or a notebook need none). Cross-key rules that are errors go into an
optional ``CHECK(point) -> str | None`` of the suite (the message, or ``None`` when the point is
fine); rules that need fibench code go into ``CHECKS``, a tuple of ``"module:function"`` names
of such functions (suites import no fibench code); ``VALID`` stays a filter of designed
combinations.

:func:`check_points` runs before the run directory is created, so that bad input writes
nothing; its ``SuiteError`` names the key, the bad value and what is allowed.
"""
from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

from fibench.bench.suite import SuiteError

#: the run's seed (``--set seed=...``): what fibench.fi accepts
SEED_RANGE = (0, 2**32 - 1)

_SPEC_KINDS = ("int", "real", "choice", "dataset", "profiles", "toml", "model")

#: how each model kind is spelled in a spec (for messages and ``fibench list``)
_MODEL_FORMS = {"lr": "lr", "mlp": "mlp, mlp:H1,H2,... (1 to 8 ReLU layers)",
                "cnn": "cnn, cnn:C1,C2m,... (1 to 3 conv blocks, m: max-pool)",
                "onnx": "onnx:PATH (an ONNX file; each owner retrains its last dense layer)"}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt_range(lo, hi, open_: bool = False) -> str:
    if lo is not None and hi is not None:
        return f"({lo}, {hi})" if open_ else f"[{lo}, {hi}]"
    if lo is not None:
        return f"> {lo}" if open_ else f">= {lo}"
    if hi is not None:
        return f"< {hi}" if open_ else f"<= {hi}"
    return "any value"


def describe(spec: dict) -> str:
    """What a spec allows, in words (for messages and ``fibench list``)."""
    parts = []
    if "int" in spec:
        lo, hi = spec["int"]
        parts.append(f"an integer {_fmt_range(lo, hi)}" if (lo is None or hi is None)
                     else f"an integer in {_fmt_range(lo, hi)}")
    if "real" in spec:
        lo, hi = spec["real"]
        r = _fmt_range(lo, hi, spec.get("open", False))
        parts.append(f"a finite number {r}" if (lo is None or hi is None) else f"a finite number in {r}")
    if "choice" in spec:
        parts.append("one of " + ", ".join(map(str, spec["choice"])))
    if "dataset" in spec:
        parts.append(", ".join(spec["dataset"]) + " or an existing .npz/.csv file")
    if "profiles" in spec:
        parts.append("a list of network profile names (built-in or from the network_file)")
    if "toml" in spec:
        parts.append("a TOML file of [profiles.NAME] tables")
    if "model" in spec:
        parts.append("a model spec: " + ", ".join(_MODEL_FORMS.get(k, k) for k in spec["model"]))
    also = [str(a) for a in spec.get("also", ())] + (["none"] if spec.get("none") else [])
    if also:
        parts.append("or " + ", ".join(also))
    return " ".join(parts) if parts else "any value"


def check_spec(key: str, spec) -> None:
    """A malformed spec is the suite author's error (``SuiteError``)."""
    if not isinstance(spec, dict) or not any(k in spec for k in _SPEC_KINDS):
        raise SuiteError(f"KEYS[{key!r}] must be a dict with one of {', '.join(_SPEC_KINDS)}, got {spec!r}")


class _Profiles:
    """Network profile files, loaded once per check."""

    def __init__(self):
        self.files: dict = {}

    def load(self, path) -> dict:
        from fibench.bench import network

        key = str(path)
        if key not in self.files:
            try:
                self.files[key] = network.load_profiles(path)
            except (ValueError, OSError) as exc:
                self.files[key] = exc
        got = self.files[key]
        if isinstance(got, Exception):
            raise got
        return got


def check_value(key: str, value, spec: dict, point: dict | None = None, profiles: _Profiles | None = None) -> str | None:
    """``None`` if ``value`` is allowed for ``key``, else what is wrong (one line)."""
    point = point or {}
    if value is None and spec.get("none"):
        return None
    also = spec.get("also", ())
    if isinstance(value, str) and value in also:
        return None
    bad = f"{key}={value!r}: must be {describe(spec)}"
    if "int" in spec:
        lo, hi = spec["int"]
        if _is_int(value) and (lo is None or value >= lo) and (hi is None or value <= hi):
            return None
    if "real" in spec:
        lo, hi = spec["real"]
        op = spec.get("open", False)
        if _is_real(value) and math.isinf(value) and any(isinstance(a, str) and a.lower() == ("inf" if value > 0 else "-inf")
                                                         for a in also):
            return None
        if _is_real(value) and math.isfinite(value):
            ok_lo = lo is None or (value > lo if op else value >= lo)
            ok_hi = hi is None or (value < hi if op else value <= hi)
            if ok_lo and ok_hi:
                return None
    if "choice" in spec and not isinstance(value, (list, dict)) and value in spec["choice"]:
        return None
    if "dataset" in spec:
        if isinstance(value, str) and value in spec["dataset"]:
            return None
        if isinstance(value, str) and Path(value).suffix.lower() in (".npz", ".csv"):
            if Path(value).is_file():
                return None
            return f"{key}={value!r}: dataset file not found"
    if "model" in spec and isinstance(value, str):
        from fibench.fi.models import parse_model

        try:
            kind, _ = parse_model(value)
        except ValueError as exc:
            return f"{key}={value!r}: {str(exc).removeprefix('model: ')}" if ":" in value else bad
        if kind in spec["model"]:
            return None
    if "toml" in spec and isinstance(value, str) and value:
        if not Path(value).is_file():
            return f"{key}={value!r}: network profile file not found"
        try:
            (profiles or _Profiles()).load(value)
        except (ValueError, OSError) as exc:
            return f"{key}={value!r}: {exc}"
        return None
    if "profiles" in spec:
        from fibench.bench import network

        names = list(network.PROFILES)
        fkey = spec["profiles"]
        if isinstance(fkey, str) and point.get(fkey):
            try:
                names += [n for n in (profiles or _Profiles()).load(point[fkey]) if n not in names]
            except (ValueError, OSError):
                return None  # reported under the file's own key
        vals = value if isinstance(value, (list, tuple)) else [value]
        if not vals:
            return f"{key}: an empty list of network profiles"
        unknown = [v for v in vals if v not in names]
        if not unknown:
            return None
        return f"{key}: unknown network profile(s) {', '.join(map(repr, unknown))}; choose from {', '.join(names)}"
    return bad


def check_seed(value) -> str | None:
    lo, hi = SEED_RANGE
    if _is_int(value) and lo <= value <= hi:
        return None
    return f"seed={value!r}: must be an integer in [{lo}, {hi}]"


def check_points(suite: ModuleType, points: list[dict]) -> None:
    """Every grid point against the suite's ``KEYS`` and ``CHECK``; ``SuiteError`` (param
    ``--set``) with the first problem found, naming the key, the bad value and what is allowed."""
    keys = getattr(suite, "KEYS", None) or {}
    if not isinstance(keys, dict):
        raise SuiteError(f"suite {suite.NAME!r}: KEYS must be a dict key -> spec")
    for k, spec in keys.items():
        check_spec(k, spec)
    from fibench.bench.suite import resolve_ref

    rules = [r for r in [getattr(suite, "CHECK", None)] if callable(r)]
    rules += [resolve_ref(ref, "check") for ref in getattr(suite, "CHECKS", ())]
    profiles = _Profiles()
    seen: set = set()
    for point in points:
        for key, value in point.items():
            tag = (key, repr(value), repr(point.get(keys.get(key, {}).get("profiles"))) if key in keys else None)
            if tag in seen:
                continue
            seen.add(tag)
            msg = check_seed(value) if key == "seed" else (
                check_value(key, value, keys[key], point, profiles) if key in keys else None)
            if msg is not None:
                raise SuiteError(f"suite {suite.NAME!r}: {msg}", "--set")
        for rule in rules:
            try:
                msg = rule(dict(point))
            except Exception as exc:  # noqa: BLE001 - a CHECK that trips over a value KEYS let through
                msg = f"{type(exc).__name__}: {exc}"
            if msg:
                shown = ", ".join(f"{k}={v!r}" for k, v in point.items() if k != "seed")
                raise SuiteError(f"suite {suite.NAME!r}: {msg} (grid point {shown})", "--set")


def key_lines(suite: ModuleType) -> list[str]:
    """``key: allowed values`` lines for ``fibench list``."""
    keys = getattr(suite, "KEYS", None) or {}
    return [f"{k}: {describe(spec)}" for k, spec in keys.items() if isinstance(spec, dict)]
