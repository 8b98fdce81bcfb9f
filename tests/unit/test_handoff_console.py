"""The nurse's work on a ticket (bot/handoff/console.py) in process: a real database
file, Rasa's in-memory tracker and lock stores with the project's domain, a stand-in
translator and a stand-in channel adapter. No model and no Argos package is needed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine

from bot.dialogue.names import HANDOFF_CLOSED_RESPONSE, HANDOFF_SLOT
from bot.dialogue.responses import response_text
from bot.handoff import console as handoff
from bot.handoff import delivery
from bot.handoff.accounts import add_nurse
from bot.storage import handoff as store
from bot.translation.service import MissingPair
from tests.conftest import ROOT

CHANNEL = "fake"
PASSWORD = "correct horse battery"


class FakeTranslator:
    """Labels a translation with its target language; nothing to or from Somali."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    async def translate_async(self, text: str, source: str, target: str) -> str:
        self.asked.append((text, source, target))
        if "so" in (source, target):
            raise MissingPair(f"{source}->{target} is not installed")
        return f"[{target}] {text}"


class FakeOutbound:
    """A channel's adapter: what reached the resident; `refuse` plays an opted-out number."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None, str]] = []
        self.refuse = False

    async def send(self, sender_id: str, text: str, language: str | None,
                   author: str) -> bool:
        if self.refuse:
            return False
        self.sent.append((sender_id, text, language, author))
        return True


class FakeProcessor:
    def __init__(self, tracker_store: InMemoryTrackerStore) -> None:
        self.tracker_store = tracker_store

    async def fetch_tracker_with_initial_session(self, sender_id: str) -> DialogueStateTracker:
        return await self.tracker_store.get_or_create_tracker(sender_id)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def agent(domain: Domain) -> Any:
    """What delivery needs of Rasa's agent: the domain and the stores."""
    tracker_store = InMemoryTrackerStore(domain)
    return SimpleNamespace(domain=domain, tracker_store=tracker_store,
                           lock_store=InMemoryLockStore(), processor=FakeProcessor(tracker_store))


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOutbound]:
    monkeypatch.setattr(delivery, "_ADAPTERS", {})
    adapter = FakeOutbound()
    delivery.register(CHANNEL, adapter)
    yield adapter


@pytest.fixture
def translator() -> FakeTranslator:
    return FakeTranslator()


@pytest.fixture
def desk(engine: Engine, translator: FakeTranslator) -> handoff.Desk:
    return handoff.Desk(engine, translator)  # type: ignore[arg-type]


def nurse(engine: Engine, name: str, language: str = "fi") -> store.Nurse:
    add_nurse(engine, f"{name}@hel.fi", PASSWORD, language)
    found = store.nurse_by_email(engine, f"{name}@hel.fi")
    assert found is not None
    return found


def ticket_for(engine: Engine, language: str, said: tuple[str, ...] = ()) -> store.Ticket:
    return store.open_ticket(engine, f"resident-{language}", CHANNEL, language, None, None,
                             {"said": list(said), "triage": {}})


def audit(engine: Engine, ticket: store.Ticket) -> list[tuple[str, str]]:
    return [(row["action"], row["detail"]) for row in store.audit_entries(engine, ticket.id)]


def bot_events(agent: Any, sender_id: str) -> list[BotUttered]:
    tracker = asyncio.run(agent.tracker_store.retrieve(sender_id))
    return [event for event in tracker.events if isinstance(event, BotUttered)] \
        if tracker else []


