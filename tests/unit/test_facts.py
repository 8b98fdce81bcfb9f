"""Per-turn slot facts that the rules branch on."""

from __future__ import annotations

from bot.dialogue.facts import consecutive_fallbacks, turn_facts


def user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def test_consecutive_fallbacks_counts_only_the_latest_run() -> None:
    events = [user("nlu_fallback"), user("greet"), {"event": "bot"}, user("nlu_fallback"),
              {"event": "action"}, user("nlu_fallback")]
    assert consecutive_fallbacks(events) == 2
    assert consecutive_fallbacks([user("greet")]) == 0


def test_facts_for_a_red_flag_in_a_new_language() -> None:
    parse = {
        "text": "أبي لا يتنفس",
        "intent": {"name": "emergency"},
        "language": {"code": "ar", "confidence": 0.97, "supported": True},
        "red_flag": {"kinds": ["emergency"], "categories": ["not_breathing"]},
    }
    facts = turn_facts({"language": "fi"}, parse, {}, [user("emergency")])
    assert facts["language"] == "ar"
    assert facts["red_flag_kind"] == "emergency"
    assert facts["language_unsupported"] is False


def test_facts_reset_every_turn() -> None:
    parse = {"text": "kiitos", "intent": {"name": "thank"},
             "language": {"code": "fi", "confidence": 0.9, "supported": True}}
    facts = turn_facts({"language": "fi", "red_flag_kind": "crisis"}, parse, {}, [user("thank")])
    assert "language" not in facts  # unchanged sticky slot is not re-set
    assert facts["red_flag_kind"] is None
    assert facts["language_requested"] is False
    assert facts["repeated_fallback"] is False


def test_unsupported_language_fact() -> None:
    parse = {"text": "Ich brauche einen Arzt bitte", "intent": {"name": "nlu_fallback"},
             "language": {"code": "de", "confidence": 0.99, "supported": False}}
    facts = turn_facts({}, parse, {}, [user("nlu_fallback")])
    assert facts["language_unsupported"] is True
    assert facts["language"] == "en"


def test_a_red_flag_matched_in_one_language_decides_a_weak_detection() -> None:
    parse = {
        "text": "isäni ei hengitä",
        "intent": {"name": "emergency"},
        "language": {"code": "et", "confidence": 0.45, "supported": True},
        "red_flag": {"kinds": ["emergency"], "languages": ["fi"]},
    }
    slots = {"language": "en", "language_locked": True}
    assert turn_facts(slots, parse, {}, [])["language"] == "fi"


def test_the_languages_we_serve_are_offered_once_per_conversation() -> None:
    parse = {"text": "Je voudrais un rendez-vous demain", "intent": {"name": "nlu_fallback"},
             "language": {"code": "fr", "confidence": 0.99, "supported": False}}
    told = {"event": "action", "name": "utter_language_unsupported"}
    assert turn_facts({}, parse, {}, [user("nlu_fallback")])["language_unsupported"] is True
    later = turn_facts({}, parse, {}, [user("nlu_fallback"), told, user("nlu_fallback")])
    assert later["language_unsupported"] is False
