"""Where Vigil keeps its data when the caller does not say."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

DB_ENV = "VIGIL_DB"


def default_data_dir() -> Path:
    """The per-user data directory (``~/.local/share/vigil`` on Linux)."""
    return Path(os.environ.get("VIGIL_DATA_DIR") or user_data_dir("vigil", appauthor=False))


def default_db_url() -> str:
    """``$VIGIL_DB`` if set, else an SQLite file in the user's data directory."""
    if url := os.environ.get(DB_ENV):
        return url
    path = default_data_dir() / "vigil.db"
    return f"sqlite:///{path}"
