"""Requests and orders from authorities: intake, safeguards, productions, user notice."""
