"""The fast tier: in-process tests on SQLite files. A test that needs a subprocess,
PostgreSQL or Redis is marked `integration` and runs with the slower tiers; the guard
below makes any other test that tries fail at once, so the tier stays fast and needs
no running service.

Also fixtures for tests that need the clinic directory in a real database."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.clinics.directory import read_csv
from bot.settings import Settings, load_settings
from bot.storage.db import init_db, make_engine
from bot.storage.directory import import_units

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


#: PostgreSQL and Redis: only `integration` tests may reach them.
SERVICE_PORTS = {5432, 6379}


@pytest.fixture(autouse=True)
def _in_process_only(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("integration"):
        return

    def no_subprocess(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the fast tier runs no subprocess: mark the test integration")

    connect = socket.socket.connect

    def no_services(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and len(address) >= 2 and address[1] in SERVICE_PORTS:
            raise AssertionError(f"the fast tier reaches no service ({address[1]}): "
                                 "mark the test integration")
        return connect(sock, address)

    monkeypatch.setattr(subprocess.Popen, "__init__", no_subprocess)
    monkeypatch.setattr(socket.socket, "connect", no_services)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with migrated_engine(settings_for(tmp_path)) as migrated:
        yield migrated


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
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
