"""Figures of the suites (matplotlib, Agg canvases; no global backend state)."""
