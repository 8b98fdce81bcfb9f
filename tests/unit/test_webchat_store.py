"""Web chat sessions in the database: idle expiry, kept alive by the resident's messages,
and ended on request, messages and all; on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from bot.storage import webchat as store

START = datetime(2026, 12, 14, 8, 0, tzinfo=timezone.utc)
IDLE = timedelta(hours=24)


def rows(engine: Engine, table: object, sender_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)
                            .where(table.c.sender_id == sender_id)).scalar_one()


def session_with_messages(engine: Engine) -> tuple[str, str]:
    token, sender_id = store.create_session(engine, now=START)
    store.append(engine, sender_id, "resident", {"text": "kurkku on kipeä"})
    store.append(engine, sender_id, "bot", {"text": "Kuinka kauan?"})
    return token, sender_id


def test_a_session_lives_until_idle_past_the_limit(any_engine: Engine) -> None:
    token, sender_id = session_with_messages(any_engine)
    almost = START + IDLE - timedelta(minutes=1)
    assert store.sender_for(any_engine, token, IDLE, now=almost) == sender_id
    # reading (history, polling) does not keep a session alive: only writing does
    assert store.sender_for(any_engine, token, IDLE, now=START + IDLE + timedelta(minutes=1)) \
        is None
    assert rows(any_engine, store.webchat_sessions, sender_id) == 0
    assert rows(any_engine, store.webchat_messages, sender_id) == 0
    assert store.messages_after(any_engine, sender_id) == []


def test_a_message_keeps_the_session_alive(any_engine: Engine) -> None:
    token, sender_id = session_with_messages(any_engine)
    later = START + timedelta(hours=20)
    assert store.touch(any_engine, sender_id, IDLE, now=later)
    day_after = START + timedelta(hours=30)
    assert store.sender_for(any_engine, token, IDLE, now=day_after) == sender_id
    assert store.sender_for(any_engine, token, IDLE, now=later + IDLE + timedelta(seconds=1)) \
        is None


def test_touching_a_session_idle_too_long_ends_it(any_engine: Engine) -> None:
    """A socket opened yesterday still holds the conversation id; its next message
    finds the session over."""
    token, sender_id = session_with_messages(any_engine)
    assert not store.touch(any_engine, sender_id, IDLE, now=START + IDLE + timedelta(hours=1))
    assert rows(any_engine, store.webchat_sessions, sender_id) == 0
    assert rows(any_engine, store.webchat_messages, sender_id) == 0


def test_ending_deletes_the_session_and_its_messages_only(any_engine: Engine) -> None:
    token, sender_id = session_with_messages(any_engine)
    other_token, other = session_with_messages(any_engine)
    store.end_session(any_engine, sender_id)
    assert store.sender_for(any_engine, token, IDLE, now=START) is None
    assert rows(any_engine, store.webchat_messages, sender_id) == 0
    assert not store.touch(any_engine, sender_id, IDLE, now=START)
    assert store.sender_for(any_engine, other_token, IDLE, now=START) == other
    assert [m.seq for m in store.messages_after(any_engine, other)] == [1, 2]


def test_a_session_from_before_the_migration_counts_from_its_creation(
        any_engine: Engine) -> None:
    token, sender_id = session_with_messages(any_engine)
    with any_engine.begin() as conn:
        conn.execute(update(store.webchat_sessions).values(last_active_at=None))
    assert store.sender_for(any_engine, token, IDLE, now=START + timedelta(hours=23)) \
        == sender_id
    assert store.touch(any_engine, sender_id, IDLE, now=START + timedelta(hours=23))
    assert store.sender_for(any_engine, token, IDLE, now=START + timedelta(hours=46)) \
        == sender_id


def test_unknown_and_malformed_tokens(any_engine: Engine) -> None:
    store.create_session(any_engine, now=START)
    for token in ("", "forged", "x" * 1000):
        assert store.sender_for(any_engine, token, IDLE, now=START) is None
