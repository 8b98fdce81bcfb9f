"""SQLAlchemy engine, shared metadata and Alembic migrations for the app's own tables.

SQLite under `var/` is the embedded default; `DATABASE_URL` points the whole
system (the app's tables and Rasa's tracker store) at PostgreSQL instead.
Alembic's `alembic_version` table records which migrations a database has had.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine

from bot.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Every app table is defined on this metadata (see `bot.clinics.directory`).
metadata = MetaData()


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; creates the SQLite folder if needed."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, pool_pre_ping=True)


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
