"""numba's thread count, in one place: ``num_threads`` (a context manager), ``launch`` and
``passive_wait``.

A parallel region ends at a barrier; when another process holds a core, one call on a tiny
array can wait there for milliseconds (measured ~11 ms vs ~2 us single-threaded on a loaded
2-core box). Protocols with many rounds on small batches (one query, argmax of one row) would
be dominated by that, so ``launch`` runs kernels on one thread below ``PARALLEL_MIN`` items.
"""
import contextlib
import os

import numba

PARALLEL_MIN = 1 << 14


@contextlib.contextmanager
def num_threads(n):
    """Run the block with ``n`` numba threads (clamped to [1, NUMBA_NUM_THREADS]) and restore
    the previous count afterwards; ``n`` = 0 or ``None`` leaves the count as it is."""
    if not n:
        yield
        return
    prev = numba.get_num_threads()
    want = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    if want == prev:
        yield
        return
    numba.set_num_threads(want)
    try:
        yield
    finally:
        numba.set_num_threads(prev)


def threads_for(n: int):
    """A context manager: one numba thread inside the block when the work has fewer than
    PARALLEL_MIN items, else the count as it is."""
    return num_threads(1 if n < PARALLEL_MIN else 0)


def launch(kernel, n: int, *args):
    """Call ``kernel(*args)``; single-threaded when the work has fewer than PARALLEL_MIN items."""
    if n >= PARALLEL_MIN:
        return kernel(*args)
    with num_threads(1):
        return kernel(*args)


def passive_wait() -> None:
    """Ask numba's OpenMP pool to sleep, not spin, between parallel regions (a user's own
    ``OMP_WAIT_POLICY`` wins). On a shared machine spinning threads compete with the work
    (measured: 0.24 ms vs 0.03 ms per 10^5-element kernel under load). Effective only before
    the pool starts, so entry points (the CLI, the runner) call it first; importing fibench
    changes nothing."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
