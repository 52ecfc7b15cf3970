"""The demo: deterministic synthetic data run through the whole spine, with an HTML report."""
