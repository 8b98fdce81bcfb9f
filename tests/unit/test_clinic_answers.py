"""Which unit a resident means, and what the assistant then says about it, on the
project's real directory loaded into a real database."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from bot.clinics import service
from bot.clinics.answers import Reply, address, display_phone
from bot.clinics.directory import read_csv
from bot.clinics.references import Certainty
from bot.clinics.service import Directory, DirectoryCache
from bot.evaluation import reference_figures
from bot.settings import TIMEZONE
from bot.storage.directory import import_units
from tests.conftest import ROOT, Responses, variation
from tests.unit.conftest import CSV

MIN_REFERENCE_ACCURACY = 0.95


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TIMEZONE)


@pytest.fixture
def directory(loaded_engine: Engine) -> Directory:
    return DirectoryCache(loaded_engine).get()


def render(responses: Responses, replies: list[Reply], language: str) -> list[str]:
    """What the resident reads: the domain's variation filled with the reply's values."""
    return [variation(responses, r.response, language).format(**r.values) for r in replies]


# --- references -----------------------------------------------------------------------


def test_reference_list_is_resolved(directory: Directory) -> None:
    figures = reference_figures(ROOT, directory.resolve)
    print(f"reference resolution: {figures['accuracy']} on {figures['n']} references")
    assert figures["n"] >= 40
    assert figures["accuracy"] >= MIN_REFERENCE_ACCURACY, figures["misses"]


@pytest.mark.parametrize(
    ("text", "language", "units"),
    [
        ("postinumero 00940", "fi", ("kivikko", "kontula")),  # two stations share it
        ("asun Mellunkylässä", "fi", ("kivikko", "kontula")),  # a district with two
        ("asun Kalliossa", "fi", ("kalasatama",)),  # a neighbourhood without a station
        ("00530", "fi", ("kalasatama",)),  # a postcode without a station: nearby
        ("mihin päivystykseen menen", "fi", (
            "haartman-emergency", "malmi-emergency", "new-childrens-hospital-emergency")),
        ("Malmi vai Kontula?", "fi", ("kontula", "malmi")),
    ],
)
def test_doubtful_references_are_offered_as_choices(
    directory: Directory, text: str, language: str, units: tuple[str, ...]
) -> None:
    resolution = directory.resolve(text, language)
    assert resolution.certainty is Certainty.CHOICES
    assert resolution.unit is None
    assert resolution.units == units


def test_a_station_the_directory_does_not_hold_is_never_answered_as_another(
    directory: Directory,
) -> None:
    resolution = directory.resolve("Milloin Kallion terveysasema on auki?", "fi")
    assert resolution.certainty is Certainty.UNKNOWN
    assert resolution.unit is None
    assert resolution.mention == "Kallion terveysasema"
    assert resolution.units == ("kalasatama",)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "🙂🙂🙂", "milloin terveysasema on auki lauantaina", "kuiva yskä kolme viikkoa",
     "var slänger jag gamla kläder", "haluan neuvoa hoitajalta", "\x00\x01", "x" * 5000],
)
def test_messages_without_a_reference_resolve_to_nothing(directory: Directory, text: str) -> None:
    assert directory.resolve(text, "fi").certainty is Certainty.NONE


def test_ordinary_words_are_not_typo_corrected_into_places(directory: Directory) -> None:
    """"viikon" is one letter from "Viikin", "neuvoa" from "neuvola"."""
    for text in ("yskä jatkunut viikon", "haluun neuvoa", "paljonko maksaa"):
        assert directory.resolve(text, "fi").certainty is Certainty.NONE, text


# --- answers --------------------------------------------------------------------------


def test_open_station_in_finnish(directory: Directory, responses: Responses) -> None:
    replies = directory.answer("malmi", at("2026-12-14T10:00"), "fi")  # a Monday
    assert render(responses, replies, "fi") == [
        "Malmin terveysasema, Talvelantie 4, 00700 Helsinki. Puhelin 09 3105 7702.",
        "Auki nyt. Tänään auki 08:00–16:00, suljetaan klo 16.00.",
    ]


def test_swedish_answer_uses_swedish_name_and_street(
    directory: Directory, responses: Responses
) -> None:
    replies = directory.answer("haaga", at("2026-12-14T18:00"), "sv")
    texts = render(responses, replies, "sv")
    assert texts[0] == "Haga hälsostation, Knektvägen 5, 00400 Helsingfors. Telefon 09 3104 9270."
    assert texts[1] == ("Stängt nu. I dag öppet 08:00–16:00. "
                        "Öppnar nästa gång: tisdag 15.12 kl. 8.00.")
    assert "116 117" in texts[2] and "Nya barnsjukhuset" in texts[2]


def test_evening_hours(directory: Directory, responses: Responses) -> None:
    replies = directory.answer("kalasatama", at("2026-12-14T18:00"), "en")
    assert render(responses, replies, "en")[1] == (
        "Open now. Today's hours: 08:00–20:00; closes at 20:00."
    )


def test_weekend_says_when_it_opens_and_where_to_turn(
    directory: Directory, responses: Responses
) -> None:
    replies = directory.answer("vuosaari", at("2026-12-12T10:00"), "fi")  # a Saturday
    texts = render(responses, replies, "fi")
    assert texts[1] == "Tänään suljettu. Seuraavan kerran auki: maanantaina 14.12. klo 8.00."
    assert texts[2].startswith("Jos asia ei voi odottaa, soita Päivystysapuun 116 117")
    assert "Malmin päivystys (aikuiset, 16+), Talvelantie 6" in texts[2]
    assert "Uusi lastensairaala" in texts[2] and "112" in texts[2]


@pytest.mark.parametrize(
    ("language", "closed"),
    [
        ("fi", "Tänään suljettu (Joulupäivä). Seuraavan kerran auki: maanantaina 28.12. klo 8.00."),
        ("sv", "Stängt i dag (Juldagen). Öppnar nästa gång: måndag 28.12 kl. 8.00."),
        ("en", "Closed today (Christmas Day). Next open: Monday 28 December at 08:00."),
    ],
)
def test_christmas_day_names_the_holiday(
    directory: Directory, responses: Responses, language: str, closed: str
) -> None:
    replies = directory.answer("kontula", at("2026-12-25T11:00"), language)
    assert render(responses, replies, language)[1] == closed


def test_units_open_on_holidays(directory: Directory, responses: Responses) -> None:
    christmas = at("2026-12-25T11:00")
    assert render(responses, directory.answer("health-advice-24-7", christmas, "en"), "en") == [
        "Helsinki health advice line: phone 09 3101 0023.",
        "Open 24/7, including now.",
    ]
    dental = render(responses, directory.answer("dental-emergency-haartman", christmas, "fi"),
                    "fi")
    assert dental[1] == "Auki nyt. Tänään auki 08:00–21:00, suljetaan klo 21.00."


def test_native_languages_without_directory_texts_read_the_finnish_signs(
        directory: Directory) -> None:
    """The name on the door and the map, with the hours in the resident's language."""
    [who, hours] = directory.answer("malmi", at("2026-12-14T10:00"), "so")
    assert who.values["unit_name"] == "Malmin terveysasema"
    assert who.values["unit_address"].startswith("Talvelantie")
    replies = directory.answer("malmi", at("2026-12-24T10:00"), "ru")
    [closed] = [reply for reply in replies if reply.response == "utter_clinic_closed_holiday"]
    assert closed.values == {"closure_reason": "Сочельник",
                             "next_opening": "понедельник 28 декабря в 8:00"}


