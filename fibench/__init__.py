"""fibench: benchmarking suite and reference implementation for secure federated inference.

Sub-packages
------------
fibench.kernels   numba kernels on numpy arrays (ring Z_2^64, fixed point, Beaver, bit-sliced circuits)
fibench.mpc    parties, dealer (correlated randomness), communicators with exact accounting
fibench.mpc.protocols MPC protocols composed from kernels and the communicator
fibench.suites    benchmark grids (what to measure; the measuring code is in fibench.bench)
"""

import os as _os

# numba's OpenMP pool spin-waits between parallel regions by default; on a shared machine the
# spinning threads compete with the work (measured: 0.24 ms vs 0.03 ms per 10^5-element kernel
# under load). Set before numba starts the pool; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
