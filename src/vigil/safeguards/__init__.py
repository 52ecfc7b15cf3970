"""Brakes on automated enforcement: the match-rate safeguard."""
