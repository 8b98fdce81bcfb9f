"""Opt-out, opt-in and help keywords, the way operators treat them: the whole message
is the keyword. Their answers are `utter_sms_*` responses in `domain.yml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT, SUPPORTED_LANGUAGES
from bot.text import lower

KEYWORDS_FILE = PROJECT_ROOT / "data" / "sms" / "keywords.yml"
KINDS = ("stop", "start", "help")
#: What the channel answers to each keyword.
RESPONSES = {"stop": "utter_sms_stopped", "start": "utter_sms_started", "help": "utter_sms_help"}
TEXT_ONLY_RESPONSE = "utter_sms_text_only"
_ANY = "any"
_TRIM = " \t\r\n.!?,;:\"'()"


@dataclass(frozen=True)
class Keyword:
    kind: str
    #: The language the word itself belongs to, or None for an international word.
    language: str | None


class KeywordTable:
    def __init__(self, words: dict[str, Keyword]) -> None:
        self._words = words

    @classmethod
    def from_file(cls, path: Path = KEYWORDS_FILE) -> KeywordTable:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        words: dict[str, Keyword] = {}
        for kind, by_language in raw.items():
            if kind not in KINDS:
                raise ValueError(f"{path}: unknown keyword kind {kind!r}")
            for language, entries in (by_language or {}).items():
                if language != _ANY and language not in SUPPORTED_LANGUAGES:
                    raise ValueError(f"{path}: {kind}: unknown language {language!r}")
                for word in entries:
                    key = lower(str(word)).strip()
                    if key in words:
                        raise ValueError(f"{path}: {word!r} is listed twice")
                    words[key] = Keyword(kind, None if language == _ANY else language)
        return cls(words)

    def match(self, text: str) -> Keyword | None:
        """The keyword this whole message is, if it is one."""
        return self._words.get(lower(text).strip(_TRIM))
