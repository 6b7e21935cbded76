"""fibench: benchmarking suite and reference implementation for secure federated inference.

Sub-packages
------------
fibench.kernels   numba kernels on numpy arrays (ring Z_2^64, fixed point, Beaver, bit-sliced circuits)
fibench.engine    parties, dealer (correlated randomness), communicators with exact accounting
fibench.protocols MPC protocols composed from kernels and the communicator
fibench.suites    benchmark grids (what to measure; the measuring code is in fibench.bench)
"""

__version__ = "0.1.0"
