"""The conversation's language: sticky, switched only by clear evidence or request.

One message's detection is weak evidence when the message is short: "ok",
"kiitos" or "yes" must never flip a conversation. The language in use is
kept unless

* the resident asks for a language (`change_language`, a language picker),
  which always wins and locks the choice against automatic flips;
* a message of at least three words is confidently in another language;
* a message in another script (Arabic, Cyrillic vs Latin) has two words or more;
* a red-flag message is confidently in another language: a frightened
  resident writes in the language they know best, and must be answered in it.

Channel hints (the widget page language, a +358 phone number) only seed a
conversation that has no language yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.language.identify import UNDETERMINED, Detection
from bot.language.names import code_for_name, find_language_name
from bot.settings import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from bot.text import lower, words

SWITCH_MIN_WORDS = 3
SWITCH_MIN_CONFIDENCE = 0.7
SCRIPT_SWITCH_MIN_WORDS = 2
SCRIPT_SWITCH_MIN_CONFIDENCE = 0.6
RED_FLAG_MIN_CONFIDENCE = 0.6
RED_FLAG_PATTERN_CONFIDENCE = 0.9
#: Below this a first message is unsure enough that a channel hint decides.
HINT_WINS_BELOW = 0.6
_SCRIPTS = {"ru": "cyrillic", "uk": "cyrillic", "ar": "arabic"}
CHANGE_LANGUAGE_INTENT = "change_language"
#: A message this short that names a language ("English", "på svenska") is a request.
NAMED_REQUEST_MAX_WORDS = 2
#: Message metadata a channel may send: an explicit picker choice, or a soft hint.
CHOICE_METADATA_KEY = "language_choice"
HINT_METADATA_KEY = "language_hint"


@dataclass(frozen=True)
class LanguageState:
    """What the dialogue knows about the conversation's language."""

    code: str | None = None
    locked: bool = False


@dataclass(frozen=True)
class Turn:
    """The evidence one user message brings."""

    detection: Detection
    n_words: int
    requested: str | None = None
    hint: str | None = None
    red_flag: bool = False


def choose(state: LanguageState, turn: Turn) -> LanguageState:
    """The language state after this turn."""
    if turn.requested in SUPPORTED_LANGUAGES:
        return LanguageState(turn.requested, locked=True)
    detection = turn.detection
    usable = detection.supported and detection.code != UNDETERMINED
    if state.code is None:
        hint = turn.hint if turn.hint in SUPPORTED_LANGUAGES else None
        if usable and (hint is None or detection.confidence >= HINT_WINS_BELOW):
            return LanguageState(detection.code)
        return LanguageState(hint or DEFAULT_LANGUAGE)
    if not usable or detection.code == state.code:
        return state
    if turn.red_flag and detection.confidence >= RED_FLAG_MIN_CONFIDENCE:
        return LanguageState(detection.code, state.locked)
    if state.locked:
        return state
    if _script(detection.code) != _script(state.code):
        clear = (
            turn.n_words >= SCRIPT_SWITCH_MIN_WORDS
            and detection.confidence >= SCRIPT_SWITCH_MIN_CONFIDENCE
        )
    else:
        clear = turn.n_words >= SWITCH_MIN_WORDS and detection.confidence >= SWITCH_MIN_CONFIDENCE
    return LanguageState(detection.code) if clear else state


def _script(code: str) -> str:
    return _SCRIPTS.get(code, "latin")


def requested_language(parse: dict[str, Any], metadata: dict[str, Any] | None = None) -> str | None:
    """The language a message explicitly asks for: a picker choice, a `language`
    entity, or a language named in a `change_language` or very short message."""
    choice = (metadata or {}).get(CHOICE_METADATA_KEY)
    if choice in SUPPORTED_LANGUAGES:
        return choice
    for entity in parse.get("entities") or []:
        if entity.get("entity") == "language":
            code = code_for_name(str(entity.get("value") or ""))
            if code:
                return code
    text = parse.get("text") or ""
    intent = (parse.get("intent") or {}).get("name")
    if intent == CHANGE_LANGUAGE_INTENT or len(words(lower(text))) <= NAMED_REQUEST_MAX_WORDS:
        return find_language_name(text)
    return None


def turn_from_parse(parse: dict[str, Any], metadata: dict[str, Any] | None = None) -> Turn:
    """Collect the evidence of one Rasa parse result (and the message metadata)."""
    hint = (metadata or {}).get(HINT_METADATA_KEY)
    detection = Detection.from_dict(parse.get("language"))
    red_flag = parse.get("red_flag") or {}
    flagged_in = red_flag.get("languages") or []
    if len(flagged_in) == 1 and detection.confidence < RED_FLAG_MIN_CONFIDENCE:
        # The red-flag patterns of one language matched: stronger evidence than
        # letters and word lists on a short, frightened message.
        detection = Detection(flagged_in[0], RED_FLAG_PATTERN_CONFIDENCE)
    return Turn(
        detection=detection,
        n_words=len(words(lower(parse.get("text") or ""))),
        requested=requested_language(parse, metadata),
        hint=hint if isinstance(hint, str) else None,
        red_flag=bool(red_flag),
    )
