"""A model trained once per session on the synthetic set, for tests that need one of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classifiers.synthetic import examples, write
from vigil.classifiers.lexical import LexicalParams
from vigil.classifiers.training import train_file

SMALL = LexicalParams(hash_bits=16, min_df=2, max_features=20_000)


@pytest.fixture(scope="session")
def synthetic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = write(folder / "train.jsonl", examples(300, seed=1))
    out = folder / "synthetic-threat"
    train_file(data, ["threat", "spam"], out, name="synthetic-threat", version="0.1", params=SMALL)
    return out
