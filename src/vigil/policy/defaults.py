"""The code of practice shipped with Vigil, read from the installed package.

Found through :mod:`importlib.resources` so it works from a wheel as well as
from a source checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEFAULT_POLICY_RESOURCE = "default.yaml"


def default_policy_path() -> Path:
    """Where the default policy file lies (for showing to users and copying)."""
    return Path(str(files("vigil.policy").joinpath(DEFAULT_POLICY_RESOURCE)))


def default_policy_text() -> str:
    """The exact text of the default policy, as hashed when it is activated."""
    data = files("vigil.policy").joinpath(DEFAULT_POLICY_RESOURCE).read_bytes()
    return data.decode("utf-8")
