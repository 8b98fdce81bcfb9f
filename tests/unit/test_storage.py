"""The database layer on SQLite and on the real PostgreSQL, and rendered endpoints."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy

from bot.settings import Settings, load_settings
from bot.storage.db import init_db
from bot.storage.endpoints import lock_store_config, render_endpoints, tracker_store_config

HEAD = "0006"
APP_TABLES = {
    "alembic_version", "care_units", "care_unit_texts", "care_unit_exceptions",
    "webchat_sessions", "webchat_messages", "sms_numbers", "sms_inbound", "sms_outbox",
    "sms_seen", "nurses", "nurse_sessions", "login_throttle", "tickets", "ticket_messages",
    "audit_log",
}


def settings_for(tmp_path: Path, database_url: str = "") -> Settings:
    return replace(load_settings(), var_dir=tmp_path / "var", database_url=database_url)


def table_names(database_url: str) -> set[str]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_default_is_created_under_var_and_migrations_are_idempotent(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    assert init_db(settings) == HEAD
    assert init_db(settings) == HEAD
    assert (tmp_path / "var" / "healthbot.db").exists()
    assert table_names(settings.effective_database_url) == APP_TABLES


@pytest.mark.integration
def test_postgresql(tmp_path: Path, postgres_url: str) -> None:
    settings = settings_for(tmp_path, postgres_url)
    assert init_db(settings) == HEAD
    assert init_db(settings) == HEAD
    assert table_names(postgres_url) == APP_TABLES


def test_endpoints_follow_database_and_redis_urls(tmp_path: Path) -> None:
    assert tracker_store_config("postgresql://bot:secret@db.internal:6543/health") == {
        "type": "SQL", "dialect": "postgresql", "db": "health",
        "url": "db.internal", "port": 6543, "username": "bot",
        "password": "${HEALTHBOT_DB_PASSWORD}",  # Rasa expands it; the file holds no secret
    }
    with_options = tracker_store_config("postgresql://bot@db/health?sslmode=require")
    assert with_options["query"] == {"sslmode": "require"}
    assert tracker_store_config("sqlite:////tmp/x.db") == {
        "type": "SQL", "dialect": "sqlite", "db": "/tmp/x.db",
    }
    assert lock_store_config("redis://:pw@127.0.0.1:6380/2") == {
        "type": "bot.storage.locks.AtomicRedisLockStore", "url": "127.0.0.1", "port": 6380,
        "db": 2, "password": "${HEALTHBOT_REDIS_PASSWORD}",
    }
    assert lock_store_config("") is None
    settings = replace(settings_for(tmp_path), action_port=6055, redis_url="redis://127.0.0.1")
    endpoints = render_endpoints(settings)
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True
    assert endpoints["lock_store"]["type"] == "bot.storage.locks.AtomicRedisLockStore"
    assert endpoints["event_broker"] == {"type": "bot.metrics.MetricsBroker"}
    assert endpoints["nlg"] == {"type": "bot.translation.nlg.TranslatingNLG"}
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        tracker_store_config("mysql://root@localhost/test")


@pytest.mark.integration
def test_redis_tickets_are_unique_when_processes_ask_at_once() -> None:
    """Rasa's own store reads, changes and writes the lock; ours holds a mutex around
    that, so tickets asked for at the same moment never collide (real Redis)."""
    from concurrent.futures import ThreadPoolExecutor

    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig.from_dict(lock_store_config("redis://127.0.0.1:6379/9"))
    stores = [LockStore.create(config) for _ in range(4)]  # one per "process"
    conversation = f"race-{os.getpid()}-{time.time_ns()}"
    with ThreadPoolExecutor(8) as pool:
        tickets = list(pool.map(lambda i: stores[i % 4].issue_ticket(conversation),
                                range(80)))
    assert sorted(tickets) == list(range(80))
    stores[0].delete_lock(conversation)
