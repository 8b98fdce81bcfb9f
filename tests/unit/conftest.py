"""Fixtures for unit tests that need the clinic directory in a real database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.clinics.directory import import_units, read_csv
from bot.settings import Settings, load_settings
from bot.storage.db import init_db, make_engine

CSV = Path(__file__).resolve().parents[2] / "data" / "clinics" / "helsinki-health-services.csv"


def settings_for(tmp_path: Path, database_url: str = "") -> Settings:
    return replace(load_settings(), var_dir=tmp_path / "var", database_url=database_url)


@contextmanager
def migrated_engine(settings: Settings) -> Iterator[Engine]:
    init_db(settings)
    engine = make_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with migrated_engine(settings_for(tmp_path)) as migrated:
        yield migrated


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database file on SQLite, or a fresh schema on the real PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    with migrated_engine(settings_for(tmp_path, url)) as migrated:
        yield migrated


@pytest.fixture
def loaded_engine(engine: Engine) -> Engine:
    """A SQLite database holding the project's directory CSV."""
    import_units(engine, read_csv(CSV))
    return engine
