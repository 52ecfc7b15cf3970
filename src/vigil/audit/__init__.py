"""The audit log: one hash-chained, append-only log of every state change."""
