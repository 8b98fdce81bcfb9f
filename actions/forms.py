"""A form validation base that keeps the form's companion slots."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


class CompanionSlotsValidation(FormValidationAction, ABC):
    """rasa-sdk returns only the form's required slots from a validation run and drops
    every other slot an `extract_*` method set. The clinic and triage forms keep state
    beside their required slots (the candidates to offer, the answers so far), so the
    slots named in `companion_slots` are passed through as well."""

    companion_slots: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str:
        """Abstract, so the action server does not register this base class itself."""

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        recent = tracker.slots_to_validate()
        return events + [
            SlotSet(slot, recent[slot]) for slot in self.companion_slots if slot in recent
        ]
