"""Loading generated demo files into a database (shared by ``vigil demo`` and the benchmark)."""

from __future__ import annotations

from sqlalchemy import Engine

from vigil.banks.services import create_bank, import_file
from vigil.demo.generator import DemoFiles
from vigil.unit_of_work import unit_of_work


def import_banks(engine: Engine, files: DemoFiles) -> None:
    """Load the demo's bank files into the database (one transaction)."""
    with unit_of_work(engine) as uow:
        for bank in files.banks:
            if bank.transforms:
                create_bank(
                    uow,
                    bank.name,
                    kind=bank.kind.value,
                    category=bank.category,
                    source=bank.source,
                    match_transforms=True,
                )
            import_file(
                uow,
                bank.path,
                bank.name,
                kind=bank.kind.value,
                category=bank.category,
                source=bank.source,
            )
