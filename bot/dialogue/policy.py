"""A rule-free policy for answers that must never depend on training or state.

Rules and forms are learnt from data and can be outvoted or skipped; the
emergency answer cannot. This policy has the highest priority: after any user
message whose intent is `emergency` it answers with the hand-written response
of every kind of red flag the message carries (or, when only the classifier
thinks it is an emergency, with "if a life may be in danger, call 112 now";
inside a form only once the form has found the message is no answer to its
question), ends any active form, and then waits for the resident. A message in a language
we do not serve gets the "languages we serve" answer the same way, once per conversation.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.names import (
    HANDOFF_ACTION,
    HANDOFF_RELAY_ACTION,
    HANDOFF_SLOT,
    UNSUPPORTED_LANGUAGE_RESPONSE,
)
from bot.language.component import LANGUAGE_KEY
from bot.triage.component import EMERGENCY_INTENT, RED_FLAG_KEY

logger = logging.getLogger(__name__)

#: The hand-written answer of each kind of red flag (eight languages each).
RESPONSE_FOR_KIND = {
    "emergency": "utter_emergency",
    "poisoning": "utter_emergency_poisoning",
    "crisis": "utter_emergency_crisis",
}
#: The classifier alone (no red-flag pattern) is not sure enough for the full
#: emergency instructions: it gets "if a life may be in danger, call 112 now".
CLASSIFIER_EMERGENCY_RESPONSE = "utter_emergency_check"
#: Hand-written, never shortened, split or machine-translated.
SAFETY_RESPONSES = frozenset({*RESPONSE_FOR_KIND.values(), CLASSIFIER_EMERGENCY_RESPONSE})
GUARD_PRIORITY = 7  # above RulePolicy (6)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class GuardPolicy(Policy):
    """Deterministic answers to red flags and unsupported languages."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": GUARD_PRIORITY}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the guard is deterministic by design."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        plan = guard_responses(tracker, frozenset(domain.form_names))
        if not plan:
            return self._prediction(probabilities)
        done = _actions_since_user(tracker)
        pending = [name for name in plan if name not in done]
        events: list[Event] = []
        if not pending:
            action = ACTION_LISTEN_NAME
        else:
            action = pending[0]
            if len(pending) == len(plan):  # the first answer: log it, end any form
                events = self._start_answer(tracker, plan)
        probabilities[domain.index_for_action(action)] = 1.0
        # Rasa lets a running form's "happy path" overrule every prediction based on
        # the user's message; the guard claims the same standing, and wins on priority.
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)

    @staticmethod
    def _start_answer(tracker: DialogueStateTracker, plan: list[str]) -> list[Event]:
        """Log the answer (never the text) and end any form that was running."""
        parse = tracker.latest_message.parse_data if tracker.latest_message else {}
        logger.info(
            "guard answer %s (red flags: %s, language: %s)",
            ",".join(plan),
            ",".join((parse.get(RED_FLAG_KEY) or {}).get("categories") or []) or "-",
            (parse.get(LANGUAGE_KEY) or {}).get("code"),
        )
        if not tracker.active_loop_name:
            return []
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


def guard_responses(tracker: DialogueStateTracker,
                    forms: frozenset[str] = frozenset()) -> list[str]:
    """The responses (and actions) the guard owes for the latest user message, in order.
    While a nurse has the conversation (a ticket in `HANDOFF_SLOT`), every message goes
    to the ticket through the relay action, after any red-flag answer."""
    message = tracker.latest_message
    if message is None:
        return []
    if tracker.get_slot(HANDOFF_SLOT) is not None and \
            HANDOFF_ACTION not in _actions_since_user(tracker):
        # (the message that asked for the nurse opened the ticket; it is not relayed)
        return [*_safety_responses(tracker, forms), HANDOFF_RELAY_ACTION]
    return _safety_responses(tracker, forms) or _language_responses(tracker)


def _safety_responses(tracker: DialogueStateTracker, forms: frozenset[str]) -> list[str]:
    message = tracker.latest_message
    parse = message.parse_data or {}
    if message.intent_name == EMERGENCY_INTENT:
        kinds = (parse.get(RED_FLAG_KEY) or {}).get("kinds") or []
        if not kinds:
            if tracker.active_loop_name and not tracker.is_active_loop_rejected or \
                    _answered_by_form(tracker, forms):
                # No red flag, only the classifier: inside a form ("ja, över 39 grader",
                # "3 days") the form reads it as an answer first; if it is none, the form
                # rejects it and the guard answers then. An answer that completed the
                # form is still an answer.
                return []
            return [CLASSIFIER_EMERGENCY_RESPONSE]
        return [RESPONSE_FOR_KIND[kind] for kind in kinds if kind in RESPONSE_FOR_KIND]
    return []


def _language_responses(tracker: DialogueStateTracker) -> list[str]:
    parse = tracker.latest_message.parse_data or {}
    if (parse.get(LANGUAGE_KEY) or {}).get("supported") is False and not any(
        isinstance(event, ActionExecuted) and event.action_name == UNSUPPORTED_LANGUAGE_RESPONSE
        for event in tracker.events
    ):
        return [UNSUPPORTED_LANGUAGE_RESPONSE]
    return []


def _answered_by_form(tracker: DialogueStateTracker, forms: frozenset[str]) -> bool:
    """A form ran on the latest user message and did not reject it."""
    ran = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return ran
        if isinstance(event, ActionExecutionRejected):
            return False
        if isinstance(event, ActionExecuted) and event.action_name in forms:
            ran = True
    return ran


def _actions_since_user(tracker: DialogueStateTracker) -> list[str]:
    """Names of the actions run since the latest user message."""
    names: list[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    return names
