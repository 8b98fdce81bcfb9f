"""What happens to a received SMS, in process with a stand-in for Rasa: dialogue turns,
numbered options, the STOP/START/HELP keywords, pictures, and a message that is
received twice or whose processing fails."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.sms import keywords as sms_keywords
from bot.sms.identity import PhoneIdentity
from bot.sms.inbound import STALE_CLAIM, Inbox
from bot.sms.outbox import Outbox
from bot.storage import sms as store
from bot.storage.db import utcnow

NUMBER = "+358401112233"
SWEDISH_NUMBER = "+46701112233"
IDENTITY = PhoneIdentity("pseudonym-key", Fernet.generate_key().decode())
_NAMES = (*sms_keywords.RESPONSES.values(), sms_keywords.TEXT_ONLY_RESPONSE)
#: Each keyword answer as "<name> <language>", in Finnish, Swedish and English.
RESPONSES = {name: [*({"condition": [{"type": "slot", "name": "language", "value": language}],
                       "text": f"{name} {language}"} for language in ("fi", "sv")),
                    {"text": f"{name} en"}] for name in _NAMES}
YES_NO = [{"text": "Onko kuumetta?", "buttons": [{"title": "Kyllä", "payload": "/affirm"},
                                                 {"title": "Ei", "payload": "/deny"}]}]


class StubDialogue:
    """Stands for Rasa: answers every turn with `answer`, keeps the turns (text and
    language hint), and says the conversation is in `language`."""

    def __init__(self, language: str | None = None) -> None:
        self.answer: list[dict[str, Any]] = [{"text": "ok"}]
        self.language_slot = language
        self.turns: list[tuple[str, str | None]] = []

    async def turn(self, pseudonym: str, text: str,
                   language: str | None) -> list[dict[str, Any]]:
        self.turns.append((text, language))
        return self.answer

    async def language(self, pseudonym: str) -> str | None:
        return self.language_slot

    def responses(self) -> Mapping[str, list[dict[str, Any]]]:
        return RESPONSES


class Phone:
    """One number writing to the inbox; `say` returns the SMS queued in answer."""

    _sids = itertools.count()

    def __init__(self, inbox: Inbox, engine: Engine, number: str = NUMBER) -> None:
        self.inbox, self.engine, self.number = inbox, engine, number
        self.pseudonym = IDENTITY.pseudonym(number)

    def say(self, text: str, dialogue: StubDialogue, num_media: int = 0) -> list[str]:
        before = len(self.queued())
        message_sid = f"SM{next(self._sids):032d}"
        assert asyncio.run(self.inbox.receive(message_sid, self.number, text, num_media))
        asyncio.run(self.inbox.process_pending(dialogue, message_sid))
        return self.queued()[before:]

    def queued(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(store.sms_outbox.c.body)
                                     .where(store.sms_outbox.c.pseudonym == self.pseudonym)
                                     .order_by(store.sms_outbox.c.id)).scalars())

    def state(self) -> store.NumberState:
        state = store.number_state(self.engine, self.pseudonym)
        assert state is not None
        return state


@pytest.fixture
def inbox(engine: Engine) -> Inbox:
    settings = Settings()
    return Inbox(settings, engine, IDENTITY, Outbox(settings, engine, IDENTITY))


@pytest.fixture
def phone(inbox: Inbox, engine: Engine) -> Phone:
    return Phone(inbox, engine)


def test_a_message_is_a_turn_in_the_language_that_sticks_to_the_number(
        inbox: Inbox, engine: Engine, phone: Phone) -> None:
    dialogue = StubDialogue(language="sv")  # a Finnish number, writing in Swedish
    assert phone.say("  Hej!  ", dialogue) == ["ok"]
    assert phone.say("Tack", dialogue) == ["ok"]
    assert dialogue.turns == [("Hej!", "fi"), ("Tack", "sv")]
    assert phone.state().language == "sv"
    foreign = StubDialogue()
    assert Phone(inbox, engine, SWEDISH_NUMBER).say("Hej", foreign) == ["ok"]
    assert foreign.turns == [("Hej", None)]  # the dialogue finds the language itself


def test_a_number_picks_an_option_of_the_last_answer(phone: Phone) -> None:
    dialogue = StubDialogue()
    dialogue.answer = YES_NO
    assert phone.say("kurkku on kipeä", dialogue) == ["Onko kuumetta?\n1 = Kyllä, 2 = Ei"]
    assert phone.state().options == [{"title": "Kyllä", "payload": "/affirm"},
                                     {"title": "Ei", "payload": "/deny"}]
    phone.say("2.", dialogue)
    phone.say("3", dialogue)  # no third option: the text as written
    assert [text for text, _ in dialogue.turns] == ["kurkku on kipeä", "/deny", "3"]


def test_stop_ends_replies_until_start_but_a_red_flag_is_still_answered(phone: Phone) -> None:
    dialogue = StubDialogue()
    dialogue.answer = YES_NO
    phone.say("kurkku on kipeä", dialogue)
    dialogue.answer = [{"text": "ok"}]
    assert phone.say("STOP!", dialogue) == ["utter_sms_stopped fi"]  # the number's language
    assert dialogue.turns[-1] == ("STOP!", "fi")  # the triage in progress ends too
    assert phone.state().opted_out and phone.state().options == []
    assert phone.say("hei", dialogue) == []
    assert dialogue.turns[-1] == ("hei", "fi")  # still a turn, only unanswered
    assert phone.say("Isäni ei hengitä", dialogue) == ["ok"]
    assert phone.say("Aloita", dialogue) == ["utter_sms_started fi"]
    assert not phone.state().opted_out
    assert phone.say("hei", dialogue) == ["ok"]


def test_help_answers_in_the_language_of_the_word(phone: Phone) -> None:
    dialogue = StubDialogue()
    assert phone.say("HJÄLP", dialogue) == ["utter_sms_help sv"]
    assert phone.say("help", dialogue) == ["utter_sms_help fi"]
    assert dialogue.turns == []


def test_a_picture_without_text_gets_the_text_only_answer(phone: Phone) -> None:
    dialogue = StubDialogue()
    assert phone.say("", dialogue, num_media=1) == ["utter_sms_text_only fi"]
    assert phone.say(" ", dialogue) == []
    phone.say("stop", dialogue)
    assert phone.say("", dialogue, num_media=1) == []
    assert dialogue.turns == [("stop", "fi")]


class BrokenDialogue(StubDialogue):
    async def turn(self, pseudonym: str, text: str,
                   language: str | None) -> list[dict[str, Any]]:
        raise RuntimeError("Rasa is down")


def test_a_message_is_received_once_and_kept_until_it_has_been_processed(
        inbox: Inbox, engine: Engine, phone: Phone) -> None:
    message_sid = "SM" + "f" * 32
    assert asyncio.run(inbox.receive(message_sid, NUMBER, "hei", 0))
    assert not asyncio.run(inbox.receive(message_sid, NUMBER, "hei", 0))  # a retried webhook
    asyncio.run(inbox.process_pending(BrokenDialogue(), message_sid))
    with engine.begin() as conn:  # the failed worker's claim has gone stale
        conn.execute(update(store.sms_inbound).values(
            claimed_at=utcnow() - STALE_CLAIM - timedelta(seconds=1)))
    dialogue = StubDialogue()
    asyncio.run(inbox.process_pending(dialogue))
    assert dialogue.turns == [("hei", "fi")] and phone.queued() == ["ok"]
    with engine.connect() as conn:
        (processed,) = conn.execute(select(store.sms_inbound)).all()
    assert processed.processed_at is not None and processed.body == ""
