"""Content checks a reviewer relies on: the data validates and every response
speaks the native languages; safety answers carry the right numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.dialogue.validation import validate_project
from bot.settings import SUPPORTED_LANGUAGES
from tests.conftest import ROOT, Healthbot

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
ALL_LANGUAGES = ("fi", "sv", "ru", "et", "so", "ar", "uk")  # English is the default variation
#: Answered in English on purpose: the resident wrote in a language we do not serve.
ENGLISH_ONLY = {"utter_language_unsupported"}
#: One variation for every language: the action fills in text already in the right one.
FILLED_IN = {"utter_guidance_text"}
#: Only said in languages without hand-written answers (machine translation notices).
TRANSLATION_NOTICES = {"utter_machine_translated", "utter_translation_unavailable"}


def languages_of(name: str) -> set[str]:
    found = set()
    for item in RESPONSES[name]:
        conditions = item.get("condition") or []
        found |= {c["value"] for c in conditions if c.get("name") == "language"}
        if not conditions:
            found.add("en")
    return found


def test_healthbot_validate_passes_without_warnings(healthbot: Healthbot) -> None:
    result = healthbot("validate")
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "content valid" in result.stdout


def test_validation_still_fails_on_a_response_nothing_uses(tmp_path: Path) -> None:
    """The exception for responses sent by actions must not hide real leftovers."""
    for name in ("config.yml", "data", "actions", "bot"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    domain["responses"]["utter_forgotten"] = [{"text": "nobody sends me"}]
    (tmp_path / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True))
    problems = validate_project(tmp_path)
    assert problems == ["The utterance 'utter_forgotten' is not used in any story or rule."]


@pytest.mark.parametrize(
    "name", sorted(set(RESPONSES) - ENGLISH_ONLY - FILLED_IN - TRANSLATION_NOTICES)
)
def test_every_response_is_hand_written_in_all_eight_languages(name: str) -> None:
    """Native means no English fallback: a message tagged `lang="ar"` is Arabic."""
    assert languages_of(name) == {"en", *ALL_LANGUAGES}


@pytest.mark.parametrize("name", sorted(TRANSLATION_NOTICES))
def test_translation_notices_are_english_for_translation_to_carry(name: str) -> None:
    """Only languages without texts of their own are translated: the eight never are."""
    assert languages_of(name) == {"en"}
    assert all("112" in item["text"] for item in RESPONSES[name])


@pytest.mark.parametrize(
    ("name", "numbers"),
    [
        ("utter_emergency", ["112", "116 117"]),
        ("utter_emergency_check", ["112", "116 117"]),
        ("utter_emergency_poisoning", ["112", "0800 147 111"]),
        ("utter_emergency_crisis", ["112", "09 2525 01"]),
    ],
)
def test_safety_answers_exist_in_all_eight_languages_with_their_numbers(
    name: str, numbers: list[str]
) -> None:
    assert languages_of(name) == {"en", *ALL_LANGUAGES}
    for item in RESPONSES[name]:
        for number in numbers:
            assert number in item["text"], (name, item.get("condition"), number)


def test_crisis_line_matches_the_language() -> None:
    lines = {"fi": "0111", "sv": "0112", "en": "0113", "ar": "0113", "uk": "0114", "ru": "0115"}
    for item in RESPONSES["utter_emergency_crisis"]:
        conditions = item.get("condition") or []
        language = conditions[0]["value"] if conditions else "en"
        if language in lines:
            assert f"09 2525 {lines[language]}" in item["text"], language


def test_every_shared_name_is_declared_in_the_domain() -> None:
    from bot.dialogue import names

    declared = {"SLOT": set(DOMAIN["slots"]), "ACTION": set(DOMAIN["actions"]),
                "RESPONSE": set(RESPONSES)}
    shared = {key: value for key, value in vars(names).items() if key.isupper()}
    assert shared
    for key, value in shared.items():
        assert value in declared[key.rsplit("_", 1)[1]], key


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_no_training_example_is_near_a_held_out_one(language: str) -> None:
    """The held-out figures mean something only if the model never saw their like."""
    from difflib import SequenceMatcher

    from rasa.shared.nlu.training_data.loading import load_data

    def texts(path: Path) -> list[str]:
        return [example.get("text").lower().strip()
                for example in load_data(str(path)).intent_examples]

    held_out = texts(ROOT / "tests" / "data" / "nlu_heldout" / f"{language}.yml")
    training = texts(ROOT / "data" / "nlu" / f"{language}.yml")
    assert len(held_out) >= 150
    near = []
    for kept in held_out:
        matcher = SequenceMatcher(None, b=kept)
        for seen in training:
            matcher.set_seq1(seen)
            if matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85 \
                    and matcher.ratio() >= 0.85:
                near.append((kept, seen))
    assert near == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_intent_has_at_least_sixty_training_examples(language: str) -> None:
    from collections import Counter

    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu" / f"{language}.yml"))
    counts = Counter(example.get("intent") for example in data.intent_examples)
    assert set(counts) == set(DOMAIN["intents"])
    assert min(counts.values()) >= 60, counts
