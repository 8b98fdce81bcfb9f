"""Symptom triage over the real REST channel: questions one at a time, answered by
button or free text, ending in a level, advice and the next step."""

from __future__ import annotations

import pytest

from bot.triage.guidance import default_guidance
from tests.conftest import Responses, variation
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

FEVER = default_guidance()["fever_adult"]


def question(step: str, language: str) -> str:
    found = FEVER.question(step)
    assert found is not None
    return found.text[language]


def test_finnish_free_text_answers_reach_self_care(server: Server, responses: Responses) -> None:
    chat = server.chat()
    first = chat.texts("minulla on ollut kuumetta")
    assert first == [variation(responses, "utter_triage_disclaimer", "fi"),
                     question("breathing", "fi")]
    assert chat.texts("ei") == [question("confusion_or_neck", "fi")]
    assert chat.texts("ei oo") == [question("rash", "fi")]
    assert chat.texts("en huomannut mitään sellaista") == [question("high_fever_weak", "fi")]
    assert chat.texts("ei oikeastaan") == [question("risk_group", "fi")]
    assert chat.texts("ei") == [variation(responses, "utter_ask_triage_duration", "fi")]
    assert chat.texts("kaksi päivää") == [
        variation(responses, "utter_triage_level_self_care", "fi"),
        FEVER.advice["fi"],
        FEVER.seek_care_if["fi"],
        variation(responses, "utter_triage_offer_nurse", "fi"),
    ]
    assert chat.active_loop() is None
    assert chat.slot("last_triage")["level"] == "self_care"


def test_swedish_buttons_and_an_urgent_answer(server: Server, responses: Responses) -> None:
    chat = server.chat()
    [_, ask] = chat.send("jag har feber sedan i går")
    assert ask["text"] == question("breathing", "sv")
    assert [b["title"] for b in ask["buttons"]] == ["Ja", "Nej"]
    no = ask["buttons"][1]["payload"]
    for step in ("confusion_or_neck", "rash", "high_fever_weak"):
        assert chat.texts(no) == [question(step, "sv")]
    assert chat.texts("ja, över 39 grader") == [question("risk_group", "sv")]
    assert chat.texts("nej") == [variation(responses, "utter_ask_triage_duration", "sv")]
    assert chat.texts("sedan i går") == [
        variation(responses, "utter_triage_level_urgent", "sv"),
        FEVER.seek_care_if["sv"],
        variation(responses, "utter_triage_offer_nurse", "sv"),
    ]


def test_a_red_flag_answer_ends_the_questions_at_once(server: Server,
                                                      responses: Responses) -> None:
    chat = server.chat()
    chat.send("I've got a fever")
    assert chat.texts("yes") == [
        variation(responses, "utter_triage_level_emergency", "en"),
        FEVER.seek_care_if["en"],
        variation(responses, "utter_triage_offer_nurse", "en"),
    ]


def test_a_red_flag_message_in_the_middle_of_triage(server: Server,
                                                    responses: Responses) -> None:
    chat = server.chat()
    chat.send("I have a fever")
    chat.send("no")
    assert chat.active_loop() == "triage_form"
    assert chat.texts("now my chest hurts badly and I can't breathe") == [
        variation(responses, "utter_emergency", "en")
    ]
    assert chat.active_loop() is None
    # a later symptom starts afresh, not where the interrupted triage stopped
    cough = default_guidance()["cough"]
    first_step = cough.steps[0]
    expected = (variation(responses, "utter_ask_triage_age", "en") if first_step == "age"
                else cough.question(first_step).text["en"])
    assert chat.texts("I have a cough") == [expected]


def test_same_day_names_the_residents_station_with_todays_hours(
    server: Server, responses: Responses
) -> None:
    chat = server.chat()
    chat.send("Where is Malmi health station?")
    chat.send("I have a fever")
    for _ in range(4):
        chat.send("no")
    chat.send("yes")  # a long-term illness
    texts = chat.texts("3 days")
    assert texts[0] == variation(responses, "utter_triage_level_same_day", "en")
    assert "Malmi Health Station, Talvelantie 4, 00700 Helsinki. Phone 09 3105 7702." in texts
    assert "Open now. Today's hours: 08:00–16:00; closes at 16:00." in texts


def test_stop_and_start_over(server: Server, responses: Responses) -> None:
    chat = server.chat()
    chat.send("minulla on kuumetta")
    chat.send("ei")
    assert chat.texts("aloitetaan alusta") == [question("breathing", "fi")]
    assert chat.texts("lopeta") == [variation(responses, "utter_triage_stopped", "fi")]
    assert chat.active_loop() is None
    # the disclaimer is given once per conversation
    assert chat.texts("minulla on taas kuumetta") == [question("breathing", "fi")]


def test_several_topics_are_offered_as_buttons(server: Server, responses: Responses) -> None:
    chat = server.chat()
    *_, choose = chat.send("I have a headache and a sore throat")
    assert choose["text"] == variation(responses, "utter_triage_choose_topic", "en")
    buttons = {b["title"]: b["payload"] for b in choose["buttons"]}
    assert set(buttons) >= {default_guidance()["headache"].title["en"],
                            default_guidance()["sore_throat"].title["en"]}
