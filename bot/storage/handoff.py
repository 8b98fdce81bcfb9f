"""Nurse handoff: tickets and their messages, nurse accounts and console sessions,
sign-in throttle counters, and the audit log.

A conversation has at most one open ticket (`waiting` or `claimed`); asking again
while one is open returns it. Only the nurse who claimed a ticket may reply to it or
close it: the checks are in the UPDATE statements, so two nurses racing cannot both win.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    case,
    delete,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import as_utc, metadata, utcnow

OPEN_STATUSES = ("waiting", "claimed")
MESSAGE_AUTHORS = ("resident", "nurse", "bot")
#: Queue order: the most urgent triage level first; a ticket without triage after `routine`.
LEVEL_RANK = {"emergency": 0, "urgent": 1, "same_day": 2, "routine": 3, "self_care": 5}
_NO_LEVEL_RANK = 4

nurses = Table(
    "nurses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("language", String(8), nullable=False, server_default="fi"),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

nurse_sessions = Table(
    "nurse_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("nurse_id", Integer, ForeignKey("nurses.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("blocked_until", DateTime(timezone=True)),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(64), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("language", String(8)),
    Column("topic", String(64)),
    Column("level", String(16)),
    Column("summary", Text, nullable=False, server_default="{}"),
    Column("status", String(16), nullable=False, server_default="waiting"),
    Column("nurse_id", Integer, ForeignKey("nurses.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('waiting', 'claimed', 'closed')", name="ck_tickets_status"),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("author", String(16), nullable=False),
    Column("nurse_id", Integer, ForeignKey("nurses.id")),
    Column("text", Text, nullable=False),
    Column("language", String(8)),
    # A nurse's reply as the resident received it, machine-translated (migration 0005).
    Column("translation", Text),
    Column("translation_language", String(8)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("author IN ('resident', 'nurse', 'bot')", name="ck_ticket_messages_author"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("nurse_id", Integer, ForeignKey("nurses.id")),
    Column("action", String(32), nullable=False),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="SET NULL")),
    Column("detail", Text, nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --------------------------------------------------------------------------- nurses


@dataclass(frozen=True)
class Nurse:
    id: int
    email: str
    language: str
    password_hash: str = field(repr=False)


def _nurse(row: Any) -> Nurse:
    return Nurse(row.id, row.email, row.language, row.password_hash)


def add_nurse(engine: Engine, email: str, password_hash: str, language: str = "fi") -> int:
    """A new account, or ValueError when the address is taken."""
    try:
        with engine.begin() as conn:
            result = conn.execute(nurses.insert().values(
                email=email.strip().lower(), password_hash=password_hash, language=language,
                active=True, created_at=utcnow()))
            return int(result.inserted_primary_key[0])
    except IntegrityError as exc:
        raise ValueError(f"a nurse account for {email} already exists") from exc


def nurse_by_email(engine: Engine, email: str) -> Nurse | None:
    with engine.connect() as conn:
        row = conn.execute(select(nurses).where(nurses.c.email == email.strip().lower(),
                                                nurses.c.active.is_(True))).first()
    return _nurse(row) if row else None


def set_language(engine: Engine, email: str, language: str) -> bool:
    """The language a nurse reads; False when there is no such account."""
    with engine.begin() as conn:
        result = conn.execute(update(nurses).where(nurses.c.email == email.strip().lower())
                              .values(language=language))
        return result.rowcount > 0


def set_password_hash(engine: Engine, nurse_id: int, password_hash: str) -> None:
    """After a login, when the hashing parameters have been raised since the account was made."""
    with engine.begin() as conn:
        conn.execute(update(nurses).where(nurses.c.id == nurse_id)
                     .values(password_hash=password_hash))


def create_session(engine: Engine, nurse_id: int, token: str, csrf_token: str,
                   lifetime: timedelta) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(nurse_sessions.insert().values(
            token_hash=token_hash(token), nurse_id=nurse_id, csrf_token=csrf_token,
            created_at=now, expires_at=now + lifetime))


def session_nurse(engine: Engine, token: str) -> tuple[Nurse, str] | None:
    """The nurse and CSRF token of a live session."""
    with engine.connect() as conn:
        row = conn.execute(
            select(nurses, nurse_sessions.c.csrf_token, nurse_sessions.c.expires_at)
            .join(nurse_sessions, nurse_sessions.c.nurse_id == nurses.c.id)
            .where(nurse_sessions.c.token_hash == token_hash(token), nurses.c.active.is_(True))
        ).first()
    if row is None or as_utc(row.expires_at) <= utcnow():
        return None
    return _nurse(row), row.csrf_token


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(nurse_sessions).where(nurse_sessions.c.token_hash == token_hash(token)))


# --------------------------------------------------------------------------- sign-in throttle


@dataclass(frozen=True)
class Throttle:
    """The failed sign-ins counted under one key (see `bot.handoff.signin`)."""

    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None

    @property
    def idle(self) -> bool:
        """Nothing counted and nothing blocked: no row is kept for it."""
        return self.failures == 0 and self.blocked_until is None


T = TypeVar("T")
ThrottleDecision = Callable[[dict[str, Throttle]], tuple[T, dict[str, Throttle]]]
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def decide_throttles(engine: Engine, keys: Iterable[str], decide: ThrottleDecision[T]) -> T:
    """Hand the keys' counters to `decide`, store the counters it returns and give back
    its verdict, in one transaction. The rows are written before they are read (which
    takes SQLite's write lock) and read FOR UPDATE (PostgreSQL's row locks), so
    concurrent sign-ins take turns: none decides on a count another is changing."""
    ordered = sorted(set(keys))  # every transaction locks in the same order: no deadlock
    with engine.begin() as conn:
        insert = _INSERTS[conn.dialect.name]
        conn.execute(insert(login_throttle).values([{"key": key, "failures": 0}
                                                    for key in ordered])
                     .on_conflict_do_nothing(index_elements=["key"]))
        rows = conn.execute(select(login_throttle).where(login_throttle.c.key.in_(ordered))
                            .order_by(login_throttle.c.key).with_for_update())
        found = {row.key: Throttle(row.failures, as_utc(row.last_failure_at),
                                   as_utc(row.blocked_until)) for row in rows}
        verdict, changed = decide({key: found.get(key, Throttle()) for key in ordered})
        for key, counter in {**found, **changed}.items():
            if counter.idle:
                conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
            elif key in changed:  # an upsert: a row another sign-in deleted comes back
                values = {"failures": counter.failures,
                          "last_failure_at": counter.last_failure_at,
                          "blocked_until": counter.blocked_until}
                conn.execute(insert(login_throttle).values(key=key, **values)
                             .on_conflict_do_update(index_elements=["key"], set_=values))
    return verdict


# --------------------------------------------------------------------------- tickets


@dataclass(frozen=True)
class TicketMessage:
    id: int
    author: str
    text: str
    language: str | None
    created_at: datetime
    nurse_id: int | None = None
    translation: str | None = None
    translation_language: str | None = None


@dataclass(frozen=True)
class Ticket:
    id: int
    sender_id: str
    channel: str
    language: str | None
    topic: str | None
    level: str | None
    summary: dict[str, Any]
    status: str
    nurse_id: int | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    messages: list[TicketMessage] = field(default_factory=list)

    def waiting_seconds(self, now: datetime) -> int:
        return int(((self.claimed_at or now) - self.created_at).total_seconds())


def _ticket(row: Any, messages: list[TicketMessage] | None = None) -> Ticket:
    return Ticket(row.id, row.sender_id, row.channel, row.language, row.topic, row.level,
                  json.loads(row.summary or "{}"), row.status, row.nurse_id,
                  as_utc(row.created_at), as_utc(row.claimed_at), as_utc(row.closed_at),
                  messages or [])


def open_ticket(engine: Engine, sender_id: str, channel: str, language: str | None,
                topic: str | None, level: str | None, summary: dict[str, Any]) -> Ticket:
    """The conversation's open ticket, or a new waiting one."""
    with engine.begin() as conn:
        row = conn.execute(select(tickets).where(
            tickets.c.sender_id == sender_id, tickets.c.status.in_(OPEN_STATUSES))).first()
        if row is None:
            result = conn.execute(tickets.insert().values(
                sender_id=sender_id, channel=channel, language=language, topic=topic,
                level=level, summary=json.dumps(summary, ensure_ascii=False), status="waiting",
                created_at=utcnow()))
            row = conn.execute(select(tickets).where(
                tickets.c.id == result.inserted_primary_key[0])).one()
    return _ticket(row)


