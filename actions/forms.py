"""A form validation base that keeps the form's companion slots."""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import load_settings


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


@lru_cache(maxsize=1)
def form_domain() -> dict[str, Any]:
    """The domain's slots and forms, read once. Rasa sends no domain with its requests
    (`enable_selective_domain`): the whole domain, every response in eight languages,
    is 180 kB of JSON that both processes serialised and parsed on every call, and a
    validation run needs only the forms' slots and their mappings."""
    data = yaml.safe_load((load_settings().home / "domain.yml").read_text(encoding="utf-8"))
    return {"slots": data.get("slots") or {}, "forms": data.get("forms") or {}}


class CompanionSlotsValidation(FormValidationAction, ABC):
    """rasa-sdk returns only the form's required slots from a validation run and drops
    every other slot an `extract_*` method set. The clinic and triage forms keep state
    beside their required slots (the candidates to offer, the answers so far), so the
    slots named in `companion_slots` are passed through as well."""

    companion_slots: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str:
        """Abstract, so the action server does not register this base class itself."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await super().run(dispatcher, tracker, domain or form_domain())

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        recent = tracker.slots_to_validate()
        return events + [
            SlotSet(slot, recent[slot]) for slot in self.companion_slots if slot in recent
        ]
