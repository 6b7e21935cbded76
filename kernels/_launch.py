"""Launch numba ``parallel=True`` kernels with one thread for small inputs.

A parallel region ends at a barrier; when another process holds a core, one call on a tiny
array can wait there for milliseconds (measured ~11 ms vs ~2 us single-threaded on a loaded
2-core box). Protocols with many rounds on small batches (one query, argmax of one row) would
be dominated by that, so below ``PARALLEL_MIN`` elements kernels run on one thread.
"""
import numba

PARALLEL_MIN = 1 << 14


def launch(kernel, n: int, *args):
    """Call ``kernel(*args)``; single-threaded when the work has fewer than PARALLEL_MIN items."""
    if n >= PARALLEL_MIN:
        return kernel(*args)
    prev = numba.get_num_threads()
    if prev == 1:
        return kernel(*args)
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(prev)
