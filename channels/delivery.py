"""Messages written outside the dialogue (a nurse's reply, the bot's word that it is
back) reach the resident on the channel they wrote from, and the Rasa tracker, so the
transcript is whole whatever the channel.

* web chat: stored in the session's delivery queue and pushed to open sockets (a
  browser that is away gets it on reconnect);
* SMS: queued in the outbox, in SMS form (unless the number has opted out);
* REST and others: only the tracker, where the client can read it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.server import update_conversation_with_events
from rasa.shared.core.events import BotUttered, Event, SlotSet
from sanic import Sanic
from sqlalchemy.engine import Engine

from bot.dialogue.policy import HANDOFF_SLOT
from bot.settings import Settings
from bot.storage import webchat as webchat_store
from channels import sms, webchat

logger = logging.getLogger(__name__)


async def record(app: Sanic, sender_id: str, events: list[Event]) -> None:
    """Append events to a conversation's tracker under its lock, as Rasa's own
    `/conversations/<id>/tracker/events` does."""
    agent = app.ctx.agent
    async with agent.lock_store.lock(sender_id):
        tracker = await update_conversation_with_events(sender_id, agent.processor,
                                                        agent.domain, events)
        await agent.tracker_store.save(tracker)


async def deliver(app: Sanic, engine: Engine, settings: Settings, sender_id: str,
                  channel: str, text: str, language: str | None, author: str,
                  extra_events: list[Event] | None = None) -> bool:
    """Send `text` to the conversation as `author` ("nurse" or "bot"); False when the
    channel refused it (an SMS number that has opted out)."""
    metadata: dict[str, Any] = {"author": author}
    await record(app, sender_id, [*(extra_events or []),
                                  BotUttered(text, metadata=metadata)])
    if channel == webchat.WebchatInput.name():
        await asyncio.to_thread(webchat_store.append, engine, sender_id, author,
                                {"text": text, "lang": language})
        webchat.HUB.notify(sender_id)
        return True
    if channel == sms.SmsInput.name():
        return await asyncio.to_thread(sms.queue_texts, engine, settings, sender_id, [text])
    return True


def resume_events() -> list[Event]:
    """The bot takes the conversation back."""
    return [SlotSet(HANDOFF_SLOT, None)]
