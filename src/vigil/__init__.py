"""Vigil: an open-source trust & safety engine.

Items flow one way through the spine: ingest, signals, policy verdict, case,
decision, action, statement of reasons. Every state change is an event in one
hash-chained audit log written in the same transaction as the change.
"""

__version__ = "0.1.0"
