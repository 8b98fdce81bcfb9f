"""What happens to a resident's SMS once the operator's webhook has been answered.

Each message is stored once (a retried webhook or a replay is ignored) and processed
in the background, one at a time per number; a message whose worker crashed is taken
up again after STALE_CLAIM. A whole-message keyword (STOP, START, HELP) is answered
here; anything else is a dialogue turn, where a reply "2" picks the second numbered
option of the last answer. A number that opted out gets no replies, except to a
message with a red flag. Conversations are keyed by a pseudonym of the number.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from bot.settings import DEFAULT_LANGUAGE, Settings
from bot.sms import keywords as sms_keywords
from bot.sms.identity import PhoneIdentity, is_finnish
from bot.sms.outbox import Outbox
from bot.sms.render import Option, chosen_payload, render_turn, sms_response_text
from bot.storage import sms as store
from bot.storage.db import in_thread, utcnow
from bot.triage.redflags import default_detector

logger = logging.getLogger(__name__)

#: An inbound message claimed this long ago by a process that never finished is retried.
STALE_CLAIM = timedelta(minutes=5)


class Dialogue(Protocol):
    """What processing needs of the assistant; the channel provides it from Rasa."""

    async def turn(self, pseudonym: str, text: str,
                   language: str | None) -> list[dict[str, Any]]:
        """The assistant's messages answering `text` (with buttons and response names)."""

    async def language(self, pseudonym: str) -> str | None:
        """The conversation's language as the dialogue left it."""

    def responses(self) -> Mapping[str, list[dict[str, Any]]]:
        """The domain's responses, where the keywords' answers are."""


class Inbox:
    """Stores and processes received SMS. SQL runs in a worker thread, off the event loop."""

    def __init__(self, settings: Settings, engine: Engine, identity: PhoneIdentity,
                 outbox: Outbox, keywords: sms_keywords.KeywordTable | None = None) -> None:
        self._settings = settings
        self._engine = engine
        self._identity = identity
        self.outbox = outbox
        self._keywords = keywords or sms_keywords.KeywordTable.from_file()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def receive(self, message_sid: str, number: str, body: str, num_media: int) -> bool:
        """Store a message; False when its MessageSid came before (the operator's retry,
        or a replay after the purge), and there is nothing to process."""
        pseudonym = self._identity.pseudonym(number)
        now = utcnow()
        if await in_thread(self._engine, store.seen, message_sid):
            logger.info("SMS %s from %s already received: ignored", message_sid, pseudonym)
            return False
        await in_thread(self._engine, store.remember_number, pseudonym,
                                self._identity.encrypt(number), now)
        return await in_thread(self._engine, store.receive, message_sid, pseudonym,
                                       body, num_media, now)

    async def process_pending(self, dialogue: Dialogue, message_sid: str | None = None) -> None:
        """Process one received message, or every one a crash or failure left behind."""
        claimed = await in_thread(self._engine, store.claim_inbound, utcnow(),
                                          STALE_CLAIM, message_sid)
        for inbound in claimed:
            lock = self._locks.setdefault(inbound.pseudonym, asyncio.Lock())
            async with lock:
                try:
                    await self._process(dialogue, inbound)
                except Exception:  # noqa: BLE001 - the message stays queued for a retry
                    logger.exception("SMS %s from %s failed", inbound.message_sid,
                                     inbound.pseudonym)
                    continue
            await in_thread(self._engine, store.mark_processed, inbound.message_sid,
                                    utcnow())

    async def recover_forever(self, dialogue: Dialogue) -> None:
        """Messages a crashed or failed worker left behind, at start and then regularly."""
        while True:
            try:
                await self.process_pending(dialogue)
            except Exception:  # noqa: BLE001 - try again next round
                logger.exception("SMS inbound recovery round failed")
            await asyncio.sleep(STALE_CLAIM.total_seconds() / 5)

    async def _process(self, dialogue: Dialogue, inbound: store.Inbound) -> None:
        """A keyword, a picture or a dialogue turn; the language is the number's, or
        Finnish for a +358 number until the dialogue has settled one."""
        state = await in_thread(self._engine, store.number_state, inbound.pseudonym)
        language = state.language or (
            "fi" if is_finnish(self._identity.decrypt(state.number_encrypted)) else None)
        text = inbound.body.strip()
        keyword = self._keywords.match(text)
        if keyword is not None:
            await self._answer_keyword(dialogue, state, keyword, text, language)
            return
        if not text:
            if inbound.num_media and not state.opted_out:
                await self._respond(dialogue, state.pseudonym, sms_keywords.TEXT_ONLY_RESPONSE,
                                    language)
            return
        chosen = chosen_payload(text, [Option(**option) for option in state.options])
        messages = await dialogue.turn(state.pseudonym, chosen or text, language)
        rendered = render_turn(messages, self._settings.sms_max_segments)
        language = await dialogue.language(state.pseudonym) or language
        await in_thread(self._engine, store.update_number, state.pseudonym, utcnow(),
                                language=language,
                                options=[vars(option) for option in rendered.options])
        if state.opted_out and default_detector().detect(text) is None:
            logger.info("SMS reply to %s not sent: the number has opted out", state.pseudonym)
            return
        await self.outbox.queue(state.pseudonym, rendered.bodies)

    async def _answer_keyword(self, dialogue: Dialogue, state: store.NumberState,
                              keyword: sms_keywords.Keyword, text: str,
                              language: str | None) -> None:
        """STOP ends all messages until START; the stop word also reaches the dialogue
        (silently), so a triage in progress ends as the resident asked."""
        if keyword.kind == "stop":
            await in_thread(self._engine, store.update_number, state.pseudonym,
                                    utcnow(), opted_out=True, options=[])
            await dialogue.turn(state.pseudonym, text, language)
            logger.info("SMS number %s opted out", state.pseudonym)
        elif keyword.kind == "start":
            await in_thread(self._engine, store.update_number, state.pseudonym,
                                    utcnow(), opted_out=False)
            logger.info("SMS number %s opted back in", state.pseudonym)
        await self._respond(dialogue, state.pseudonym, sms_keywords.RESPONSES[keyword.kind],
                            keyword.language or language)

    async def _respond(self, dialogue: Dialogue, pseudonym: str, name: str,
                       language: str | None) -> None:
        """Send a domain response the dialogue did not choose (a keyword's answer)."""
        text = sms_response_text(dialogue.responses(), name, language or DEFAULT_LANGUAGE)
        await self.outbox.queue(pseudonym, [text])
