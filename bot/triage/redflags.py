"""Deterministic red-flag detector: the safety floor that does not depend on ML.

Patterns live in `data/safety/redflags.yml` so that a clinician can review
them. Every message is checked against the patterns of *all* languages (a
frightened resident mixes languages), after folding (see `bot.text.fold`).
A hit names the categories found and the kinds of answer they need:
`emergency` (112), `poisoning` (112 or the Poison Information Centre) and
`crisis` (112 and the MIELI crisis line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.language.transliterate import LANGUAGES as CYRILLIC_TYPED
from bot.language.transliterate import to_cyrillic
from bot.settings import PROJECT_ROOT, SUPPORTED_LANGUAGES
from bot.text import fold, words

DEFAULT_PATH = PROJECT_ROOT / "data" / "safety" / "redflags.yml"
#: The order in which answers are given when one message has several kinds.
ANSWER_KINDS: tuple[str, ...] = ("emergency", "poisoning", "crisis")
_CLAUSE_BREAK = re.compile(r"[.,;:!?،؛\n]")
NEGATION_WINDOW = 2


class RedFlagDataError(ValueError):
    """The pattern file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class RedFlag:
    """What the detector found in one message."""

    categories: tuple[str, ...]
    kinds: tuple[str, ...]
    languages: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "kinds": list(self.kinds),
            "languages": list(self.languages),
        }


@dataclass(frozen=True)
class _Rule:
    language: str
    category: str
    pattern: re.Pattern[str]


class RedFlagDetector:
    """Compiled patterns of every language, with each language's negation words."""

    def __init__(
        self,
        kinds: dict[str, str],
        rules: list[_Rule],
        negations: dict[str, set[str]],
        negations_after: dict[str, set[str]],
    ):
        self._kinds = kinds
        self._rules = rules
        self._negations = negations
        self._negations_after = negations_after

    @classmethod
    def from_file(cls, path: Path = DEFAULT_PATH) -> RedFlagDetector:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RedFlagDataError(f"{path}: cannot read red-flag patterns: {exc}") from exc
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: Any, source: str = "<redflags>") -> RedFlagDetector:
        if not isinstance(raw, dict):
            raise RedFlagDataError(f"{source}: top level must be a mapping")
        kinds = raw.get("categories")
        if not isinstance(kinds, dict) or not kinds:
            raise RedFlagDataError(f"{source}: 'categories' must map category -> answer kind")
        for category, kind in kinds.items():
            if kind not in ANSWER_KINDS:
                raise RedFlagDataError(
                    f"{source}: categories.{category}: kind {kind!r} is not one of {ANSWER_KINDS}"
                )
        languages = raw.get("languages")
        if not isinstance(languages, dict):
            raise RedFlagDataError(f"{source}: 'languages' must be a mapping")
        missing = [code for code in SUPPORTED_LANGUAGES if code not in languages]
        if missing:
            raise RedFlagDataError(f"{source}: languages: no patterns for {', '.join(missing)}")
        rules: list[_Rule] = []
        negations: dict[str, set[str]] = {}
        negations_after: dict[str, set[str]] = {}
        for code, block in languages.items():
            where = f"{source}: languages.{code}"
            if not isinstance(block, dict) or not isinstance(block.get("patterns"), dict):
                raise RedFlagDataError(f"{where}: needs a 'patterns' mapping")
            negations[code] = {fold(str(word)) for word in block.get("negations") or []}
            negations_after[code] = {
                fold(str(word)) for word in block.get("negations_after") or []
            }
            for category, patterns in block["patterns"].items():
                if category not in kinds:
                    raise RedFlagDataError(f"{where}.patterns.{category}: unknown category")
                if not isinstance(patterns, list) or not patterns:
                    raise RedFlagDataError(f"{where}.patterns.{category}: needs a list")
                for index, pattern in enumerate(patterns):
                    try:
                        compiled = re.compile(str(pattern))
                    except re.error as exc:
                        raise RedFlagDataError(
                            f"{where}.patterns.{category}[{index}]: bad regex {pattern!r}: {exc}"
                        ) from exc
                    rules.append(_Rule(code, category, compiled))
        return cls(dict(kinds), rules, negations, negations_after)

    def detect(self, text: str) -> RedFlag | None:
        """Return the red flags in `text`, or None. Never raises on odd input. Russian
        and Ukrainian typed in Latin letters ("ne dyshit") are read in Cyrillic too."""
        folded = fold(text or "")
        if not folded:
            return None
        hit = self._detect_folded(folded)
        if hit is None and len(folded) <= TRANSLITERATE_MAX_CHARS and _LATIN.search(folded) \
                and not _CYRILLIC.search(folded):
            for language in CYRILLIC_TYPED:
                hit = self._detect_folded(fold(to_cyrillic(folded, language)))
                if hit is not None:
                    break
        return hit

    def _detect_folded(self, folded: str) -> RedFlag | None:
        categories: list[str] = []
        languages: list[str] = []
        for rule in self._rules:
            if rule.category in categories:
                continue
            for match in rule.pattern.finditer(folded):
                if not self._negated(folded, match.start(), match.end(), rule.language):
                    categories.append(rule.category)
                    if rule.language not in languages:
                        languages.append(rule.language)
                    break
        if not categories:
            return None
        found = {self._kinds[category] for category in categories}
        kinds = tuple(kind for kind in ANSWER_KINDS if kind in found)
        return RedFlag(tuple(categories), kinds, tuple(languages))

    def _negated(self, folded: str, start: int, end: int, language: str) -> bool:
        """True when a negation word stands just before the hit ("no chest pain",
        "ei rintakipua") or, in languages that put it there, just after it ("боли в
        груди нет", "laabta xanuun ma hayo"; entries after a hit may be two words),
        in the same clause. Negations inside a pattern are part of it."""
        before = words(_CLAUSE_BREAK.split(folded[:start])[-1])[-NEGATION_WINDOW:]
        if any(word in self._negations.get(language, ()) for word in before):
            return True
        after = " ".join(words(_CLAUSE_BREAK.split(folded[end:])[0])[:NEGATION_WINDOW])
        return any(
            f" {phrase} " in f" {after} " for phrase in self._negations_after.get(language, ())
        )


#: Latin text longer than this is not also read in Cyrillic: the second and third pass
#: over every pattern would let one long message cost seconds of CPU.
TRANSLITERATE_MAX_CHARS = 1000
_LATIN = re.compile("[a-z]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


@lru_cache(maxsize=1)
def default_detector() -> RedFlagDetector:
    """The detector over the project's own pattern file, loaded once per process."""
    return RedFlagDetector.from_file(DEFAULT_PATH)
