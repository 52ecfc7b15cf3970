"""Database engine, declarative base and migrations (SQLite by default, PostgreSQL by URL)."""

from vigil.db.engine import make_engine, normalise_url
from vigil.db.migrate import upgrade

__all__ = ["make_engine", "normalise_url", "upgrade"]
