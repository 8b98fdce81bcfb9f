"""SQLAlchemy engine and schema for the app's own tables.

SQLite under `var/` is the embedded default; `DATABASE_URL` points the whole
system (the app's tables and Rasa's tracker store) at PostgreSQL instead.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.engine import Engine

from bot.settings import Settings

SCHEMA_VERSION = 1

metadata = MetaData()

schema_info = Table(
    "healthbot_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("component", String(64), nullable=False, unique=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; creates the SQLite folder if needed."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, pool_pre_ping=True)


def init_db(settings: Settings) -> int:
    """Create missing tables and record the schema version; safe to run again."""
    engine = make_engine(settings)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            row = conn.execute(
                select(schema_info.c.version).where(schema_info.c.component == "app")
            ).first()
            if row is None:
                conn.execute(
                    schema_info.insert().values(
                        version=SCHEMA_VERSION,
                        component="app",
                        applied_at=datetime.now(timezone.utc),
                    )
                )
                return SCHEMA_VERSION
            return int(row.version)
    finally:
        engine.dispose()
