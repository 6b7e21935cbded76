"""Federated inference: data, partitions, local models, ensembles, secure inference (M1/M2 x T1/T2)."""
