"""SMS numbers, the inbound queue and the outbox.

* `sms_numbers`: per pseudonym, the number (Fernet-encrypted, for delivery only),
  the conversation language that sticks to it, the opt-out flag, and the options
  of the last reply that a numbered answer refers to.
* `sms_inbound`: every operator webhook, keyed by `MessageSid`, so a retried
  webhook is processed once; the text is kept until it has been processed, so a
  crash after the webhook was answered loses nothing, and then erased.
* `sms_seen`: the SHA-256 of every `MessageSid` ever received. Twilio's signatures
  carry no time, so a captured webhook stays valid; the retention purge deletes
  `sms_inbound` rows but never these, so a replay is never processed twice.
* `sms_outbox`: every SMS to send, in order per number, with attempts and the time
  of the next one; a row being sent is leased, so a crashed sender's rows return.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    and_,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.db import as_utc, metadata

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")

sms_numbers = Table(
    "sms_numbers",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("number_encrypted", Text, nullable=False),
    Column("language", String(8)),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    Column("options", Text, nullable=False, server_default="[]"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sms_inbound = Table(
    "sms_inbound",
    metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("pseudonym", String(64), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("num_media", Integer, nullable=False, server_default="0"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("processed_at", DateTime(timezone=True)),
)

sms_seen = Table(
    "sms_seen",
    metadata,
    Column("sid_hash", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(64), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("segments", Integer, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("provider_sid", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')",
                    name="ck_sms_outbox_status"),
)


@dataclass(frozen=True)
class NumberState:
    pseudonym: str
    number_encrypted: str
    language: str | None
    opted_out: bool
    options: list[dict[str, str]]


@dataclass(frozen=True)
class Inbound:
    message_sid: str
    pseudonym: str
    body: str
    num_media: int


@dataclass(frozen=True)
class OutboxRow:
    id: int
    pseudonym: str
    body: str
    attempts: int


def remember_number(engine: Engine, pseudonym: str, number_encrypted: str,
                    now: datetime) -> NumberState:
    """The number's state, created on its first message."""
    with engine.begin() as conn:
        row = conn.execute(select(sms_numbers).where(sms_numbers.c.pseudonym == pseudonym)).first()
        if row is None:
            try:
                conn.execute(sms_numbers.insert().values(
                    pseudonym=pseudonym, number_encrypted=number_encrypted, opted_out=False,
                    options="[]", created_at=now, updated_at=now))
            except IntegrityError:  # another process stored it first
                pass
            row = conn.execute(
                select(sms_numbers).where(sms_numbers.c.pseudonym == pseudonym)).one()
    return NumberState(row.pseudonym, row.number_encrypted, row.language, bool(row.opted_out),
                       json.loads(row.options))


def number_state(engine: Engine, pseudonym: str) -> NumberState | None:
    with engine.connect() as conn:
        row = conn.execute(select(sms_numbers).where(sms_numbers.c.pseudonym == pseudonym)).first()
    if row is None:
        return None
    return NumberState(row.pseudonym, row.number_encrypted, row.language, bool(row.opted_out),
                       json.loads(row.options))


def update_number(engine: Engine, pseudonym: str, now: datetime, **values: Any) -> None:
    """Set `language`, `opted_out` or `options` (a list of {title, payload})."""
    if "options" in values:
        values["options"] = json.dumps(values["options"], ensure_ascii=False)
    with engine.begin() as conn:
        conn.execute(update(sms_numbers).where(sms_numbers.c.pseudonym == pseudonym)
                     .values(updated_at=now, **values))


def _sid_hash(message_sid: str) -> str:
    return hashlib.sha256(message_sid.encode()).hexdigest()


def seen(engine: Engine, message_sid: str) -> bool:
    """Whether this MessageSid was ever received (however long ago)."""
    with engine.connect() as conn:
        return conn.execute(select(sms_seen.c.sid_hash).where(
            sms_seen.c.sid_hash == _sid_hash(message_sid))).first() is not None


def receive(engine: Engine, message_sid: str, pseudonym: str, body: str, num_media: int,
            now: datetime) -> bool:
    """Queue an operator webhook; False when this MessageSid was ever received before."""
    try:
        with engine.begin() as conn:
            conn.execute(sms_seen.insert().values(sid_hash=_sid_hash(message_sid), seen_at=now))
            conn.execute(sms_inbound.insert().values(
                message_sid=message_sid, pseudonym=pseudonym, body=body, num_media=num_media,
                received_at=now))
        return True
    except IntegrityError:
        return False


