"""The slot step that runs after every user message (Rasa's hook for custom mappings)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.facts import turn_facts


class ActionValidateSlotMappings(Action):
    """Rasa runs this at the end of `action_extract_slots`, before any policy
    predicts, so every response is chosen with this message's language and facts."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        last_user = tracker.get_last_event_for("user") or {}
        facts = turn_facts(
            tracker.current_slot_values(),
            tracker.latest_message or {},
            last_user.get("metadata") or {},
            tracker.events,
        )
        return [SlotSet(name, value) for name, value in facts.items()]
