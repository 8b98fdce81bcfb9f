"""Web chat sessions and their delivery queue.

A browser holds an unguessable token; only its SHA-256 is stored, and the
conversation id Rasa sees (`sender_id`) is separate from it. Every message of a
session, the resident's and the assistant's, gets the next sequence number, so
a browser that was away asks for everything after the last number it saw and
gets each message once, in order; the same table gives the history on reload.

A session is over when the resident ends it or after a period without a message from
them (`WEBCHAT_IDLE_HOURS`): on a shared computer the next person finds nothing.
Either way the session and its messages are deleted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import metadata, utcnow

AUTHORS = ("resident", "bot", "nurse")
_TOKEN_BYTES = 32
_INSERT_ATTEMPTS = 5

webchat_sessions = Table(
    "webchat_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("sender_id", String(64), nullable=False, unique=True),
    Column("acked_seq", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: The resident's latest message (NULL in rows older than migration 0006: created_at).
    Column("last_active_at", DateTime(timezone=True)),
)

webchat_messages = Table(
    "webchat_messages",
    metadata,
    Column("sender_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("author", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("author IN ('resident', 'bot', 'nurse')", name="ck_webchat_messages_author"),
)


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    author: str
    payload: dict[str, Any]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(engine: Engine, now: datetime | None = None) -> tuple[str, str]:
    """A new (token, sender_id); the token is shown once, to the browser."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    sender_id = f"webchat-{secrets.token_hex(12)}"
    now = now or utcnow()
    with engine.begin() as conn:
        conn.execute(webchat_sessions.insert().values(
            token_hash=_hash(token), sender_id=sender_id, created_at=now, last_active_at=now
        ))
    return token, sender_id


def _last_active() -> Any:
    return func.coalesce(webchat_sessions.c.last_active_at, webchat_sessions.c.created_at)


def _delete(conn: Connection, sender_id: str) -> None:
    conn.execute(delete(webchat_messages).where(webchat_messages.c.sender_id == sender_id))
    conn.execute(delete(webchat_sessions).where(webchat_sessions.c.sender_id == sender_id))


def sender_for(engine: Engine, token: str, idle_limit: timedelta,
               now: datetime | None = None) -> str | None:
    """The conversation a token belongs to, or None for an unknown token; a session
    idle longer than `idle_limit` is deleted here, with its messages, and is unknown."""
    if not token or len(token) > 2 * _TOKEN_BYTES:
        return None
    cutoff = (now or utcnow()) - idle_limit
    with engine.begin() as conn:
        row = conn.execute(
            select(webchat_sessions.c.sender_id, (_last_active() < cutoff).label("idle"))
            .where(webchat_sessions.c.token_hash == _hash(token))
        ).one_or_none()
        if row is None:
            return None
        if row.idle:
            _delete(conn, row.sender_id)
            return None
        return row.sender_id


def touch(engine: Engine, sender_id: str, idle_limit: timedelta,
          now: datetime | None = None) -> bool:
    """The resident wrote: the session stays alive for another `idle_limit`. False when
    it is over (ended, or idle past the limit while a socket stayed open); an idle
    one is deleted then."""
    now = now or utcnow()
    with engine.begin() as conn:
        touched = conn.execute(
            update(webchat_sessions)
            .where(webchat_sessions.c.sender_id == sender_id,
                   _last_active() >= now - idle_limit)
            .values(last_active_at=now)
        ).rowcount
        if not touched:
            _delete(conn, sender_id)
        return bool(touched)


def end_session(engine: Engine, sender_id: str) -> None:
    """The resident ended the conversation: the session and its messages are deleted."""
    with engine.begin() as conn:
        _delete(conn, sender_id)


def _next_seq(conn: Connection, sender_id: str) -> int:
    current = conn.execute(
        select(func.max(webchat_messages.c.seq)).where(webchat_messages.c.sender_id == sender_id)
    ).scalar_one_or_none()
    return (current or 0) + 1


def append(engine: Engine, sender_id: str, author: str, payload: dict[str, Any]) -> int:
    """Store one message with the session's next number; two writers racing for the same
    number (several server processes) retry, so none is lost or reordered."""
    if author not in AUTHORS:
        raise ValueError(f"unknown author {author!r}")
    for _ in range(_INSERT_ATTEMPTS):
        try:
            with engine.begin() as conn:
                seq = _next_seq(conn, sender_id)
                conn.execute(webchat_messages.insert().values(
                    sender_id=sender_id, seq=seq, author=author,
                    payload=json.dumps(payload, ensure_ascii=False),
                    created_at=utcnow(),
                ))
                return seq
        except IntegrityError:
            continue
    raise RuntimeError(f"could not store a message for {sender_id} after retries")


def messages_after(engine: Engine, sender_id: str, after: int = 0) -> list[StoredMessage]:
    """Messages with a number above `after`, in order (after=0: the whole history)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(webchat_messages)
            .where(webchat_messages.c.sender_id == sender_id, webchat_messages.c.seq > after)
            .order_by(webchat_messages.c.seq)
        )
        return [StoredMessage(row.seq, row.author, json.loads(row.payload)) for row in rows]


def acknowledge(engine: Engine, sender_id: str, seq: int) -> None:
    """The browser has shown everything up to `seq`; the mark only moves forward."""
    with engine.begin() as conn:
        conn.execute(
            update(webchat_sessions)
            .where(webchat_sessions.c.sender_id == sender_id, webchat_sessions.c.acked_seq < seq)
            .values(acked_seq=seq)
        )
