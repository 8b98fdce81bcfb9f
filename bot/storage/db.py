"""SQLAlchemy engine, shared metadata and Alembic migrations for the app's own tables.

SQLite under `var/` is the embedded default; `DATABASE_URL` points the whole
system (the app's tables and Rasa's tracker store) at PostgreSQL instead.
Alembic's `alembic_version` table records which migrations a database has had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine

from bot.settings import Settings, load_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")

#: Every app table is defined on this metadata, in the modules of `bot.storage`.
metadata = MetaData()


def utcnow() -> datetime:
    """The real clock, in UTC, for stored times (also when HEALTHBOT_NOW fixes the
    dialogue's clock for opening hours)."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """Every stored time is UTC; SQLite gives them back without the zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; creates the SQLite folder if needed."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, pool_pre_ping=True)


@cache
def process_engine() -> Engine:
    """The one engine of a process (its pool is shared by every module that stores)."""
    return make_engine(load_settings())


async def in_thread(engine: Engine, function: Callable[..., T], *args: Any,
                    **kwargs: Any) -> T:
    """`function(engine, ...)` in a worker thread: SQLAlchemy is synchronous, and async
    code (channels, actions) must keep the event loop serving meanwhile."""
    return await asyncio.to_thread(partial(function, engine, *args, **kwargs))


def alembic_config(database_url: str) -> Config:
    """Built in code, so no alembic.ini has to ship next to the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The value goes through configparser interpolation, where "%" is special.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def init_db(settings: Settings) -> str:
    """Apply missing migrations and return the revision the database is at; safe to rerun."""
    engine = make_engine(settings)
    try:
        command.upgrade(alembic_config(settings.effective_database_url), "head")
        with engine.connect() as conn:
            return str(MigrationContext.configure(conn).get_current_revision())
    finally:
        engine.dispose()
