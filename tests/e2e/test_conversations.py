"""Conversations over the real Rasa REST channel with the real action server."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import variation
from tests.e2e.conftest import Server, http_json

pytestmark = pytest.mark.e2e

LANGUAGES = ("fi", "sv", "en", "ru", "et", "so", "ar", "uk")


def texts_in(responses: dict[str, Any], language: str) -> set[str]:
    return {variation(responses, name, language) for name in responses}


@pytest.mark.parametrize(
    ("language", "messages"),
    [
        ("fi", ["moi", "milloin terveysasema on auki lauantaina", "kiitti"]),
        ("sv", ["hej", "när har hälsostationen öppet på lördag", "tack"]),
        ("en", ["hi there", "when is the health station open on saturday", "thanks"]),
    ],
)
def test_residents_get_answers_in_their_own_language(
    server: Server, responses: dict, language: str, messages: list[str]
) -> None:
    chat = server.chat()
    greeting, hours, thanks = (chat.texts(text) for text in messages)
    assert greeting == [variation(responses, "utter_greet", language)]
    assert hours == [variation(responses, "utter_clinic_hours_general", language),
                     variation(responses, "utter_ask_clinic_unit", language)]
    assert thanks == [variation(responses, "utter_you_are_welcome", language)]
    assert chat.slot("language") == language


def test_short_messages_keep_the_language(server: Server, responses: dict) -> None:
    chat = server.chat()
    chat.send("hej, jag har feber och ont i halsen")
    for word in ("ok", "kiitos", "yes"):
        for text in chat.texts(word):
            assert text in texts_in(responses, "sv"), (word, text)
    assert chat.slot("language") == "sv"


def test_a_clear_message_in_another_language_switches(server: Server, responses: dict) -> None:
    chat = server.chat()
    chat.send("hello, I have a fever")
    assert chat.texts("milloin Malmin terveysasema on auki huomenna")[0].startswith(
        "Malmin terveysasema, Talvelantie 4"
    )


def test_switch_request_wins_and_sticks(server: Server, responses: dict) -> None:
    chat = server.chat()
    chat.send("moi")
    assert chat.texts("puhu englantia") == [variation(responses, "utter_language_changed", "en")]
    # a long Finnish message does not undo an explicit choice
    assert chat.texts("milloin terveysasema on auki lauantaina") == [
        variation(responses, "utter_clinic_hours_general", "en"),
        variation(responses, "utter_ask_clinic_unit", "en"),
    ]
    # switching language inside the clinic form asks the question again in it
    assert chat.texts("byt till svenska") == [
        variation(responses, "utter_language_changed", "sv"),
        variation(responses, "utter_ask_clinic_unit", "sv"),
    ]
    assert chat.slot("language") == "sv"


def test_language_picker_buttons(server: Server, responses: dict) -> None:
    chat = server.chat()
    chat.send("moikka")
    [ask] = chat.send("vaihda kieli")
    assert ask["text"] == variation(responses, "utter_ask_language", "fi")
    buttons = {b["title"]: b["payload"] for b in ask["buttons"]}
    assert len(buttons) == 8
    assert chat.texts(buttons["Українська"]) == [
        variation(responses, "utter_language_changed", "uk")
    ]
    assert chat.slot("language") == "uk"


RED_FLAGS = {
    "fi": "isäni ei hengitä",
    "sv": "min man andas inte",
    "en": "my dad collapsed and is not breathing",
    "ru": "мой муж не дышит",
    "et": "mu isa ei hinga",
    "so": "aabahay ma neefsanayo",
    "ar": "والدي لا يتنفس",
    "uk": "мій чоловік не дихає",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_red_flag_gets_localized_112_answer(
    server: Server, responses: dict, language: str
) -> None:
    texts = server.chat().texts(RED_FLAGS[language])
    assert texts == [variation(responses, "utter_emergency", language)]
    assert "112" in texts[0]


@pytest.mark.parametrize(
    ("text", "response", "language"),
    [
        ("haluan tappaa itseni", "utter_emergency_crisis", "fi"),
        ("jag vill inte leva längre", "utter_emergency_crisis", "sv"),
        ("my toddler drank dishwasher liquid", "utter_emergency_poisoning", "en"),
        ("я выпила все таблетки и хочу умереть", "utter_emergency_poisoning", "ru"),
    ],
)
def test_poisoning_and_crisis_get_their_own_numbers(
    server: Server, responses: dict, text: str, response: str, language: str
) -> None:
    texts = server.chat().texts(text)
    assert variation(responses, response, language) in texts


@pytest.mark.parametrize(
    ("language", "opening", "red_flag"),
    [
        ("fi", "vaihda kieli", "äiti on tajuton eikä herää"),
        ("sv", "kan vi byta språk", "min dotter har kramper"),
        ("en", "can we change the language", "my husband has crushing chest pain"),
    ],
)
def test_red_flag_in_the_middle_of_another_flow(
    server: Server, responses: dict, language: str, opening: str, red_flag: str
) -> None:
    chat = server.chat()
    chat.send({"fi": "moi", "sv": "hej", "en": "hello"}[language])
    [ask] = chat.send(opening)
    assert ask["text"] == variation(responses, "utter_ask_language", language)
    assert chat.texts(red_flag) == [variation(responses, "utter_emergency", language)]
    # the conversation carries on normally afterwards
    assert chat.texts({"fi": "kiitos", "sv": "tack", "en": "thanks"}[language]) == [
        variation(responses, "utter_you_are_welcome", language)
    ]


def test_red_flag_in_another_language_is_answered_in_that_language(
    server: Server, responses: dict
) -> None:
    chat = server.chat()
    chat.send("hello, where is the nearest health station")
    assert chat.texts("أمي فقدت الوعي") == [variation(responses, "utter_emergency", "ar")]


def test_parse_reports_the_language(server: Server) -> None:
    parsed = http_json(server.api("/model/parse"), {"text": "kiitos paljon avusta"})
    assert parsed["language"]["code"] == "fi"
    assert 0.5 < parsed["language"]["confidence"] <= 1.0
    german = http_json(server.api("/model/parse"), {"text": "Ich brauche heute einen Arzttermin"})
    assert german["language"] == {"code": "de", "confidence": german["language"]["confidence"],
                                  "supported": False}
    red = http_json(server.api("/model/parse"), {"text": "hän ei hengitä"})
    assert red["intent"]["name"] == "emergency" and red["red_flag"]["kinds"] == ["emergency"]


def test_unsupported_language_is_answered_in_english(server: Server, responses: dict) -> None:
    texts = server.chat().texts("Bonjour, je voudrais prendre rendez-vous chez le médecin")
    assert texts == [variation(responses, "utter_language_unsupported", "en")]


def test_not_understood_twice_offers_a_nurse(server: Server, responses: dict) -> None:
    chat = server.chat()
    chat.send("moi")
    first = chat.texts("/nlu_fallback")
    assert first == [variation(responses, "utter_default", "fi")]
    [offer] = chat.send("/nlu_fallback")
    assert offer["text"] == variation(responses, "utter_offer_nurse", "fi")
    [handoff] = chat.texts("joo")  # accepting the offer hands the conversation to a nurse
    assert handoff.startswith("Siirsin keskustelun hoitajalle. Olet jonossa sijalla")
    assert chat.slot("handoff_ticket") is not None


@pytest.mark.parametrize(  # (longer than 5,000 characters: a 400, see test_fuzz.py)
    "text", ["", "🙂🙂🙂", "x" * 5_000, "\u0000\u0001", "<script>alert(1)</script>"]
)
def test_odd_messages_get_an_answer_not_an_error(server: Server, text: str) -> None:
    chat = server.chat()
    chat.send("hello")
    replies = chat.send(text)
    assert isinstance(replies, list)
    assert chat.texts("thanks")  # the conversation still works


def test_malformed_json_is_rejected_without_harm(server: Server) -> None:
    request = urllib.request.Request(
        f"{server.url}/webhooks/rest/webhook", data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert 400 <= error.value.code < 500
    assert server.chat().texts("hello")
