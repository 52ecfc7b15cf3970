"""Strikes: weighted, expiring marks on an account for upheld violations, and its standing."""
