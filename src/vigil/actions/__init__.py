"""Enforcement actions: remove, restrict, suspend, close."""
