"""Signals: evidence that an item matched a bank entry or was reported."""