def claim_inbound(engine: Engine, now: datetime, stale_after: timedelta,
                  message_sid: str | None = None) -> list[Inbound]:
    """Unprocessed messages nobody is working on (or whose worker died), claimed for
    this process, oldest first; with `message_sid`, only that one."""
    claimable = and_(sms_inbound.c.processed_at.is_(None),
                     or_(sms_inbound.c.claimed_at.is_(None),
                         sms_inbound.c.claimed_at < now - stale_after))
    if message_sid is not None:
        claimable = and_(claimable, sms_inbound.c.message_sid == message_sid)
    claimed: list[Inbound] = []
    with engine.begin() as conn:
        rows = conn.execute(select(sms_inbound).where(claimable)
                            .order_by(sms_inbound.c.received_at)).all()
        for row in rows:
            won = conn.execute(update(sms_inbound).where(
                sms_inbound.c.message_sid == row.message_sid, claimable,
            ).values(claimed_at=now)).rowcount
            if won:
                claimed.append(Inbound(row.message_sid, row.pseudonym, row.body, row.num_media))
    return claimed


def mark_processed(engine: Engine, message_sid: str, now: datetime) -> None:
    """Done: the text now lives only in the conversation's tracker."""
    with engine.begin() as conn:
        conn.execute(update(sms_inbound).where(sms_inbound.c.message_sid == message_sid)
                     .values(processed_at=now, body=""))


def enqueue(engine: Engine, pseudonym: str, bodies: list[tuple[str, int, str]],
            now: datetime) -> list[int]:
    """Queue (body, segments, encoding) SMS for a number, in this order."""
    ids = []
    with engine.begin() as conn:
        for body, segments, encoding in bodies:
            result = conn.execute(sms_outbox.insert().values(
                pseudonym=pseudonym, body=body, segments=segments, encoding=encoding,
                status="pending", attempts=0, next_attempt_at=now, created_at=now))
            ids.append(result.inserted_primary_key[0])
    return ids


def claim_due(engine: Engine, now: datetime, lease: timedelta, limit: int = 50) -> list[OutboxRow]:
    """The next SMS of each number that is due, leased to this sender. A number's later
    SMS wait while an earlier one is unsent, so each number gets them in order."""
    open_rows = or_(sms_outbox.c.status == "pending", sms_outbox.c.status == "sending")
    with engine.begin() as conn:
        conn.execute(update(sms_outbox).where(
            sms_outbox.c.status == "sending", sms_outbox.c.lease_until < now,
        ).values(status="pending", lease_until=None))
        rows = conn.execute(select(sms_outbox).where(open_rows)
                            .order_by(sms_outbox.c.id).limit(limit * 4)).all()
        seen: set[str] = set()
        claimed: list[OutboxRow] = []
        for row in rows:
            if row.pseudonym in seen:
                continue
            seen.add(row.pseudonym)
            due = row.status == "pending" and as_utc(row.next_attempt_at) <= now
            if not due or len(claimed) >= limit:
                continue
            won = conn.execute(update(sms_outbox).where(
                sms_outbox.c.id == row.id, sms_outbox.c.status == "pending",
            ).values(status="sending", lease_until=now + lease)).rowcount
            if won:
                claimed.append(OutboxRow(row.id, row.pseudonym, row.body, row.attempts))
    return claimed


def mark_sent(engine: Engine, row_id: int, provider_sid: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(sms_outbox).where(sms_outbox.c.id == row_id).values(
            status="sent", provider_sid=provider_sid, sent_at=now, lease_until=None,
            attempts=sms_outbox.c.attempts + 1))


def mark_retry(engine: Engine, row_id: int, error: str, next_attempt_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(sms_outbox).where(sms_outbox.c.id == row_id).values(
            status="pending", last_error=error[:500], next_attempt_at=next_attempt_at,
            lease_until=None, attempts=sms_outbox.c.attempts + 1))


def mark_failed(engine: Engine, row_id: int, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(sms_outbox).where(sms_outbox.c.id == row_id).values(
            status="failed", last_error=error[:500], lease_until=None,
            attempts=sms_outbox.c.attempts + 1))


def outbox_counts(engine: Engine) -> dict[str, int]:
    """Rows by status: the backlog an operator watches."""
    with engine.connect() as conn:
        rows = conn.execute(select(sms_outbox.c.status, func.count())
                            .group_by(sms_outbox.c.status)).all()
    return {status: 0 for status in OUTBOX_STATUSES} | {status: n for status, n in rows}
