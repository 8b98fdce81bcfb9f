"""Starting a handoff and relaying a paused conversation into its ticket.

The resident is told what happens next in their language: during nurse hours
(`NURSE_HOURS`, closed on public holidays) their place in the queue; outside them,
when a nurse will answer, and that urgent matters go to 116 117 now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.engine import Engine

from bot.clinics.answers import Reply, moment_text, text_language
from bot.clinics.hours import OpeningCalendar, WeeklyHours
from bot.settings import Settings
from bot.storage import handoff as store

QUEUED_RESPONSE = "utter_handoff_queued"
AFTER_HOURS_RESPONSE = "utter_handoff_after_hours"
#: How many of the resident's latest messages the ticket's summary quotes.
SUMMARY_MESSAGES = 5


@cache
def nurse_calendar(hours: str) -> OpeningCalendar:
    """`NURSE_HOURS` in the directory's notation ("Mon-Fri 08:00-16:00")."""
    return OpeningCalendar(WeeklyHours.parse(hours), closed_on_holidays=True)


@dataclass(frozen=True)
class HandoffRequest:
    """What the dialogue knows when a resident is handed to a nurse."""

    sender_id: str
    channel: str
    language: str | None
    said: list[str] = field(default_factory=list)
    triage: dict[str, Any] | None = None


def start(engine: Engine, settings: Settings, request: HandoffRequest,
          now: datetime) -> tuple[store.Ticket, Reply]:
    """Open (or find) the conversation's ticket and say what happens next."""
    triage = request.triage or {}
    summary = {"said": request.said[-SUMMARY_MESSAGES:], "triage": triage}
    ticket = store.open_ticket(engine, request.sender_id, request.channel, request.language,
                               triage.get("topic"), triage.get("level"), summary)
    calendar = nurse_calendar(settings.nurse_hours)
    if calendar.is_open(now):
        return ticket, Reply(QUEUED_RESPONSE,
                             {"position": str(max(store.position(engine, ticket.id), 1))})
    opening = calendar.next_opening(now)
    language = text_language(request.language)
    next_open = moment_text(opening, language) if opening else ""
    return ticket, Reply(AFTER_HOURS_RESPONSE, {"next_open": next_open})


def relay(engine: Engine, ticket_id: int, text: str, language: str | None) -> bool:
    """Add a resident's message to their open ticket; False when it has been closed."""
    ticket = store.get_ticket(engine, ticket_id)
    if ticket is None or ticket.status == "closed":
        return False
    store.add_message(engine, ticket_id, "resident", text, language)
    return True
