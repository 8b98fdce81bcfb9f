"""Language identification and the conversation's sticky language."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.language.choice import LanguageState, Turn, choose, requested_language, turn_from_parse
from bot.language.component import TRANSLITERATION_KEY, LanguageDetector
from bot.language.identify import Detection, default_identifier
from bot.language.names import code_for_name
from bot.language.transliterate import to_cyrillic


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("kiitos", "fi"),
        ("mä oon ihan kipee", "fi"),
        ("paivystys", "fi"),
        ("tack så mycket", "sv"),
        ("halsostation", "sv"),
        ("thanks", "en"),
        ("need a doctor", "en"),
        ("спасибо", "ru"),
        ("мне плохо", "ru"),
        ("дякую", "uk"),
        ("мені погано", "uk"),
        ("aitäh", "et"),
        ("mul on palavik", "et"),
        ("mahadsanid", "so"),
        ("waxaan qabaa qandho", "so"),
        ("شكرا", "ar"),
        ("أحتاج طبيب", "ar"),
    ],
)
def test_short_messages(text: str, code: str) -> None:
    detection = default_identifier().identify(text)
    assert detection.code == code, detection
    assert detection.supported
    assert 0.0 < detection.confidence <= 1.0


def test_mixed_script_goes_with_the_script_of_most_letters() -> None:
    assert default_identifier().identify("hei, мне очень плохо").code == "ru"
    assert default_identifier().identify("ok شكرا جزيلا لك").code == "ar"


def test_ukrainian_letters_tell_ukrainian_from_russian() -> None:
    assert default_identifier().identify("де лікар").code == "uk"
    assert default_identifier().identify("где врач").code == "ru"


def test_unsupported_language_is_reported_with_its_code() -> None:
    german = default_identifier().identify("Ich brauche heute einen Termin beim Arzt")
    assert (german.code, german.supported) == ("de", False)
    persian = default_identifier().identify("من سردرد دارم و پزشک میخواهم")
    assert persian.supported is False and persian.code == "fa"


@pytest.mark.parametrize("text", ["", "🙂👍", "12345", "!!!", "\x00\x00"])
def test_no_letters_means_undetermined(text: str) -> None:
    detection = default_identifier().identify(text)
    assert detection.code == "und" and detection.confidence == 0.0


def turn(code: str, confidence: float, n_words: int, **kwargs: object) -> Turn:
    return Turn(Detection(code, confidence), n_words, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("word", ["ok", "kiitos", "yes", "tack", "joo"])
def test_a_short_message_never_flips_the_language(word: str) -> None:
    detection = default_identifier().identify(word)
    state = LanguageState("sv" if detection.code != "sv" else "fi")
    after = choose(state, Turn(detection, 1))
    assert after == state


def test_a_clear_message_in_another_language_switches() -> None:
    detection = default_identifier().identify("voisitteko kertoa milloin terveysasema aukeaa")
    assert choose(LanguageState("sv"), Turn(detection, 5)).code == "fi"


def test_another_script_switches_with_two_words() -> None:
    assert choose(LanguageState("fi"), turn("ru", 0.9, 2)).code == "ru"
    assert choose(LanguageState("fi"), turn("ru", 0.9, 1)).code == "fi"


def test_explicit_choice_wins_and_sticks() -> None:
    state = choose(LanguageState("fi"), turn("fi", 0.9, 2, requested="en"))
    assert state == LanguageState("en", locked=True)
    assert choose(state, turn("fi", 0.99, 8)) == state  # a long Finnish message keeps English


def test_red_flag_in_another_language_is_answered_in_it_even_when_locked() -> None:
    state = LanguageState("en", locked=True)
    assert choose(state, turn("ar", 0.97, 2, red_flag=True)).code == "ar"


def test_first_message_uses_channel_hint_when_unsure() -> None:
    assert choose(LanguageState(), turn("en", 0.4, 1, hint="fi")).code == "fi"
    assert choose(LanguageState(), turn("sv", 0.9, 3, hint="fi")).code == "sv"
    assert choose(LanguageState(), turn("und", 0.0, 0)).code == "en"


@pytest.mark.parametrize(
    ("text", "intent", "code"),
    [
        ("puhu englantia", "change_language", "en"),
        ("voitko vaihtaa ruotsiksi", "change_language", "sv"),
        ("byt till finska tack", "change_language", "fi"),
        ("can you speak Ukrainian please", "change_language", "uk"),
        ("говорите по-русски", "change_language", "ru"),
        ("English", "greet", "en"),
        ("på svenska", "deny", "sv"),
        ("af soomaali", "out_of_scope", "so"),
        ("بالعربية", "greet", "ar"),
        ("inglise keeles palun", "change_language", "en"),
    ],
)
def test_explicit_requests_name_a_language(text: str, intent: str, code: str) -> None:
    parse = {"text": text, "intent": {"name": intent}, "entities": []}
    assert requested_language(parse) == code


def test_no_request_in_a_long_message_that_only_mentions_a_language() -> None:
    parse = {"text": "my mother speaks only Russian and has a fever", "intent": {"name": "x"}}
    assert requested_language(parse) is None


def test_language_entity_and_picker_metadata() -> None:
    entity = {"text": "x", "entities": [{"entity": "language", "value": "ruotsiksi"}]}
    assert requested_language(entity) == "sv"
    assert requested_language({"text": "hei"}, {"language_choice": "uk"}) == "uk"
    assert requested_language({"text": "hei"}, {"language_choice": "xx"}) is None


def test_names() -> None:
    assert code_for_name("englanniksi") == "en"
    assert code_for_name("sv") == "sv"
    assert code_for_name("klingon") is None


def test_turn_from_parse_without_detection_is_undetermined() -> None:
    parsed = turn_from_parse({"text": "/greet"})
    assert parsed.detection.code == "und"


@pytest.mark.parametrize(
    ("text", "code"),
    [("u rebenka temperatura", "ru"), ("mama ne prosypaetsya", "ru"), ("mne ploho", "ru"),
     ("syn ne dykhaye", "uk"), ("dopomozhit", "uk"), ("dytyna ne dykhaye", "uk"),
     ("3ndi 7arara", "ar"), ("abouy wi2e3 w ma 3am yi7ki", "ar"), ("shukran", "ar")],
)
def test_russian_ukrainian_and_arabic_typed_in_latin_letters(text: str, code: str) -> None:
    detection = default_identifier().identify(text)
    assert (detection.code, detection.latin) == (code, True), detection
    assert detection.confidence >= 0.6


@pytest.mark.parametrize(
    ("text", "code"),
    [("is the clinic open at 3pm", "en"), ("covid19 test please", "en"),
     ("my postcode is 00940", "en"), ("milloin Malmi on auki", "fi"),
     ("Haloo, waxaan rabaa dhakhtar", "so"), ("tere, mul on palavik", "et")],
)
def test_latin_script_languages_are_not_taken_for_typed_cyrillic_or_arabic(
        text: str, code: str) -> None:
    detection = default_identifier().identify(text)
    assert (detection.code, detection.latin) == (code, False), detection


@pytest.mark.parametrize(
    ("text", "language", "cyrillic"),
    [("u menya bolit ukho", "ru", "у меня болит ухо"), ("ne dyshit", "ru", "не дышит"),
     ("mama ne prosypaetsya", "ru", "мама не просыпается"),
     ("moy syn poteryal soznanie", "ru", "мой сын потерял сознание"),
     ("syn ne dykhaye", "uk", "син не дихає"),
     ("u dytyny temperatura", "uk", "у дитини температура")],
)
def test_latin_letters_are_read_back_in_cyrillic(text: str, language: str,
                                                 cyrillic: str) -> None:
    assert to_cyrillic(text, language) == cyrillic


def test_typed_cyrillic_reaches_the_nlu_in_cyrillic_and_keeps_what_was_typed() -> None:
    [message] = LanguageDetector().process([Message(data={"text": "u menya bolit ukho"})])
    assert message.get("text") == "у меня болит ухо"
    assert message.get(TRANSLITERATION_KEY) == {"original": "u menya bolit ukho"}
    assert message.get("language")["code"] == "ru"


def test_letter_variants_reach_the_classifier_in_one_spelling() -> None:
    """أ/إ/ا, ة/ه, ى/ي and ё/е are one letter to residents: one for the character n-grams
    too, and the text keeps its length, so entity offsets in the NLU data stay right."""
    texts = ["أريد ممرضة", "اريد ممرضه", "Всё ещё болит"]
    messages = LanguageDetector().process([Message(data={"text": t}) for t in texts])
    assert [m.get("text") for m in messages] == ["اريد ممرضه", "اريد ممرضه", "Все еще болит"]
    assert all(len(m.get("text")) == len(t) for m, t in zip(messages, texts, strict=True))