def test_a_reply_reaches_the_resident_in_their_language_and_the_ticket_keeps_both(
        desk: handoff.Desk, engine: Engine, agent: Any, outbound: FakeOutbound) -> None:
    anna = nurse(engine, "anna")
    ticket = ticket_for(engine, "ru")
    asyncio.run(desk.claim(anna, ticket.id))
    asyncio.run(desk.reply(agent, anna, ticket.id, "  Hei, olen hoitaja Anna. Mikä vaivaa?  "))
    sent = "[ru] Hei, olen hoitaja Anna. Mikä vaivaa?"
    assert outbound.sent == [(ticket.sender_id, sent, "ru", "nurse")]
    [uttered] = bot_events(agent, ticket.sender_id)
    assert (uttered.text, uttered.metadata) == (sent, {"author": "nurse"})
    stored = store.get_ticket(engine, ticket.id)
    assert stored is not None
    [message] = stored.messages
    assert (message.author, message.text, message.language, message.nurse_id) == (
        "nurse", "Hei, olen hoitaja Anna. Mikä vaivaa?", "fi", anna.id)
    assert (message.translation, message.translation_language) == (sent, "ru")
    assert audit(engine, ticket) == [("claim", ""), ("reply", "")]


def test_a_reply_in_the_residents_own_language_is_sent_as_written(
        desk: handoff.Desk, engine: Engine, agent: Any, outbound: FakeOutbound,
        translator: FakeTranslator) -> None:
    bert = nurse(engine, "bert", language="en")
    ticket = ticket_for(engine, "sv")
    asyncio.run(desk.claim(bert, ticket.id))
    text = "Hej, jag är sjukskötare. Hur mår du i dag?"
    asyncio.run(desk.reply(agent, bert, ticket.id, text))
    assert outbound.sent == [(ticket.sender_id, text, "sv", "nurse")]
    assert translator.asked == []  # detected as Swedish, the resident's language


def test_what_did_not_go_as_asked_is_noted_in_the_audit(
        desk: handoff.Desk, engine: Engine, agent: Any, outbound: FakeOutbound) -> None:
    olga = nurse(engine, "olga", language="ru")
    ticket = ticket_for(engine, "so")
    asyncio.run(desk.claim(olga, ticket.id))
    outbound.refuse = True
    text = "Здравствуйте, я медсестра Ольга. Что вас беспокоит?"
    asyncio.run(desk.reply(agent, olga, ticket.id, text))
    assert audit(engine, ticket)[-1] == ("reply", "not translated: ru->so is not installed; "
                                                  "not delivered: the resident opted out")
    [uttered] = bot_events(agent, ticket.sender_id)
    assert uttered.text == text  # as written: the tracker has it all the same


@pytest.mark.parametrize(("language", "translated"), [("fi", False), ("de", True)])
def test_closing_tells_the_resident_and_gives_the_conversation_back_to_the_bot(
        desk: handoff.Desk, engine: Engine, agent: Any, outbound: FakeOutbound,
        language: str, translated: bool) -> None:
    anna = nurse(engine, "anna")
    ticket = ticket_for(engine, language)
    asyncio.run(desk.claim(anna, ticket.id))
    asyncio.run(desk.close(agent, anna, ticket.id))
    written = response_text(agent.domain.responses, HANDOFF_CLOSED_RESPONSE, language, CHANNEL)
    said = f"[{language}] {written}" if translated else written  # German: from English
    assert outbound.sent == [(ticket.sender_id, said, language, "bot")]
    tracker = asyncio.run(agent.tracker_store.retrieve(ticket.sender_id))
    assert SlotSet(HANDOFF_SLOT, None) in tracker.events
    assert tracker.get_slot(HANDOFF_SLOT) is None
    stored = store.get_ticket(engine, ticket.id)
    assert stored is not None and stored.status == "closed"
    assert [(m.author, m.text) for m in stored.messages] == [("bot", said)]
    assert [action for action, _ in audit(engine, ticket)] == ["claim", "close"]


