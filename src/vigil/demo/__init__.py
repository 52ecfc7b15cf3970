"""The ``vigil demo`` slice: deterministic synthetic data and the HTML report."""
