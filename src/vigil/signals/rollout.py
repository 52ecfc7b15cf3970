"""Staged roll-outs: which items a bank is matched against.

A bank with ``rollout`` 0.25 sees a quarter of items. The choice hashes the
bank id with the item id, so a re-scan picks the same items, raising the share
only adds items (an item in at 0.25 stays in at 0.5), and two banks at 0.5 see
independent halves rather than the same one.
"""

from __future__ import annotations

import hashlib


def rollout_position(bank_id: int, item_id: int) -> float:
    """A stable, uniformly spread number in [0, 1) for this bank and item."""
    digest = hashlib.sha256(f"vigil-rollout:{bank_id}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_rollout(rollout: float, bank_id: int, item_id: int) -> bool:
    if rollout >= 1.0:
        return True
    if rollout <= 0.0:
        return False
    return rollout_position(bank_id, item_id) < rollout