def _rank() -> Any:
    return case(LEVEL_RANK, value=tickets.c.level, else_=_NO_LEVEL_RANK)


def queue(engine: Engine) -> list[Ticket]:
    """Open tickets, most urgent first, then the longest waiting."""
    with engine.connect() as conn:
        rows = conn.execute(select(tickets).where(tickets.c.status.in_(OPEN_STATUSES))
                            .order_by(_rank(), tickets.c.created_at, tickets.c.id)).all()
    return [_ticket(row) for row in rows]


def position(engine: Engine, ticket_id: int) -> int:
    """1 for the next waiting ticket a nurse would take."""
    waiting = [t.id for t in queue(engine) if t.status == "waiting"]
    return waiting.index(ticket_id) + 1 if ticket_id in waiting else 0


def get_ticket(engine: Engine, ticket_id: int) -> Ticket | None:
    with engine.connect() as conn:
        row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
        if row is None:
            return None
        messages = [
            TicketMessage(m.id, m.author, m.text, m.language, as_utc(m.created_at), m.nurse_id,
                          m.translation, m.translation_language)
            for m in conn.execute(select(ticket_messages)
                                  .where(ticket_messages.c.ticket_id == ticket_id)
                                  .order_by(ticket_messages.c.id))
        ]
    return _ticket(row, messages)


