"""Numba kernels of fibench, installed as ``fibench.kernels``.

Kernels are pure functions on numpy arrays: no protocol logic, no I/O. Ring code works on
``np.uint64`` (the ring Z_2^64, wrap-around arithmetic); every constant is written as
``np.uint64`` so that numba never promotes to float64 or int64.
"""
