"""The clinic answer action tested as Rasa's demo bots test actions: a `Tracker`, a
`CollectingDispatcher` and the clock fixed with `HEALTHBOT_NOW` in the environment, on
the project's directory in a SQLite file. No server is needed for a Christmas Eve."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine

from actions import clinics
from bot.clinics.service import DirectoryCache
from tests.conftest import Responses, variation

#: What the dispatcher adds to a message besides the response's own values.
_MESSAGE_KEYS = {"text", "buttons", "image", "elements", "custom", "attachment", "response",
                 "template"}


@pytest.fixture
def answer(loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch,
           responses: Responses) -> Any:
    """Run `action_clinic_answer` for a unit in a language; what the resident reads."""
    monkeypatch.setattr(clinics, "_directory_cache", lambda: DirectoryCache(loaded_engine))

    def run(unit: str, language: str) -> list[str]:
        tracker = Tracker("resident", {"clinic_unit": unit, "language": language}, {}, [],
                          False, None, {}, "")
        dispatcher = CollectingDispatcher()
        asyncio.run(clinics.ActionClinicAnswer().run(dispatcher, tracker, {}))
        return [variation(responses, message["response"], language).format(
            **{key: value for key, value in message.items() if key not in _MESSAGE_KEYS})
            for message in dispatcher.messages]

    return run


@pytest.mark.parametrize(
    ("language", "unit", "closed", "instead"),
    [
        ("fi", "vuosaari", (
            "Tänään suljettu (Jouluaatto). Seuraavan kerran auki: maanantaina 28.12. klo 8.00."
        ), "Jos asia ei voi odottaa, soita Päivystysapuun 116 117"),
        ("sv", "malmi", (
            "Stängt i dag (Julafton). Öppnar nästa gång: måndag 28.12 kl. 8.00."
        ), "Om det inte kan vänta, ring Jourhjälpen 116 117"),
        ("en", "kalasatama", (
            "Closed today (Christmas Eve). Next open: Monday 28 December at 08:00."
        ), "If it cannot wait, call the Medical Helpline 116 117"),
    ],
)
def test_closed_on_christmas_eve_with_where_to_turn(
        answer: Any, monkeypatch: pytest.MonkeyPatch, language: str, unit: str, closed: str,
        instead: str) -> None:
    monkeypatch.setenv("HEALTHBOT_NOW", "2026-12-24T18:00+02:00")
    who, when, turn_to = answer(unit, language)
    assert when == closed
    assert turn_to.startswith(instead)
    assert "112" in turn_to
    child_ed = {"fi": "Uusi lastensairaala", "sv": "Nya barnsjukhuset",
                "en": "New Children's Hospital"}[language]
    assert child_ed in turn_to


def test_the_same_station_is_open_on_a_monday_morning(
        answer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHBOT_NOW", "2026-12-14T10:00+02:00")
    assert answer("vuosaari", "fi")[1] == "Auki nyt. Tänään auki 08:00–16:00, suljetaan klo 16.00."


@pytest.mark.parametrize("station", ["vuosaari", None])
def test_triage_advice_names_the_residents_own_station(
        loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch, station: str | None) -> None:
    from actions.triage import ActionTriageResult
    from bot.settings import load_settings

    monkeypatch.setenv("HEALTHBOT_NOW", "2026-12-14T10:00+02:00")
    cache = DirectoryCache(loaded_engine)
    monkeypatch.setattr(clinics, "_directory_cache", lambda: cache)
    tracker = Tracker("resident", {"last_clinic": station, "language": "fi"}, {}, [], False,
                      None, {}, "")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionTriageResult._own_station(dispatcher, tracker, "fi"))
    expected = [reply.response for reply in cache.get().answer(
        station, load_settings().now(), "fi")] if station else ["utter_triage_which_station"]
    assert [message["response"] for message in dispatcher.messages] == expected


def test_the_clinic_form_fills_its_slot_without_a_domain_in_the_request(
        loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa sends no domain (`enable_selective_domain`): the form reads its own, the same
    slots and forms Rasa would have sent, and validates as it did with Rasa's."""
    from rasa.shared.core.domain import Domain

    from actions.forms import form_domain
    from bot.settings import PROJECT_ROOT

    sent = Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()
    assert form_domain()["forms"] == sent["forms"]
    assert {name: slot.get("mappings") for name, slot in form_domain()["slots"].items()} \
        == {name: slot.get("mappings") for name, slot in sent["slots"].items()}

    monkeypatch.setattr(clinics, "_directory_cache", lambda: DirectoryCache(loaded_engine))
    message = {"text": "Malmin terveysasema", "intent": {"name": "ask_clinic_hours"},
               "entities": []}

    def validate(domain: dict[str, Any]) -> list[dict[str, Any]]:
        tracker = Tracker("resident", {"language": "fi", "requested_slot": "clinic_unit"},
                          message, [{"event": "user", **message}], False, None,
                          {"name": "clinic_form"}, "action_listen")
        return asyncio.run(clinics.ValidateClinicForm().run(CollectingDispatcher(), tracker,
                                                            domain))

    without = validate({})
    assert {"event": "slot", "timestamp": None, "name": "clinic_unit", "value": "malmi"} \
        in without
    assert without == validate(sent)