def add_message(engine: Engine, ticket_id: int, author: str, text: str,
                language: str | None, nurse_id: int | None = None,
                translation: str | None = None, translation_language: str | None = None) -> int:
    if author not in MESSAGE_AUTHORS:
        raise ValueError(f"unknown author {author!r}")
    with engine.begin() as conn:
        result = conn.execute(ticket_messages.insert().values(
            ticket_id=ticket_id, author=author, text=text, language=language,
            nurse_id=nurse_id, translation=translation,
            translation_language=translation_language, created_at=utcnow()))
        return int(result.inserted_primary_key[0])


def claim(engine: Engine, ticket_id: int, nurse_id: int) -> bool:
    """Only a waiting ticket can be claimed, by one nurse."""
    with engine.begin() as conn:
        return conn.execute(update(tickets).where(
            tickets.c.id == ticket_id, tickets.c.status == "waiting",
        ).values(status="claimed", nurse_id=nurse_id, claimed_at=utcnow())).rowcount == 1


def close(engine: Engine, ticket_id: int, nurse_id: int) -> bool:
    """Only the nurse who claimed a ticket closes it."""
    with engine.begin() as conn:
        return conn.execute(update(tickets).where(
            tickets.c.id == ticket_id, tickets.c.status == "claimed",
            tickets.c.nurse_id == nurse_id,
        ).values(status="closed", closed_at=utcnow())).rowcount == 1


def audit(engine: Engine, nurse_id: int | None, action: str, ticket_id: int | None = None,
          detail: str = "") -> None:
    with engine.begin() as conn:
        conn.execute(audit_log.insert().values(nurse_id=nurse_id, action=action,
                                               ticket_id=ticket_id, detail=detail, at=utcnow()))


def audit_entries(engine: Engine, ticket_id: int | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.id)
    if ticket_id is not None:
        query = query.where(audit_log.c.ticket_id == ticket_id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
