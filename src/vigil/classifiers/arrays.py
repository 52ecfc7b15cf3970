"""Weight files every kind writes the same way: deterministic ``.npz`` bytes, no pickle."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.classifiers.base import Scores


def write_npz(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    """A compressed .npz with fixed timestamps, so the same training gives the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as fh:
                np.lib.format.write_array(fh, array, allow_pickle=False)


def sigmoid(z: NDArray[np.float64]) -> Scores:
    """The logistic function, clipped so huge margins never overflow."""
    return (1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float32)
