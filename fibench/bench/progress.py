"""Progress bars where people wait, on stderr, and only where someone watches.

``wanted(flag)`` is the rule every long command follows: ``--no-progress`` turns bars off, and
so do a stderr that is not a terminal (a pipe, a file, a test runner) and a CI environment
(``CI`` set, as GitHub Actions, GitLab CI and most others do). ``bar(...)`` is tqdm on stderr,
or a silent stand-in with the same methods when progress is off.
"""
from __future__ import annotations

import os
import sys


def wanted(flag: bool = True, stream=None) -> bool:
    """True when a bar should be shown: ``flag``, a terminal on ``stream`` (default stderr), no CI."""
    stream = sys.stderr if stream is None else stream
    if not flag or os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Silent:
    """What ``bar`` returns when progress is off: iterates and counts nothing visible."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def update(self, n=1):
        pass

    def set_postfix_str(self, s="", refresh=True):
        pass

    def set_description_str(self, s="", refresh=True):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def bar(iterable=None, *, enabled: bool, total=None, desc: str = "", unit: str = "it", leave: bool = False):
    """A tqdm bar on stderr when ``enabled`` (see :func:`wanted`), else a silent stand-in."""
    if not enabled:
        return _Silent(iterable)
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=leave, dynamic_ncols=True,
                mininterval=0.2)
