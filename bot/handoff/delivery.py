"""Messages written outside the dialogue (a nurse's reply, the bot's word that it is
back) reach the resident on the channel they wrote from, and the Rasa tracker, so the
transcript is whole whatever the channel.

Each channel that can reach a resident outside a turn registers its outbound adapter
here when its blueprint is made (web chat: the session's delivery queue and its open
sockets; SMS: the outbox, unless the number opted out). A channel without one (REST)
has only the tracker, where its client reads it. So the domain never imports a
channel, and adding a channel adds an adapter, not a branch here.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from rasa.core.agent import Agent
from rasa.server import update_conversation_with_events
from rasa.shared.core.events import BotUttered, Event, SlotSet

from bot.dialogue.names import HANDOFF_SLOT

logger = logging.getLogger(__name__)


class Outbound(Protocol):
    """A channel's way to a resident outside a dialogue turn."""

    async def send(self, sender_id: str, text: str, language: str | None,
                   author: str) -> bool:
        """Deliver `text`; False when the channel refused it (an opted-out number)."""


_ADAPTERS: dict[str, Outbound] = {}


def register(channel: str, outbound: Outbound) -> None:
    """Called by a channel when its blueprint is made (once per server process)."""
    _ADAPTERS[channel] = outbound


async def record(agent: Agent, sender_id: str, events: list[Event]) -> None:
    """Append events to a conversation's tracker under its lock, as Rasa's own
    `/conversations/<id>/tracker/events` does."""
    async with agent.lock_store.lock(sender_id):
        tracker = await update_conversation_with_events(sender_id, agent.processor,
                                                        agent.domain, events)
        await agent.tracker_store.save(tracker)


async def deliver(agent: Agent, sender_id: str, channel: str, text: str,
                  language: str | None, author: str,
                  extra_events: list[Event] | None = None) -> bool:
    """Send `text` to the conversation as `author` ("nurse" or "bot"): into its tracker,
    and through its channel's adapter if it has one. False when the channel refused."""
    metadata: dict[str, Any] = {"author": author}
    await record(agent, sender_id, [*(extra_events or []), BotUttered(text, metadata=metadata)])
    outbound = _ADAPTERS.get(channel)
    return await outbound.send(sender_id, text, language, author) if outbound else True


def resume_events() -> list[Event]:
    """The bot takes the conversation back."""
    return [SlotSet(HANDOFF_SLOT, None)]