def test_other_languages_read_english(directory: Directory) -> None:
    [who, _] = directory.answer("malmi", at("2026-12-14T10:00"), "de")
    assert who.values["unit_name"] == "Malmi Health Station"


@pytest.mark.parametrize(
    ("phone", "shown"),
    [("+358931049270", "09 3104 9270"), ("+358116117", "116 117"), ("116117", "116 117"),
     ("+358947171110", "09 4717 1110")],
)
def test_phone_numbers_as_dialled_in_finland(phone: str, shown: str) -> None:
    assert display_phone(phone) == shown


def test_english_address_uses_the_finnish_street(directory: Directory) -> None:
    assert address(directory.units["haaga"], "en") == "Huovitie 5, 00400 Helsinki"
    assert address(directory.units["medical-helpline-116117"], "fi") is None


def test_running_process_sees_a_new_import(
    loaded_engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = DirectoryCache(loaded_engine)
    assert cache.get().units["haaga"].phone == "+358931049270"
    changed = tmp_path / "changed.csv"
    changed.write_text(CSV.read_text(encoding="utf-8").replace("+358931049270", "+358931000000"),
                       encoding="utf-8")
    import_units(loaded_engine, read_csv(changed))
    assert cache.get().units["haaga"].phone == "+358931049270"  # not checked again yet
    monkeypatch.setattr(service, "CHECK_INTERVAL_S", 0.0)
    assert cache.get().units["haaga"].phone == "+358931000000"


def test_async_code_gets_the_directory_with_no_sql_on_the_event_loop(
    loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = DirectoryCache(loaded_engine)
    checked_in: list[str] = []
    check = service.directory_version

    def recorded(engine: Engine) -> tuple[object, ...]:
        checked_in.append(threading.current_thread().name)
        return check(engine)

    monkeypatch.setattr(service, "directory_version", recorded)

    async def twice() -> tuple[str, Directory, Directory]:
        first = await cache.get_async()  # loaded in a worker thread
        second = await cache.get_async()  # fresh: at once, no SQL at all
        return threading.current_thread().name, first, second

    loop, first, second = asyncio.run(twice())
    assert second is first and "haaga" in first.units
    assert len(checked_in) == 1 and loop not in checked_in
    monkeypatch.setattr(service, "CHECK_INTERVAL_S", 0.0)  # a check is due on every call
    assert asyncio.run(cache.get_async()) is first  # unchanged tables: the same load
    assert len(checked_in) == 2 and loop not in checked_in