def test_the_rules_refuse_with_reasons(desk: handoff.Desk, engine: Engine, agent: Any,
                                       outbound: FakeOutbound) -> None:
    anna, bert = nurse(engine, "anna"), nurse(engine, "bert")
    ticket = ticket_for(engine, "fi")
    with pytest.raises(handoff.NotYours):
        asyncio.run(desk.reply(agent, anna, ticket.id, "Hei"))  # not claimed yet
    asyncio.run(desk.claim(anna, ticket.id))
    refusals = [
        (desk.claim(bert, ticket.id), handoff.NotWaiting),
        (desk.reply(agent, bert, ticket.id, "Hei"), handoff.NotYours),
        (desk.close(agent, bert, ticket.id), handoff.NotYours),
        (desk.reply(agent, anna, ticket.id, " \n "), handoff.EmptyReply),
        (desk.reply(agent, anna, ticket.id, "x" * (handoff.MAX_REPLY_CHARS + 1)),
         handoff.ReplyTooLong),
        (desk.claim(anna, ticket.id + 1), handoff.NoSuchTicket),
    ]
    for attempt, refusal in refusals:
        with pytest.raises(refusal):
            asyncio.run(attempt)
    assert outbound.sent == [] and bot_events(agent, ticket.sender_id) == []
    assert audit(engine, ticket) == [("claim", "")]


def test_a_nurse_reads_a_ticket_in_their_own_language(
        desk: handoff.Desk, engine: Engine, agent: Any, outbound: FakeOutbound) -> None:
    anna = nurse(engine, "anna")
    ticket = ticket_for(engine, "ru", said=("Болит горло",))
    store.add_message(engine, ticket.id, "resident", "Болит горло", "ru")
    store.add_message(engine, ticket.id, "resident", "Kurkku", "fi")
    store.add_message(engine, ticket.id, "nurse", "Hei", "fi", anna.id, "[ru] Hei", "ru")
    somali = ticket_for(engine, "so", said=("Cunaha ayaa i xanuunaya",))
    _, view = asyncio.run(desk.read(anna, ticket.id, "json"))
    assert view["summary"]["said"] == [{"text": "Болит горло", "language": "ru",
                                        "translation": "[fi] Болит горло",
                                        "translation_language": "fi"}]
    assert [{key: m.get(key) for key in ("text", "translation", "translation_language")}
            for m in view["messages"]] == [
        {"text": "Болит горло", "translation": "[fi] Болит горло", "translation_language": "fi"},
        {"text": "Kurkku", "translation": None, "translation_language": None},
        {"text": "Hei", "translation": "[ru] Hei", "translation_language": "ru"},  # as sent
    ]
    assert view["id"] == ticket.id and view["mine"] is False
    _, untranslated = asyncio.run(desk.read(anna, somali.id))
    [said] = untranslated["summary"]["said"]
    assert said["translation_note"] == "not translated: so->fi is not installed"
    queue = asyncio.run(desk.queue(anna))
    assert [t["id"] for t in queue] == [ticket.id, somali.id]
    assert [(e["nurse_id"], e["action"], e["ticket_id"], e["detail"])
            for e in store.audit_entries(engine)] == [
        (anna.id, "view", ticket.id, "json"), (anna.id, "view", somali.id, ""),
        (anna.id, "view_queue", None, "")]


def test_the_desk_keeps_its_sql_off_the_event_loop(
        desk: handoff.Desk, engine: Engine, agent: Any, outbound: FakeOutbound,
        monkeypatch: pytest.MonkeyPatch) -> None:
    anna = nurse(engine, "anna")
    ticket = ticket_for(engine, "fi")
    threads: set[str] = set()

    def recorded(function: Any) -> Any:
        def run(*args: Any) -> Any:
            threads.add(threading.current_thread().name)
            return function(*args)
        return run

    for name in ("get_ticket", "claim", "close", "add_message", "audit", "queue"):
        monkeypatch.setattr(store, name, recorded(getattr(store, name)))

    async def work() -> str:
        await desk.claim(anna, ticket.id)
        await desk.reply(agent, anna, ticket.id, "Hei, olen hoitaja Anna.")
        await desk.queue(anna)
        await desk.close(agent, anna, ticket.id)
        return threading.current_thread().name

    loop_thread = asyncio.run(work())
    assert threads and loop_thread not in threads
