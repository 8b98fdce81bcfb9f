"""What a nurse does with a ticket in the console, apart from HTTP: read the queue and
a ticket (with translations into the nurse's language), claim, reply and close.

A reply is written in whatever language the nurse chose (detected when sure enough,
else the nurse's own), translated into the resident's, and delivered on the
resident's channel (`bot.handoff.delivery`); the ticket keeps both versions. Closing
tells the resident the bot is back, in their language, and resumes the bot. Every
read and action is written to the audit log. The rules refuse with a `Refusal`,
which the channel turns into its HTTP answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from rasa.core.agent import Agent
from sqlalchemy.engine import Engine

from bot.dialogue.names import HANDOFF_CLOSED_RESPONSE
from bot.dialogue.responses import response_text
from bot.handoff.delivery import deliver, resume_events
from bot.language.identify import default_identifier
from bot.settings import CITY_LANGUAGES, PROJECT_ROOT, SUPPORTED_LANGUAGES
from bot.storage import handoff as store
from bot.storage.db import in_thread, utcnow
from bot.translation.nlg import needs_translation, written_languages
from bot.translation.packages import PIVOT
from bot.translation.service import TranslationError, TranslationService

CANNED_REPLIES = PROJECT_ROOT / "data" / "handoff" / "canned_replies.yml"
MAX_REPLY_CHARS = 2000
#: A reply's language is detected when this sure; otherwise it is the nurse's own.
REPLY_LANGUAGE_CONFIDENCE = 0.7

T = TypeVar("T")


class Refusal(Exception):
    """An action the handoff's rules do not allow; the message says why."""


class NoSuchTicket(Refusal):
    pass


class NotWaiting(Refusal):
    """Claimed by another nurse first, or closed."""


class NotYours(Refusal):
    """Only the nurse who claimed a ticket replies to it and closes it."""


class EmptyReply(Refusal):
    pass


class ReplyTooLong(Refusal):
    pass


@dataclass(frozen=True)
class CannedReplies:
    """Short replies a nurse picks from, per resident's language (English otherwise)."""

    by_language: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = CANNED_REPLIES) -> CannedReplies:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        unknown = set(raw) - set(SUPPORTED_LANGUAGES)
        if unknown:
            raise ValueError(f"{path}: unknown languages {sorted(unknown)}")
        return cls({language: [str(text) for text in texts] for language, texts in raw.items()})

    def get(self, language: str | None, nurse_language: str | None = None) -> list[dict[str, str]]:
        """The replies in the resident's language, each with its meaning in the nurse's
        language when that differs: the lists are parallel (same place, same meaning),
        so a Finnish nurse can answer a Somali resident without a translation package."""
        code = language if language in self.by_language else "en"
        meanings = self.by_language.get(nurse_language or "", []) if nurse_language != code else []
        return [{"text": text, "language": code,
                 **({"meaning": meanings[index]} if index < len(meanings) else {})}
                for index, text in enumerate(self.by_language.get(code, []))]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _ticket_facts(ticket: store.Ticket, nurse: store.Nurse, now: datetime) -> dict[str, Any]:
    """What the queue shows of a ticket."""
    return {
        "id": ticket.id, "status": ticket.status, "channel": ticket.channel,
        "language": ticket.language, "topic": ticket.topic, "level": ticket.level,
        "created_at": _iso(ticket.created_at), "waiting_seconds": ticket.waiting_seconds(now),
        "mine": ticket.nurse_id == nurse.id, "claimed": ticket.nurse_id is not None,
        "summary": ticket.summary,
    }


def _reply_language(text: str, nurse: store.Nurse) -> str:
    """The language a nurse wrote a reply in: detected when sure, else their own."""
    detected = default_identifier().identify(text)
    sure = detected.supported and detected.confidence >= REPLY_LANGUAGE_CONFIDENCE
    return detected.code if sure else nurse.language


