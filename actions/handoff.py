"""Nurse handoff: open a ticket and pause the bot, then relay the resident's messages
to the ticket until a nurse closes it (the console resumes the bot)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.dialogue.names import (
    HANDOFF_ACTION,
    HANDOFF_CLOSED_RESPONSE,
    HANDOFF_RELAY_ACTION,
    HANDOFF_SLOT,
    LANGUAGE_SLOT,
    LAST_TRIAGE_SLOT,
)
from bot.handoff.service import HandoffRequest, relay, start
from bot.settings import load_settings
from bot.storage.db import process_engine

logger = logging.getLogger(__name__)

#: When no ticket can be made, the resident still learns how to reach a nurse.
FALLBACK_RESPONSE = "utter_nurse_contact"


def _said(tracker: Tracker) -> list[str]:
    """The resident's own words (not button payloads), oldest first. The events keep
    what the resident wrote; `latest_message` has what the NLU read, which for a
    machine-translated language is English."""
    return [event.get("text") or "" for event in tracker.events
            if event.get("event") == "user" and not (event.get("text") or "/").startswith("/")]


class ActionHandoff(Action):
    def name(self) -> str:
        return HANDOFF_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        settings = load_settings()
        request = HandoffRequest(
            sender_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "rest",
            language=tracker.get_slot(LANGUAGE_SLOT),
            said=_said(tracker),
            triage=tracker.get_slot(LAST_TRIAGE_SLOT),
        )
        try:
            ticket, reply = await asyncio.to_thread(start, process_engine(), settings, request,
                                                    settings.now())
        except SQLAlchemyError:
            logger.exception("no ticket could be opened for %s", tracker.sender_id)
            dispatcher.utter_message(response=FALLBACK_RESPONSE)
            return []
        logger.info("handoff: ticket %d for %s (%s)", ticket.id, tracker.sender_id,
                    request.channel)
        dispatcher.utter_message(response=reply.response, **reply.values)
        return [SlotSet(HANDOFF_SLOT, ticket.id)]


class ActionHandoffRelay(Action):
    """Runs for every message while the bot is paused: says nothing, the nurse answers."""

    def name(self) -> str:
        return HANDOFF_RELAY_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        ticket_id = tracker.get_slot(HANDOFF_SLOT)
        said = [event for event in tracker.events if event.get("event") == "user"]
        text = (said[-1].get("text") if said else "") or ""
        relayed = await asyncio.to_thread(relay, process_engine(), int(ticket_id), text,
                                          tracker.get_slot(LANGUAGE_SLOT))
        if relayed:
            return []
        # The ticket was closed without the bot hearing of it: the bot answers again.
        dispatcher.utter_message(response=HANDOFF_CLOSED_RESPONSE)
        return [SlotSet(HANDOFF_SLOT, None)]
