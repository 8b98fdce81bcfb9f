"""The red-flag layer on messages written independently of its patterns."""

from __future__ import annotations

import pytest
import yaml

from bot.triage.redflags import RedFlagDataError, RedFlagDetector, default_detector
from tests.conftest import DATA

CASES = yaml.safe_load((DATA / "redflags.yml").read_text(encoding="utf-8"))
RED_FLAGS = [
    pytest.param(row["text"], row["category"], id=f"{lang}-{i}")
    for lang, block in CASES.items()
    for i, row in enumerate(block["red_flags"])
]
HARMLESS = [
    pytest.param(text, id=f"{lang}-{kind}-{i}")
    for lang, block in CASES.items()
    for kind in ("near_misses", "ordinary")
    for i, text in enumerate(block[kind])
]


def test_every_language_has_enough_cases() -> None:
    assert set(CASES) == {"fi", "sv", "en", "ru", "et", "so", "ar", "uk"}
    for block in CASES.values():
        assert len(block["red_flags"]) >= 10
        assert len(block["near_misses"]) >= 5


@pytest.mark.parametrize(("text", "kind"), RED_FLAGS)
def test_red_flag_gets_the_right_kind_of_answer(text: str, kind: str) -> None:
    hit = default_detector().detect(text)
    assert hit is not None, f"missed red flag: {text!r}"
    assert kind in hit.kinds, f"{text!r} answered as {hit.kinds}, expected {kind}"


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_message_gets_no_emergency_answer(text: str) -> None:
    hit = default_detector().detect(text)
    assert hit is None, f"false alarm {hit} on {text!r}"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "🙂🙂🙂", "\x00\x01\x02", "a" * 100_000, "ok " * 5_000, "{\"json\": true}"],
)
def test_odd_input_never_raises(text: str) -> None:
    assert default_detector().detect(text) is None


def test_negation_just_before_a_symptom_is_not_an_alarm_but_a_clause_later_is() -> None:
    detector = default_detector()
    assert detector.detect("no chest pain, just a cough") is None
    assert detector.detect("No, he has chest pain") is not None


def test_malformed_pattern_file_names_the_field() -> None:
    base = {"categories": {"chest_pain": "emergency"}, "languages": {}}
    with pytest.raises(RedFlagDataError, match="no patterns for fi"):
        RedFlagDetector.from_dict(base, source="x.yml")
    languages = {code: {"patterns": {"chest_pain": ["ok"]}} for code in CASES}
    languages["sv"] = {"patterns": {"chest_pain": ["(unclosed"]}}
    with pytest.raises(RedFlagDataError, match=r"x\.yml: languages\.sv\.patterns\.chest_pain\[0\]"):
        RedFlagDetector.from_dict({**base, "languages": languages}, source="x.yml")
    with pytest.raises(RedFlagDataError, match="kind 'maybe'"):
        RedFlagDetector.from_dict({"categories": {"x": "maybe"}, "languages": {}}, source="x.yml")


def test_negation_after_the_hit_in_languages_that_put_it_there() -> None:
    languages = {code: {"patterns": {"chest_pain": [r"\bzzz"]}} for code in CASES}
    languages["so"] = {
        "patterns": {"chest_pain": [r"\blaabta xanuun"]},
        "negations_after": ["ma hayo"],
    }
    detector = RedFlagDetector.from_dict(
        {"categories": {"chest_pain": "emergency"}, "languages": languages}
    )
    assert detector.detect("laabta xanuun ma hayo") is None
    assert detector.detect("laabta xanuun ayaan qabaa") is not None
    # the negation must follow in the same clause
    assert detector.detect("laabta xanuun. ma hayo wax kale") is not None


@pytest.mark.parametrize(
    ("text", "category"),
    [("mama ne prosypaetsya", "unconscious"), ("syn ne dykhaye", "not_breathing"),
     ("silnaya bol v grudi", "chest_pain"), ("moy rebenok vypil otbelivatel", "poisoning")],
)
def test_russian_and_ukrainian_typed_in_latin_letters_are_read_in_cyrillic(
        text: str, category: str) -> None:
    hit = default_detector().detect(text)
    assert hit is not None and category in hit.categories, hit


@pytest.mark.parametrize("text", ["hello there, when are you open", "milloin malmi on auki",
                                  "ya hochu zapisatsya k vrachu", "mne nuzhna spravka"])
def test_ordinary_latin_text_is_no_red_flag_in_cyrillic_either(text: str) -> None:
    assert default_detector().detect(text) is None
