"""Benchmark suite definitions (parameter grids only), installed as ``fibench.suites``."""
