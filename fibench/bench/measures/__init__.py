"""One measure module per suite: ``run_point(params) -> list[dict]`` (tidy rows)."""
