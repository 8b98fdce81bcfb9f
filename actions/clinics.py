"""Clinic questions: which unit the resident means (the clinic form), and the answer."""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import CompanionSlotsValidation, latest_intent
from bot.clinics.answers import unit_text
from bot.clinics.references import Certainty
from bot.clinics.service import Directory, DirectoryCache
from bot.dialogue.names import LANGUAGE_SLOT, LAST_CLINIC_SLOT
from bot.settings import load_settings
from bot.storage.db import process_engine

#: Offered when the resident has not named anything yet: the services asked about
#: most that are not a health station (which they name themselves).
DEFAULT_CHOICES = ("dental-appointments", "maternity-child-clinics", "medical-helpline-116117")
#: Intents after which a message naming no unit is a failed answer to "which one?";
#: any other intent interrupts the form and is answered by its own rule.
_ANSWERS_TO_QUESTION = frozenset({"ask_clinic_hours", "find_clinic", "nlu_fallback", "affirm"})
_GENERAL_ANSWERS = {"ask_clinic_hours": "utter_clinic_hours_general",
                    "find_clinic": "utter_find_clinic_general"}


@cache
def _directory_cache() -> DirectoryCache:
    return DirectoryCache(process_engine())


async def directory() -> Directory:
    """The clinic directory, without SQL on the action server's event loop."""
    return await _directory_cache().get_async()


def _language(tracker: Tracker) -> str | None:
    return tracker.get_slot(LANGUAGE_SLOT)


def _chosen_unit(tracker: Tracker, known: Any) -> str | None:
    """A button payload carries the unit id as the `clinic` entity."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "clinic" and entity.get("value") in known:
            return str(entity["value"])
    return None


class ValidateClinicForm(CompanionSlotsValidation):
    """Fills `clinic_unit` only when the message leaves no doubt; otherwise keeps the
    candidates in `clinic_candidates` for the question's buttons."""

    companion_slots = ("clinic_candidates",)

    def name(self) -> str:
        return "validate_clinic_form"

    async def extract_clinic_unit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        current = await directory()
        chosen = _chosen_unit(tracker, current.units)
        if chosen is not None:
            return {"clinic_unit": chosen, "clinic_candidates": None}
        resolution = current.resolve(tracker.latest_message.get("text") or "",
                                     _language(tracker))
        if resolution.unit is not None:
            return {"clinic_unit": resolution.unit, "clinic_candidates": None}
        if resolution.certainty is not Certainty.NONE:
            return {"clinic_candidates": {
                "certainty": resolution.certainty.value,
                "units": list(resolution.units),
                "mention": resolution.mention,
            }}
        intent = latest_intent(tracker)
        if intent in _ANSWERS_TO_QUESTION:
            return {"clinic_candidates": None}
        return {}


class ActionAskClinicUnit(Action):
    """Asks which unit, with the candidates (or the common services) as buttons."""

    def name(self) -> str:
        return "action_ask_clinic_unit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = await directory()
        language = _language(tracker)
        candidates = tracker.get_slot("clinic_candidates") or {}
        units = [unit for unit in candidates.get("units", []) if unit in current.units]
        if candidates.get("certainty") == Certainty.UNKNOWN.value:
            response = "utter_clinic_not_in_directory"
        elif units:
            response = "utter_clinic_choose"
        else:
            response = "utter_ask_clinic_unit"
            # A question about no unit in particular first gets the general answer.
            intent = latest_intent(tracker)
            general = _GENERAL_ANSWERS.get(intent)
            if general:
                dispatcher.utter_message(response=general)
            last = tracker.get_slot(LAST_CLINIC_SLOT)
            units = ([last] if last in current.units else []) + [
                unit for unit in DEFAULT_CHOICES if unit in current.units and unit != last
            ]
        buttons = [
            {"title": unit_text(current.units[unit], language).name,
             "payload": f'/find_clinic{{"clinic":"{unit}"}}'}
            for unit in units
        ]
        dispatcher.utter_message(response=response, buttons=buttons,
                                 mention=candidates.get("mention", ""))
        return []


class ActionClinicAnswer(Action):
    """Name, address, phone, today's hours, open now; when closed, where to turn."""

    def name(self) -> str:
        return "action_clinic_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = await directory()
        unit = tracker.get_slot("clinic_unit")
        reset = [SlotSet("clinic_unit", None), SlotSet("clinic_candidates", None)]
        if unit not in current.units:
            dispatcher.utter_message(response="utter_ask_clinic_unit")
            return reset
        for reply in current.answer(unit, load_settings().now(), _language(tracker)):
            dispatcher.utter_message(response=reply.response, **reply.values)
        return [*reset, SlotSet(LAST_CLINIC_SLOT, unit)]
