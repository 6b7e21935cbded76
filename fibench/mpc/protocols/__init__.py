"""MPC protocols on shares: sharing, arithmetic (Beaver), truncation, comparison, argmax.

Status for contributors: share/reveal (sharing.py), mul/matmul/truncate (arithmetic.py),
lt/relu (compare.py: a2b and fss), argmax (argmax.py) are all available through
``fibench.mpc.Session``. Secure federated inference (modes M1/M2, topologies T1/T2) is
implemented by the lead in ``fibench/secure_inference.py``; ``FederatedEnsemble.secure_predict``
delegates to it — do not write a second implementation.
"""
