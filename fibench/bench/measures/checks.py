"""Grid-point checks that need fibench code, named by the suites' ``CHECKS`` (suites hold grids
and names only): each takes a point and returns a one-line error or ``None``, before anything
is written (``fibench.bench.keys.check_points``)."""
from __future__ import annotations

from fibench.fi.partition import MIN_SAMPLES, owners_fit


def _fit(point: dict, owners_default: int, min_samples, settable: bool = True):
    ds = point.get("dataset", "digits")
    return owners_fit(ds, point.get("owners", owners_default), min_samples,
                      point.get("n_samples") if ds == "synthetic" else None, min_samples_settable=settable)


def accuracy_fit(point: dict) -> str | None:
    """``owners`` x ``min_samples`` (default 5) training samples fit in the training split."""
    return _fit(point, 5, point.get("min_samples", 5))


def incentives_fit(point: dict) -> str | None:
    """Every owner gets ``fibench.fi.partition.MIN_SAMPLES`` training points (not settable here)."""
    return _fit(point, 2, MIN_SAMPLES, settable=False)


def privacy_fit(point: dict) -> str | None:
    """The parts that partition data: ``owners`` x ``min_samples`` (default 2) fit."""
    if point.get("part", "accuracy") not in ("accuracy", "confident", "incentives", "cost"):
        return None
    return _fit(point, 10, point.get("min_samples", 2))
