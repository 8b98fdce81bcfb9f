"""Clinic questions over the real REST channel, with the clock fixed by HEALTHBOT_NOW.

The shared server lives on Monday 14 December 2026 at 10:00. Answers for other
days (Christmas Eve, when every station is closed) are tested in-process, without a
server of their own: tests/unit/test_clinic_actions.py.
"""

from __future__ import annotations

import pytest

from tests.conftest import Responses, variation
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        ("fi", "Milloin Malmin terveysasemalla on auki?", [
            "Malmin terveysasema, Talvelantie 4, 00700 Helsinki. Puhelin 09 3105 7702.",
            "Auki nyt. Tänään auki 08:00–16:00, suljetaan klo 16.00.",
        ]),
        ("sv", "När har hälsostationen i Nordsjö öppet?", [
            "Nordsjö hälsostation, Kaffegränden 3, 00980 Helsingfors. Telefon 09 3106 0850.",
            "Öppet nu. I dag öppet 08:00–16:00, stänger kl. 16.00.",
        ]),
        ("en", "Where is Myllypuro health station?", [
            "Myllypuro Health Station, Jauhokuja 4, 00920 Helsinki. Phone 09 3106 0360.",
            "Open now. Today's hours: 08:00–16:00; closes at 16:00.",
        ]),
    ],
)
def test_named_station_is_answered_in_the_residents_language(
    server: Server, language: str, question: str, answer: list[str]
) -> None:
    chat = server.chat()
    assert chat.texts(question) == answer
    assert chat.slot("language") == language
    assert chat.active_loop() is None


def test_without_a_name_the_assistant_asks_with_buttons(
    server: Server, responses: Responses
) -> None:
    chat = server.chat()
    general, ask = chat.send("milloin terveysasema on auki lauantaina")
    assert general["text"] == variation(responses, "utter_clinic_hours_general", "fi")
    assert ask["text"] == variation(responses, "utter_ask_clinic_unit", "fi")
    titles = [button["title"] for button in ask["buttons"]]
    assert "Neuvoloiden keskitetty puhelinpalvelu" in titles
    # a free-text answer naming a district fills the form
    assert chat.texts("asun Kontulassa")[0] == (
        "Kontulan terveysasema, Ostoskuja 3, 00940 Helsinki. Puhelin 09 3106 0410."
    )
    # the next question asks again instead of reusing the old answer
    *_, again = chat.send("entä mikä on osoite?")
    assert again["text"] == variation(responses, "utter_ask_clinic_unit", "fi")
    assert [b["title"] for b in again["buttons"]][0] == "Kontulan terveysasema"


def test_a_shared_postcode_offers_both_stations(server: Server, responses: Responses) -> None:
    chat = server.chat()
    [choose] = chat.send("mikä terveysasema on postinumerossa 00940")
    assert choose["text"] == variation(responses, "utter_clinic_choose", "fi")
    buttons = {button["title"]: button["payload"] for button in choose["buttons"]}
    assert list(buttons) == ["Kivikon terveysasema", "Kontulan terveysasema"]
    assert chat.texts(buttons["Kivikon terveysasema"])[0].startswith(
        "Kivikon terveysasema, "
    )


def test_an_unknown_station_gets_nearby_ones_not_a_wrong_answer(
    server: Server, responses: Responses
) -> None:
    chat = server.chat()
    [unknown] = chat.send("Milloin Kallion terveysasema on auki?")
    assert unknown["text"] == variation(
        responses, "utter_clinic_not_in_directory", "fi"
    ).format(mention="Kallion terveysasema")
    assert [b["title"] for b in unknown["buttons"]] == ["Kalasataman terveysasema"]


def test_a_red_flag_inside_the_clinic_form_gets_112(server: Server, responses: Responses) -> None:
    chat = server.chat()
    chat.send("missä on lähin terveysasema")
    assert chat.active_loop() == "clinic_form"
    assert chat.texts("rintaan sattuu kovasti enkä saa henkeä") == [
        variation(responses, "utter_emergency", "fi")
    ]
    assert chat.active_loop() is None


def test_a_symptom_leaves_the_clinic_form_for_triage(server: Server,
                                                    responses: Responses) -> None:
    chat = server.chat()
    chat.send("when is the health station open")
    disclaimer, _ = chat.texts("I have a sore throat")
    assert disclaimer == variation(responses, "utter_triage_disclaimer", "en")
    assert chat.active_loop() == "triage_form"
