"""Reading a resident's answer to a triage question, typed or tapped.

Buttons send the same words a resident would type, so `joo`, `nej`, `not really`,
`3 päivää`, `kaksi viikkoa` and `vauva` all go one way. The words are content:
`data/guidance/replies/*.yml` (fi/sv/en in `words.yml`, each other language in its own
file), read together: a resident may answer in any of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT
from bot.text import fold
from bot.triage.guidance import AGE_GROUPS, DURATIONS, NO, YES

WORDS_DIR = PROJECT_ROOT / "data" / "guidance" / "replies"
_NUMBER = re.compile(r"\d+")
_TOKEN = re.compile(r"(?:[^\W\d_]+\d+|\d*[^\W\d_])[^\W_]*(?:['’-][^\W_]+)*")
_DAYS_PER_WEEK = 7
#: A reply this short is read whole; a longer one only by its first words.
_SHORT_ANSWER_WORDS = 3
_LEAD_WORDS = 2


@dataclass(frozen=True)
class ReplyReader:
    yes: frozenset[str]
    no: frozenset[str]
    unknown: frozenset[str]
    age_words: Mapping[str, frozenset[str]]
    duration_words: Mapping[str, frozenset[str]]
    day_words: frozenset[str]
    week_words: frozenset[str]
    more_words: frozenset[str]
    numbers: Mapping[str, int]
    stop: tuple[tuple[str, ...], ...]
    restart: tuple[tuple[str, ...], ...]

    @classmethod
    def load(cls, directory: Path = WORDS_DIR) -> ReplyReader:
        data = _union(yaml.safe_load(path.read_text(encoding="utf-8"))
                      for path in sorted(directory.glob("*.yml")))

        def folded(items: list[str]) -> frozenset[str]:
            return frozenset(fold(str(item)) for item in items)

        return cls(
            yes=folded(data["affirmative"]), no=folded(data["negative"]),
            unknown=folded(data["unknown"]),
            age_words={group: folded(data["age"][group]) for group in AGE_GROUPS},
            duration_words={span: folded(data["duration"][span] or []) for span in DURATIONS},
            day_words=folded(data["day_words"]), week_words=folded(data["week_words"]),
            more_words=folded(data["more_words"]),
            numbers={fold(word): int(n) for word, n in data["numbers"].items()},
            stop=_phrases(data["stop"]),
            restart=_phrases(data["restart"]),
        )

    def yes_no(self, text: str, intent: str | None = None) -> str | None:
        """An answer leads with its yes or no ("joo", "ei oikeastaan", "ja, över 39
        grader", "not really"), or is a few words holding one ("I'd say no"); a "no"
        word wins over a "yes" word. Anywhere else "on" or "en" are ordinary words
        ("milloin Malmin terveysasema on auki" answers nothing). "I don't know" is no
        answer; otherwise the NLU's affirm/deny decides."""
        tokens = _tokens(text)
        if set(tokens) & self.unknown:
            return None
        considered = set(tokens if len(tokens) <= _SHORT_ANSWER_WORDS else tokens[:_LEAD_WORDS])
        if considered & self.no:
            return NO
        if considered & self.yes:
            return YES
        return {"affirm": YES, "deny": NO}.get(intent or "")

    def age_group(self, text: str) -> str | None:
        """"vauva", "barn", "adult", or an age in years ("7-vuotias", "I'm 34")."""
        tokens = _tokens(text)
        for group in AGE_GROUPS:
            if self.age_words[group] & set(tokens):
                return group
        years = self._number(text, tokens)
        if years is None:
            return None
        return "baby" if years < 1 else "child" if years < 16 else "adult"

    def duration(self, text: str) -> str | None:
        """"eilen", "3 päivää", "two weeks", "yli viikon", "a month"."""
        tokens = _tokens(text)
        count = self._number(text, tokens)
        days = None
        if set(tokens) & self.week_words:
            days = (count or 1) * _DAYS_PER_WEEK
        elif set(tokens) & self.day_words:
            days = count or 1
        if days is not None:
            days += 1 if set(tokens) & self.more_words else 0
            return "under_day" if days < 1 else "days_1_3" if days <= 3 else (
                "days_4_7" if days <= _DAYS_PER_WEEK else "over_week")
        for span in reversed(DURATIONS):  # "eilen illalla": the longer span, to be safe
            if self.duration_words[span] & set(tokens):
                return span
        return None

    def wants_stop(self, text: str) -> bool:
        return _says(self.stop, text)

    def wants_restart(self, text: str) -> bool:
        return _says(self.restart, text)

    def _number(self, text: str, tokens: list[str]) -> int | None:
        digits = _NUMBER.search(text)
        if digits:
            return int(digits.group())
        return next((self.numbers[token] for token in tokens if token in self.numbers), None)


def _tokens(text: str) -> list[str]:
    """The folded words of a reply, digits inside a word kept: Arabic typed in Latin
    letters writes letters as digits ("na3am" is yes, "la2" no). A number glued to a
    word counts as both ("2päivää": "2paivaa" and "paivaa")."""
    tokens = []
    for token in _TOKEN.findall(fold(text)):
        tokens.append(token)
        letters = token.lstrip("0123456789")
        if letters != token and letters.isalpha():
            tokens.append(letters)
    return tokens


def _union(files: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The word lists of every file joined: lists concatenated, mappings merged key by key
    (numbers: the first file to name a word keeps it)."""
    joined: dict[str, Any] = {}
    for data in files:
        for key, value in (data or {}).items():
            if isinstance(value, Mapping):
                inner = joined.setdefault(key, {})
                for name, item in value.items():
                    if isinstance(item, list) or item is None:
                        inner[name] = [*(inner.get(name) or []), *(item or [])]
                    else:
                        inner.setdefault(name, item)
            else:
                joined[key] = [*joined.get(key, []), *(value or [])]
    return joined


def _phrases(entries: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_tokens(entry)) for entry in entries)


def _says(phrases: tuple[tuple[str, ...], ...], text: str) -> bool:
    tokens = set(_tokens(text))
    return any(set(phrase) <= tokens for phrase in phrases)


@cache
def default_reader() -> ReplyReader:
    return ReplyReader.load()
