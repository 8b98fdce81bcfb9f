"""Symptom triage: the triage form asks a topic's questions one at a time and the result
action gives the level, the advice and the next step (see `bot/triage/guidance.py`)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clinics import directory
from actions.forms import CompanionSlotsValidation, latest_intent
from bot.dialogue.names import LANGUAGE_SLOT, LAST_CLINIC_SLOT, LAST_TRIAGE_SLOT
from bot.settings import load_settings
from bot.triage.guidance import (
    AGE,
    DURATION,
    Topic,
    default_guidance,
    match_topics,
    text_language,
)
from bot.triage.replies import default_reader
from bot.triage.session import record_answer

#: Marks a topic chosen with a button; the NLU's own `symptom` entities ("headache")
#: are words from the message, not choices, and must not skip the choice.
TOPIC_PAYLOAD_PREFIX = "topic:"
#: Offered when the message named no symptom the content knows.
COMMON_TOPICS = ("fever_adult", "cough", "sore_throat", "headache", "abdominal_pain", "rash")
#: The response that announces each level (names spelled out so validation finds them).
LEVEL_RESPONSES = {
    "emergency": "utter_triage_level_emergency",
    "urgent": "utter_triage_level_urgent",
    "same_day": "utter_triage_level_same_day",
    "routine": "utter_triage_level_routine",
    "self_care": "utter_triage_level_self_care",
}
#: Carries the topic's advice texts, so they pass the same response generator (and
#: translation) as every other answer.
GUIDANCE_RESPONSE = "utter_guidance_text"
#: Levels whose advice includes contacting the resident's own health station.
_STATION_LEVELS = frozenset({"same_day", "routine"})
#: Intents that, with no answer in the message, interrupt triage for their own rule.
_INTERRUPTING = frozenset({"ask_clinic_hours", "find_clinic", "request_nurse", "greet",
                           "bot_capabilities", "change_language", "goodbye", "thank",
                           "out_of_scope", "emergency"})
TRIAGE_SLOTS = ("triage_topic", "triage_done", "triage_answers", "triage_candidates",
                "triage_stopped")


def _text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def _starting(tracker: Tracker) -> bool:
    """This message starts the triage form: Rasa validates a starting form with no slot
    requested yet, while a running one has asked for its topic or an answer."""
    return tracker.get_slot("requested_slot") is None


def _topic(tracker: Tracker) -> Topic | None:
    return default_guidance().get(tracker.get_slot("triage_topic") or "")


class ValidateTriageForm(CompanionSlotsValidation):
    """First the topic (from the message, or the resident's pick among several), then
    one answer per turn until `Topic.next_step` says the level is decided."""

    companion_slots = ("triage_answers", "triage_candidates", "triage_stopped")

    def name(self) -> str:
        return "validate_triage_form"

    async def extract_triage_topic(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        topics = default_guidance()
        if _starting(tracker):
            # A triage ended by a red flag leaves its slots behind: start clean.
            fresh: dict[str, Any] = {slot: None for slot in TRIAGE_SLOTS}
            tracker.slots.update(fresh)
            return {**fresh, **self._topic_from_message(tracker, topics)}
        if tracker.get_slot("triage_topic") in topics:
            if default_reader().wants_restart(_text(tracker)):
                return {"triage_answers": {}, "triage_done": None}
            return {}
        return self._topic_from_message(tracker, topics)

    @staticmethod
    def _topic_from_message(tracker: Tracker, topics: dict[str, Topic]) -> dict[str, Any]:
        for entity in tracker.latest_message.get("entities") or []:
            value = str(entity.get("value") or "")
            if entity.get("entity") == "symptom" and value.startswith(TOPIC_PAYLOAD_PREFIX):
                chosen = value[len(TOPIC_PAYLOAD_PREFIX):]
                if chosen in topics:
                    return {"triage_topic": chosen, "triage_candidates": None}
        matches = match_topics(topics, _text(tracker))
        if len(matches) == 1:
            return {"triage_topic": matches[0], "triage_candidates": None}
        if matches:
            return {"triage_candidates": matches}
        if latest_intent(tracker) in _INTERRUPTING:
            return {}
        return {"triage_candidates": None}

    async def extract_triage_done(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        topic = _topic(tracker)
        asked = tracker.get_slot("requested_slot") == "triage_done"
        if topic is None or not asked:
            return {}
        reader = default_reader()
        text = _text(tracker)
        if reader.wants_stop(text):
            return {"triage_stopped": True, "triage_done": True}
        answers = tracker.get_slot("triage_answers") or {}
        recorded = record_answer(topic, answers, text, latest_intent(tracker), reader)
        if recorded is None:
            # not an answer: another intent is answered by its rule, anything else re-asks
            return {} if latest_intent(tracker) in _INTERRUPTING else {"triage_answers": answers}
        done = topic.next_step(recorded) is None
        return {"triage_answers": recorded, "triage_done": True if done else None}


class ActionAskTriageTopic(Action):
    def name(self) -> str:
        return "action_ask_triage_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topics = default_guidance()
        language = text_language(tracker.get_slot(LANGUAGE_SLOT))
        candidates = [t for t in tracker.get_slot("triage_candidates") or [] if t in topics]
        response = "utter_triage_choose_topic" if candidates else "utter_ask_triage_topic"
        if not candidates and latest_intent(tracker) == "report_symptom":
            dispatcher.utter_message(response="utter_symptom_general")
        buttons = [
            {"title": topics[topic].title[language],
             "payload": f'/report_symptom{{"symptom":"{TOPIC_PAYLOAD_PREFIX}{topic}"}}'}
            for topic in candidates or [t for t in COMMON_TOPICS if t in topics]
        ]
        dispatcher.utter_message(response=response, buttons=buttons)
        return []


class ActionAskTriageDone(Action):
    """Asks the next step: the disclaimer once per conversation, then age group,
    a yes/no question from the content, or the duration."""

    def name(self) -> str:
        return "action_ask_triage_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = _topic(tracker)
        if topic is None:
            return []
        events: list[EventType] = []
        if not tracker.get_slot("triage_disclaimer_shown"):
            dispatcher.utter_message(response="utter_triage_disclaimer")
            events.append(SlotSet("triage_disclaimer_shown", True))
        step = topic.next_step(tracker.get_slot("triage_answers") or {})
        if step == AGE:
            dispatcher.utter_message(response="utter_ask_triage_age")
        elif step == DURATION:
            dispatcher.utter_message(response="utter_ask_triage_duration")
        elif step is not None:
            question = topic.question(step)
            assert question is not None
            language = text_language(tracker.get_slot(LANGUAGE_SLOT))
            dispatcher.utter_message(response="utter_triage_question",
                                     question=question.text[language])
        return events


class ActionTriageResult(Action):
    """The level, what to do, the signs to watch, the health station when it is the next
    step, and a nurse on offer; then the triage slots are cleared for a new start."""

    def name(self) -> str:
        return "action_triage_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in TRIAGE_SLOTS]
        topic = _topic(tracker)
        if topic is None or tracker.get_slot("triage_stopped"):
            dispatcher.utter_message(response="utter_triage_stopped")
            return reset
        answers = tracker.get_slot("triage_answers") or {}
        level = topic.level(answers)
        language = text_language(tracker.get_slot(LANGUAGE_SLOT))
        dispatcher.utter_message(response=LEVEL_RESPONSES[level])
        if level not in ("emergency", "urgent"):
            dispatcher.utter_message(response=GUIDANCE_RESPONSE, guidance=topic.advice[language])
        dispatcher.utter_message(response=GUIDANCE_RESPONSE, guidance=topic.seek_care_if[language])
        if level in _STATION_LEVELS:
            await self._own_station(dispatcher, tracker, language)
        dispatcher.utter_message(response="utter_triage_offer_nurse")
        return [*reset, SlotSet(LAST_TRIAGE_SLOT, {"topic": topic.id, "level": level,
                                                   "answers": answers})]

    @staticmethod
    async def _own_station(dispatcher: CollectingDispatcher, tracker: Tracker,
                           language: str) -> None:
        """The station the resident asked about earlier, with today's hours; otherwise an
        invitation to name it."""
        current = await directory()
        station = tracker.get_slot(LAST_CLINIC_SLOT)
        if station not in current.units:
            dispatcher.utter_message(response="utter_triage_which_station")
            return
        for reply in current.answer(station, load_settings().now(), language):
            dispatcher.utter_message(response=reply.response, **reply.values)
