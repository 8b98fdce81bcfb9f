"""The guard policy answers red flags before any rule or form, deterministically."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_EXTRACT_SLOTS, ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.policy import GuardPolicy
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def policy(tmp_path: Path) -> GuardPolicy:
    return GuardPolicy.create(
        GuardPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("guard"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def message(intent: str, **parse: object) -> UserUttered:
    data = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], **parse}
    return UserUttered("text", intent=data["intent"], parse_data=data)


def predicted(policy: GuardPolicy, tracker: DialogueStateTracker, domain: Domain) -> tuple:
    prediction = policy.predict_action_probabilities(tracker, domain)
    if prediction.max_confidence == 0:
        return None, prediction.events
    return domain.action_names_or_texts[prediction.max_confidence_index], prediction.events


def test_red_flags_end_an_active_form_and_answer_every_kind(policy, domain) -> None:
    red_flag = {"kinds": ["poisoning", "crisis"], "categories": ["poisoning", "suicidal"]}
    tracker = DialogueStateTracker.from_events(
        "s",
        [ActionExecuted(ACTION_LISTEN_NAME), ActiveLoop("clinic_form"),
         ActionExecuted(ACTION_LISTEN_NAME), message("emergency", red_flag=red_flag),
         # what Rasa runs after every message, before any policy predicts
         ActionExecuted(ACTION_EXTRACT_SLOTS)],
    )
    prediction = policy.predict_action_probabilities(tracker, domain)
    # a running form's happy path is a "no user" prediction that outranks every other
    # kind; the guard must be one too, or the form would ask its question instead
    assert prediction.is_no_user_prediction
    action, events = predicted(policy, tracker, domain)
    assert action == "utter_emergency_poisoning"
    assert ActiveLoop(None) in events
    tracker.update(ActionExecuted(action))
    assert predicted(policy, tracker, domain)[0] == "utter_emergency_crisis"
    tracker.update(ActionExecuted("utter_emergency_crisis"))
    assert predicted(policy, tracker, domain)[0] == ACTION_LISTEN_NAME


def test_classifier_emergency_without_red_flag_gets_the_112_check(policy, domain) -> None:
    tracker = DialogueStateTracker.from_events(
        "s", [ActionExecuted(ACTION_LISTEN_NAME), message("emergency")]
    )
    assert predicted(policy, tracker, domain)[0] == "utter_emergency_check"
    assert all("112" in item["text"] for item in domain.responses["utter_emergency_check"])


def test_classifier_emergency_inside_a_form_is_first_read_as_an_answer(policy, domain) -> None:
    """"ja, över 39 grader" may look like an emergency to the classifier; with no red
    flag, the triage form reads it as an answer, and only a message the form rejects
    gets the 112 check."""
    events = [ActionExecuted(ACTION_LISTEN_NAME), ActiveLoop("triage_form"),
              ActionExecuted(ACTION_LISTEN_NAME), message("emergency"),
              ActionExecuted(ACTION_EXTRACT_SLOTS)]
    tracker = DialogueStateTracker.from_events("s", events)
    assert predicted(policy, tracker, domain)[0] is None
    tracker.update(ActionExecutionRejected("triage_form"))
    action, answer_events = predicted(policy, tracker, domain)
    assert action == "utter_emergency_check"
    assert ActiveLoop(None) in answer_events


def test_unsupported_language_and_ordinary_messages(policy, domain) -> None:
    asked = DialogueStateTracker.from_events("s", [
        ActionExecuted(ACTION_LISTEN_NAME), message("request_nurse"),
        ActionExecuted("action_handoff"), SlotSet("handoff_ticket", 7)])
    assert predicted(policy, asked, domain)[0] is None  # the request itself is not relayed
    unsupported = DialogueStateTracker.from_events(
        "s", [ActionExecuted(ACTION_LISTEN_NAME),
              message("greet", language={"code": "de", "confidence": 0.99, "supported": False})]
    )
    assert predicted(policy, unsupported, domain)[0] == "utter_language_unsupported"
    ordinary = DialogueStateTracker.from_events(
        "s", [ActionExecuted(ACTION_LISTEN_NAME),
              message("greet", language={"code": "fi", "confidence": 0.9, "supported": True})]
    )
    assert predicted(policy, ordinary, domain) == (None, [])


def test_a_conversation_with_a_nurse_goes_to_the_ticket_and_red_flags_still_get_112(
        policy, domain) -> None:
    paused = [ActionExecuted(ACTION_LISTEN_NAME), SlotSet("handoff_ticket", 7),
              ActionExecuted(ACTION_LISTEN_NAME)]
    tracker = DialogueStateTracker.from_events("s", [*paused, message("greet")])
    assert predicted(policy, tracker, domain)[0] == "action_handoff_relay"
    tracker.update(ActionExecuted("action_handoff_relay"))
    assert predicted(policy, tracker, domain)[0] == ACTION_LISTEN_NAME
    red_flag = {"kinds": ["emergency"], "categories": ["chest_pain"]}
    tracker = DialogueStateTracker.from_events(
        "s", [*paused, message("emergency", red_flag=red_flag)])
    assert predicted(policy, tracker, domain)[0] == "utter_emergency"
    tracker.update(ActionExecuted("utter_emergency"))
    assert predicted(policy, tracker, domain)[0] == "action_handoff_relay"  # the nurse sees it
    asked = DialogueStateTracker.from_events("s", [
        ActionExecuted(ACTION_LISTEN_NAME), message("request_nurse"),
        ActionExecuted("action_handoff"), SlotSet("handoff_ticket", 7)])
    assert predicted(policy, asked, domain)[0] is None  # the request itself is not relayed
    unsupported = DialogueStateTracker.from_events(
        "s", [*paused, message("greet", language={"code": "de", "supported": False})])
    assert predicted(policy, unsupported, domain)[0] == "action_handoff_relay"


def test_a_classifier_emergency_that_completed_a_form_was_an_answer(policy, domain) -> None:
    """"3 days" can look like an emergency to the classifier; as the last triage answer
    it completes the form, and the result must follow, not the 112 check."""
    answered = [ActionExecuted(ACTION_LISTEN_NAME), ActiveLoop("triage_form"),
                ActionExecuted(ACTION_LISTEN_NAME), message("emergency"),
                ActionExecuted(ACTION_EXTRACT_SLOTS), ActionExecuted("triage_form"),
                ActiveLoop(None)]
    tracker = DialogueStateTracker.from_events("s", answered)
    assert predicted(policy, tracker, domain)[0] is None
    rejected = [*answered[:5], ActionExecutionRejected("triage_form"), ActiveLoop(None)]
    tracker = DialogueStateTracker.from_events("s", rejected)
    assert predicted(policy, tracker, domain)[0] == "utter_emergency_check"