@dataclass(frozen=True)
class Desk:
    """A nurse's work on tickets in the app's tables, with the translator that serves
    both the nurse's and the resident's languages."""

    engine: Engine
    translator: TranslationService

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        return await in_thread(self.engine, function, *args)

    async def _ticket(self, ticket_id: int) -> store.Ticket:
        found = await self._db(store.get_ticket, ticket_id)
        if found is None:
            raise NoSuchTicket("no such ticket")
        return found

    async def queue(self, nurse: store.Nurse) -> list[dict[str, Any]]:
        """The open tickets as the queue shows them; the read is audited."""
        now = utcnow()
        tickets = await self._db(store.queue)
        await self._db(store.audit, nurse.id, "view_queue")
        return [_ticket_facts(ticket, nurse, now) for ticket in tickets]

    async def read(self, nurse: store.Nurse, ticket_id: int,
                   detail: str = "") -> tuple[store.Ticket, dict[str, Any]]:
        """A ticket and its view for the nurse; the read is audited (`detail` says how)."""
        ticket = await self._ticket(ticket_id)
        await self._db(store.audit, nurse.id, "view", ticket.id, detail)
        return ticket, await self._view(ticket, nurse)

    async def _view(self, ticket: store.Ticket, nurse: store.Nurse) -> dict[str, Any]:
        """The ticket as the nurse reads it: each message with a translation into the
        nurse's language where it was written in another (a reply keeps the version
        the resident received)."""
        messages = []
        for m in ticket.messages:
            message = {"author": m.author, "text": m.text, "language": m.language,
                       "at": _iso(m.created_at)}
            if m.translation is not None:
                message.update(translation=m.translation,
                               translation_language=m.translation_language)
            else:
                message.update(await self._translation(m.text, m.language, nurse.language))
            messages.append(message)
        said = [{"text": text, "language": ticket.language,
                 **await self._translation(text, ticket.language, nurse.language)}
                for text in ticket.summary.get("said") or []]
        return {**_ticket_facts(ticket, nurse, utcnow()),
                "summary": {**ticket.summary, "said": said}, "messages": messages}

    async def _translation(self, text: str, source: str | None,
                           target: str) -> dict[str, str]:
        """A translation for display, or a note saying why there is none."""
        if not source or source == target:
            return {}
        try:
            translated = await self.translator.translate_async(text, source, target)
        except TranslationError as exc:
            # fi, sv and en are the city's languages: no note on every message for them
            return {} if source in CITY_LANGUAGES else {"translation_note":
                                                          f"not translated: {exc}"}
        return {"translation": translated, "translation_language": target}

    async def claim(self, nurse: store.Nurse, ticket_id: int) -> None:
        ticket = await self._ticket(ticket_id)
        if not await self._db(store.claim, ticket.id, nurse.id):
            raise NotWaiting("the ticket is not waiting any more")
        await self._db(store.audit, nurse.id, "claim", ticket.id)

    async def reply(self, agent: Agent, nurse: store.Nurse, ticket_id: int, text: str) -> None:
        """Send the nurse's reply to the resident in the resident's language."""
        ticket = await self._ticket(ticket_id)
        text = text.strip()
        if not text:
            raise EmptyReply("the reply is empty")
        if len(text) > MAX_REPLY_CHARS:
            raise ReplyTooLong(f"a reply has at most {MAX_REPLY_CHARS} characters")
        if ticket.status != "claimed" or ticket.nurse_id != nurse.id:
            raise NotYours("only the nurse who claimed the ticket replies to it")
        language = _reply_language(text, nurse)
        translated = await self._translation(text, language, ticket.language or language)
        delivered = await deliver(agent, ticket.sender_id, ticket.channel,
                                  translated.get("translation", text), ticket.language, "nurse")
        await self._db(store.add_message, ticket.id, "nurse", text, language, nurse.id,
                       translated.get("translation"), translated.get("translation_language"))
        notes = [translated.get("translation_note", ""),
                 "" if delivered else "not delivered: the resident opted out"]
        await self._db(store.audit, nurse.id, "reply", ticket.id,
                       "; ".join(note for note in notes if note))

    async def close(self, agent: Agent, nurse: store.Nurse, ticket_id: int) -> None:
        """Close the ticket, tell the resident and give the conversation back to the bot."""
        ticket = await self._ticket(ticket_id)
        if not await self._db(store.close, ticket.id, nurse.id):
            raise NotYours("only the nurse who claimed the ticket closes it")
        text = await self._closed_text(agent.domain.responses, ticket)
        await deliver(agent, ticket.sender_id, ticket.channel, text, ticket.language, "bot",
                      resume_events())
        await self._db(store.add_message, ticket.id, "bot", text, ticket.language)
        await self._db(store.audit, nurse.id, "close", ticket.id)

    async def _closed_text(self, responses: dict[str, list[dict[str, Any]]],
                           ticket: store.Ticket) -> str:
        """The bot's word that it is back, chosen and translated as the NLG would."""
        text = response_text(responses, HANDOFF_CLOSED_RESPONSE, ticket.language or "en",
                             channel=ticket.channel)
        if needs_translation(written_languages(responses[HANDOFF_CLOSED_RESPONSE]),
                             HANDOFF_CLOSED_RESPONSE, ticket.language):
            translated = await self._translation(text, PIVOT, ticket.language or PIVOT)
            text = translated.get("translation", text)
        return text
