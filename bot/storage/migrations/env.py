"""Alembic environment: migrates the database named by the config's `sqlalchemy.url`.

`bot.storage.db.alembic_config` builds that config in code; the directory module is
imported so `target_metadata` holds every app table for `alembic revision --autogenerate`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import bot.storage.directory  # noqa: F401  (registers the directory tables on metadata)
import bot.storage.handoff  # noqa: F401  (the handoff tables)
import bot.storage.sms  # noqa: F401  (the SMS tables)
import bot.storage.webchat  # noqa: F401  (and the web chat tables)
from bot.storage.db import metadata

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
