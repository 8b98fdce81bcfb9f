"""How answers are written as SMS: encodings and segments, numbered options, the
budget, and the SMS variants in the domain."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bot.dialogue.policy import SAFETY_RESPONSES
from bot.settings import SUPPORTED_LANGUAGES
from bot.sms.encoding import GSM7, UCS2, count_segments, smart_encode
from bot.sms.keywords import KeywordTable
from bot.sms.render import (
    Option,
    chosen_payload,
    pack,
    plain,
    render_turn,
    sms_response_text,
)
from tests.conftest import variation


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("a" * 160, GSM7, 1),
    ("a" * 161, GSM7, 2),
    ("a" * 306, GSM7, 2),
    ("a" * 307, GSM7, 3),
    ("ä ö å Ä Ö Å é" * 10, GSM7, 1),  # Finnish and Swedish letters are GSM-7
    ("€" * 80, GSM7, 1),  # an extension character costs two septets
    ("€" * 81, GSM7, 2),
    ("a" * 152 + "€" + "a" * 152, GSM7, 3),  # 306 septets, but a "€" is never split
    ("ж" * 70, UCS2, 1),
    ("ж" * 71, UCS2, 2),
    ("ж" * 134, UCS2, 2),
    ("ж" * 135, UCS2, 3),
    ("😀" * 35, UCS2, 1),  # an emoji is two UTF-16 units
    ("a" * 65 + "😀" * 2, UCS2, 1),
    ("", GSM7, 0),
])
def test_segments_follow_the_gsm_and_ucs2_limits(text: str, encoding: str, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.count) == (encoding, segments)


def test_surrogate_pairs_are_not_split_between_segments() -> None:
    # 66 units + an emoji (2 units) would need 68 in a 67-unit segment: it moves on.
    assert count_segments("ж" * 66 + "😀" + "ж" * 70).count == 3


def test_smart_encoding_keeps_finnish_in_gsm7_and_arabic_marks_in_ucs2(
        responses: dict[str, Any]) -> None:
    finnish = variation(responses, "utter_emergency", "fi")
    assert count_segments(finnish).encoding == UCS2  # the 🚨 and the dash
    sms = smart_encode(finnish)
    assert count_segments(sms).encoding == GSM7
    assert sms.startswith("Soita heti 112 - soitto on maksuton.")
    arabic = smart_encode(variation(responses, "utter_emergency", "ar"))
    assert "\u200e116 117" in arabic  # the direction mark keeps the number readable


def test_a_russian_answer_is_counted_in_ucs2_segments(responses: dict[str, Any]) -> None:
    text = smart_encode(variation(responses, "utter_emergency", "ru"))
    counted = count_segments(text)
    assert counted.encoding == UCS2
    assert counted.count == math.ceil(len(text) / 67) == 7


def test_buttons_become_numbered_options_and_a_number_maps_back() -> None:
    rendered = render_turn([{"text": "Onko sinulla **kuumetta**?", "buttons": [
        {"title": "Kyllä", "payload": "/affirm"}, {"title": "Ei", "payload": "/deny"}]}], 4)
    assert rendered.bodies == ["Onko sinulla kuumetta?\n1 = Kyllä, 2 = Ei"]
    assert chosen_payload("1", rendered.options) == "/affirm"
    assert chosen_payload(" 2. ", rendered.options) == "/deny"
    assert chosen_payload("3", rendered.options) is None  # not an option: read as text
    assert chosen_payload("2 päivää", rendered.options) is None


def test_long_option_titles_go_one_per_line() -> None:
    buttons = [{"title": "Malmin terveysasema", "payload": "/a"},
               {"title": "Vuosaaren terveysasema", "payload": "/b"}]
    body = render_turn([{"text": "Mikä niistä?", "buttons": buttons}], 4).bodies[0]
    assert body == "Mikä niistä?\n1 = Malmin terveysasema\n2 = Vuosaaren terveysasema"


def test_markdown_becomes_plain_text() -> None:
    assert plain("**Soita** [Päivystysapu](https://www.116117.fi) *nyt* `112`") == \
        "Soita Päivystysapu (https://www.116117.fi) nyt 112"


def test_a_turn_is_packed_within_the_budget_and_nothing_is_cut() -> None:
    sentences = " ".join(f"Lause numero {i} kertoo jotain tärkeää." for i in range(40))
    bodies = pack([("Alku.", False), (sentences, False), ("Loppu.", False)], 2)
    assert all(count_segments(body).count <= 2 for body in bodies)
    assert len(bodies) > 1
    joined = " ".join(bodies)
    for i in range(40):
        assert f"Lause numero {i} kertoo jotain tärkeää." in joined
    assert bodies[0].startswith("Alku.") and bodies[-1].endswith("Loppu.")


def test_a_safety_answer_is_never_split(responses: dict[str, Any]) -> None:
    text = variation(responses, "utter_emergency", "uk")
    rendered = render_turn([{"text": "Привіт", "utter_action": "utter_greet"},
                            {"text": text, "utter_action": "utter_emergency"}], 2)
    assert smart_encode(text) in rendered.bodies
    assert count_segments(smart_encode(text)).count > 2


def test_sms_variants_are_per_language_and_shorter(responses: dict[str, Any]) -> None:
    """Rasa prefers a channel variation without a condition over a language's own text,
    so an SMS variation must name its language, or Finns would get English."""
    found = 0
    for name, variations in responses.items():
        for sms in (v for v in variations if v.get("channel") == "sms"):
            found += 1
            assert sms.get("condition"), f"{name}: an SMS variation needs a language"
            language = sms["condition"][0]["value"]
            assert len(sms["text"]) < len(variation(responses, name, language)), name
            assert count_segments(smart_encode(sms["text"])).count <= 2, name
    assert found >= 6


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_answer_fits_the_default_budget_in_one_sms(
        responses: dict[str, Any], language: str) -> None:
    """Safety answers are exempt (sent whole); every other response fits four segments."""
    for name in responses:
        if name in SAFETY_RESPONSES:
            continue
        text = sms_response_text(responses, name, language)
        assert count_segments(text).count <= 4, (name, language)


def test_sms_variants_do_not_teach_the_opt_out_word(responses: dict[str, Any]) -> None:
    """On SMS "lopeta" stops every message, so the triage does not offer it there."""
    table = KeywordTable.from_file()
    for language in SUPPORTED_LANGUAGES:
        text = sms_response_text(responses, "utter_triage_disclaimer", language)
        quoted = [word for word in text.replace("”", '"').replace("“", '"').split('"')[1::2]]
        assert quoted, text
        assert all(table.match(word) is None for word in quoted), (language, quoted)


@pytest.mark.parametrize(("text", "kind", "language"), [
    ("STOP", "stop", None), (" Lopeta! ", "stop", "fi"), ("sluta.", "stop", "sv"),
    ("START", "start", None), ("aloita", "start", "fi"), ("Börja", "start", "sv"),
    ("HELP", "help", None), ("apua", "help", "fi"), ("hjälp?", "help", "sv"),
])
def test_keywords_are_whole_messages(text: str, kind: str, language: str | None) -> None:
    keyword = KeywordTable.from_file().match(text)
    assert keyword is not None and (keyword.kind, keyword.language) == (kind, language)


@pytest.mark.parametrize("text", ["stop the questions please", "lopeta kysely", "börja om",
                                  "1", "", "🛑"])
def test_other_messages_are_not_keywords(text: str) -> None:
    assert KeywordTable.from_file().match(text) is None


def test_numbered_option_survives_storage_round_trip() -> None:
    options = [Option("Kyllä", "/affirm"), Option("Ei", "/deny")]
    stored = [vars(option) for option in options]
    assert chosen_payload("2", [Option(**option) for option in stored]) == "/deny"
