"""Retention: conversations and what hangs on them are deleted after a period.

`healthbot purge --older-than 30d` and, daily, `healthbot run` call `purge`.
A conversation is old when nothing happened in it since the cutoff; its Rasa
tracker goes (Rasa's own `events` table, through Rasa's own table definition),
and so do old tickets with their messages, web chat deliveries and sessions,
SMS queue rows, numbers not heard from (unless they opted out: that choice is
kept), failed logins and expired console sessions. The audit log stays.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, inspect, select, update
from sqlalchemy.engine import Connection, Engine

from bot.storage.db import utcnow
from bot.storage.handoff import audit_log, login_throttle, nurse_sessions, ticket_messages, tickets
from bot.storage.sms import sms_inbound, sms_numbers, sms_outbox
from bot.storage.webchat import webchat_messages, webchat_sessions

_PERIOD = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_period(text: str) -> timedelta:
    """"30d", "12h" or "90m"."""
    match = _PERIOD.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a period such as 30d, 12h or 90m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def purge(engine: Engine, older_than: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than the period; the number of rows deleted, per kind."""
    now = now or utcnow()
    cutoff = now - older_than
    deleted: dict[str, int] = {}
    with engine.begin() as conn:
        deleted["trackers"] = _purge_trackers(conn, cutoff)
        deleted.update(_purge_tickets(conn, cutoff))
        deleted["webchat_messages"] = conn.execute(
            delete(webchat_messages).where(webchat_messages.c.created_at < cutoff)).rowcount
        still_talking = exists().where(webchat_messages.c.sender_id == webchat_sessions.c.sender_id)
        deleted["webchat_sessions"] = conn.execute(delete(webchat_sessions).where(
            webchat_sessions.c.created_at < cutoff, ~still_talking)).rowcount
        deleted["sms_inbound"] = conn.execute(
            delete(sms_inbound).where(sms_inbound.c.received_at < cutoff)).rowcount
        deleted["sms_outbox"] = conn.execute(
            delete(sms_outbox).where(sms_outbox.c.created_at < cutoff)).rowcount
        deleted["sms_numbers"] = conn.execute(delete(sms_numbers).where(
            sms_numbers.c.updated_at < cutoff, sms_numbers.c.opted_out.is_(False))).rowcount
        deleted["login_throttle"] = conn.execute(
            delete(login_throttle).where(login_throttle.c.last_failure_at < cutoff)).rowcount
        deleted["nurse_sessions"] = conn.execute(
            delete(nurse_sessions).where(nurse_sessions.c.expires_at < now)).rowcount
    return deleted


def _purge_tickets(conn: Connection, cutoff: datetime) -> dict[str, int]:
    """Tickets closed (or, never closed, opened) before the cutoff with no message since."""
    recent = exists().where(ticket_messages.c.ticket_id == tickets.c.id,
                            ticket_messages.c.created_at >= cutoff)
    old = [row.id for row in conn.execute(select(tickets.c.id).where(
        func.coalesce(tickets.c.closed_at, tickets.c.created_at) < cutoff, ~recent))]
    if not old:
        return {"tickets": 0, "ticket_messages": 0}
    messages = conn.execute(delete(ticket_messages).where(
        ticket_messages.c.ticket_id.in_(old))).rowcount
    conn.execute(update(audit_log).where(audit_log.c.ticket_id.in_(old)).values(ticket_id=None))
    count = conn.execute(delete(tickets).where(tickets.c.id.in_(old))).rowcount
    return {"tickets": count, "ticket_messages": messages}


def _purge_trackers(conn: Connection, cutoff: datetime) -> int:
    """Every event of the conversations whose latest event is older than the cutoff."""
    from rasa.core.tracker_store import SQLTrackerStore

    events = SQLTrackerStore.SQLEvent.__table__
    if not inspect(conn).has_table(events.name):
        return 0  # no conversation yet: Rasa creates the table on its first start
    stale = (select(events.c.sender_id).group_by(events.c.sender_id)
             .having(func.max(events.c.timestamp) < cutoff.timestamp()))
    return conn.execute(delete(events).where(events.c.sender_id.in_(stale))).rowcount

