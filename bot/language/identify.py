"""Language identification for short chat and SMS messages.

Plain langdetect guesses right on about half of 1-4 word messages ("kiitos",
"ok", "tack så mycket"). We combine four signals, strongest first:

1. script: Arabic letters mean Arabic (unless Persian/Urdu letters appear),
   Cyrillic is Russian or Ukrainian, told apart by the letters only one of
   them uses (і ї є ґ / ы э ъ ё) and by word lists; Latin letters may still be
   Russian, Ukrainian or Arabic typed without their keyboard ("u rebenka
   temperatura", "3ndi 7arara"): their `latin_words` lists and, for Arabic,
   digits standing for letters inside words tell them;
2. word lists per language (`data/language/lexicon/*.yml`): frequent words,
   greetings, health-service words, with and without diacritics;
3. letters and word endings that belong to one language (å, õ, -ssa, -ksi);
4. langdetect, seeded and restricted to the eight supported languages.

The result has a confidence in [0, 1]; the dialogue decides with it whether
a message may change the conversation's language (see `bot.language.choice`).
A message that is clearly in a language we do not serve is reported with its
own code and `supported=False`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from langdetect.utils.lang_profile import LangProfile

from bot.settings import PROJECT_ROOT, SUPPORTED_LANGUAGES
from bot.text import fold, lower, words

LEXICON_DIR = PROJECT_ROOT / "data" / "language" / "lexicon"
UNDETERMINED = "und"
LATIN_CANDIDATES = ("fi", "sv", "en", "et", "so")
#: Languages of another script that residents also type in Latin letters.
LATIN_TYPED = ("ru", "uk", "ar")
_CYRILLIC_SIBLING = {"ru": "uk", "uk": "ru"}
#: Arabic chat spelling: a digit standing for a letter inside a word (3 ع, 7 ح, 2 ء...).
_CYRILLIC_SIBLING = {"ru": "uk", "uk": "ru"}
#: Arabic chat spelling: a digit standing for a letter inside a word ("3ndi", "7arara",
#: "wi2e3") or ending one ("la2", "wja3"); "covid19", "3pm" and "00940" are no such word.
_ARABIZI = re.compile(r"(?<![a-z0-9])[a-z']*[235679][a-z][a-z0-9']*"
                      r"|(?<![a-z0-9])[a-z]{2,}[235679](?![a-z0-9])")
_NOT_ARABIZI = re.compile(r"\d+(am|pm|h|x|st|nd|rd|th|kk|v|min|mg|ml|kg|cm)")
_SEED = 0
# Weights of the signals for Latin-script text, tuned on the project's own NLU
# examples (never on the evaluation sets).
_LEXICON_WEIGHT = 3.0
_SUFFIX_WEIGHT = 0.6
_LETTER_WEIGHT = 1.5
#: Base rates of Latin-script languages among Helsinki residents who write to us:
#: they only tip the balance when nothing else speaks (an unknown word, a typo).
_PRIOR = {"fi": 0.2, "en": 0.2, "sv": 0.1, "et": 0.0, "so": 0.0}
_LONG_RUN = re.compile(r"(.)\1{2,}")
_DOUBLED_END = re.compile(r"(.)\1$")
#: Letters only one of the candidate languages uses (after lower-casing).
_SIGNATURE_LETTERS = {"å": "sv", "õ": "et", "ü": "et", "š": "et", "ž": "et"}
_UKRAINIAN_LETTERS = set("іїєґ")
_RUSSIAN_LETTERS = set("ыэъё")
_PERSIAN_URDU_LETTERS = set("پچژگکیۀےٹڈڑں")
#: Cyrillic letters neither Russian nor Ukrainian uses (Serbian, Macedonian, Belarusian,
#: Kazakh...). Without one, Cyrillic is read as ru or uk: langdetect takes short Russian
#: and Ukrainian messages for Bulgarian or Macedonian too often to be trusted alone.
_OTHER_CYRILLIC_LETTERS = set("ђћџљњјѓќѕўәғқңөұүһ")
#: A message is called unsupported only when langdetect is this sure of another
#: language, it has at least this many words, and none of them is in our lists.
_UNSUPPORTED_MIN_PROB = 0.9
_UNSUPPORTED_MIN_WORDS = 3


@dataclass(frozen=True)
class Detection:
    """A language guess for one message."""

    code: str
    confidence: float
    supported: bool = True
    #: Russian, Ukrainian or Arabic written in Latin letters.
    latin: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The `language` object of a parse result (SPEC: Language policy)."""
        result = {
            "code": self.code,
            "confidence": round(self.confidence, 3),
            "supported": self.supported,
        }
        return {**result, "latin": True} if self.latin else result

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Detection:
        if not data or not data.get("code"):
            return cls(UNDETERMINED, 0.0)
        return cls(
            str(data["code"]),
            float(data.get("confidence") or 0.0),
            bool(data.get("supported", True)),
            bool(data.get("latin", False)),
        )


@dataclass(frozen=True)
class Lexicon:
    """Words and endings of one language, stored folded (no diacritics)."""

    words: frozenset[str]
    suffixes: tuple[str, ...]

    @classmethod
    def load(cls, path: Path, key: str = "words") -> Lexicon:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = raw.get(key) or []
        if not isinstance(entries, list):
            raise ValueError(f"{path}: 'words' must be a list")
        folded = frozenset(fold(str(word)) for word in entries if str(word).strip())
        suffixes = tuple(
            sorted({fold(str(s)) for s in raw.get("suffixes") or []}, key=len, reverse=True)
        )
        return cls(folded, suffixes)


def _spellings(word: str) -> list[str]:
    """The word as typed, then without chat-style stretching ("hellooo", "heyy")."""
    variants = [word]
    squeezed = _LONG_RUN.sub(r"\1", word)
    if squeezed != word:
        variants.append(squeezed)
    if _DOUBLED_END.search(squeezed):
        variants.append(squeezed[:-1])
    return variants


def _script_of(ch: str) -> str | None:
    code = ord(ch)
    if ch.isascii():
        return "latin" if ch.isalpha() else None
    if not ch.isalpha():
        return None
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if code <= 0x024F or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return "other"


def _restricted_factory(codes: tuple[str, ...]) -> DetectorFactory:
    """A langdetect factory that knows only `codes`, so it cannot answer Dutch."""
    factory = DetectorFactory()
    for index, code in enumerate(codes):
        with open(os.path.join(PROFILES_DIRECTORY, code), encoding="utf-8") as handle:
            factory.add_profile(LangProfile(**json.load(handle)), index, len(codes))
    factory.set_seed(_SEED)
    return factory


def _full_factory() -> DetectorFactory:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(_SEED)
    return factory


def _langdetect(factory: DetectorFactory, text: str) -> dict[str, float]:
    detector = factory.create()
    detector.append(text)
    try:
        return {item.lang.split("-")[0]: item.prob for item in detector.get_probabilities()}
    except LangDetectException:
        return {}


class LanguageIdentifier:
    """Script + word lists + langdetect, restricted to the supported languages."""

    def __init__(self, lexicons: dict[str, Lexicon], latin_typed: dict[str, Lexicon]):
        self._lexicons = lexicons
        #: The word lists a Latin-script message is scored with.
        self._latin_lexicons = {**{c: lexicons[c] for c in LATIN_CANDIDATES}, **latin_typed}
        self._latin = _restricted_factory(LATIN_CANDIDATES)
        self._cyrillic = _restricted_factory(("ru", "uk"))
        self._all = _full_factory()

    @classmethod
    def from_directory(cls, directory: Path = LEXICON_DIR) -> LanguageIdentifier:
        lexicons = {code: Lexicon.load(directory / f"{code}.yml") for code in SUPPORTED_LANGUAGES}
        latin_typed = {code: Lexicon.load(directory / f"{code}.yml", "latin_words")
                       for code in LATIN_TYPED}
        return cls(lexicons, latin_typed)

    def identify(self, text: str) -> Detection:
        lowered = lower(text or "")
        tokens = words(lowered)
        if not tokens:
            return Detection(UNDETERMINED, 0.0)
        scripts: dict[str, int] = {}
        for ch in lowered:
            script = _script_of(ch)
            if script:
                scripts[script] = scripts.get(script, 0) + 1
        dominant = max(scripts, key=scripts.__getitem__)
        if dominant == "arabic":
            return self._arabic(lowered)
        if dominant == "cyrillic":
            return self._cyrillic_language(lowered, tokens)
        if dominant == "other":
            return self._unsupported(lowered) or Detection(UNDETERMINED, 0.0, supported=False)
        return self._latin_language(lowered, tokens)

    def _arabic(self, lowered: str) -> Detection:
        if any(ch in _PERSIAN_URDU_LETTERS for ch in lowered):
            guess = _langdetect(self._all, lowered)
            other = max(guess, key=guess.__getitem__) if guess else "fa"
            if other != "ar":
                return Detection(other, guess.get(other, 0.6), supported=False)
        return Detection("ar", 0.97)

    def _cyrillic_language(self, lowered: str, tokens: list[str]) -> Detection:
        letters = set(lowered)
        scores = {"ru": 0.0, "uk": 0.0}
        scores["uk"] += 2.0 * len(letters & _UKRAINIAN_LETTERS)
        scores["ru"] += 2.0 * len(letters & _RUSSIAN_LETTERS)
        self._add_lexicon(scores, tokens, self._lexicons, use_suffixes=False)
        for code, prob in _langdetect(self._cyrillic, lowered).items():
            scores[code] += prob
        if letters & _OTHER_CYRILLIC_LETTERS:
            unsupported = self._unsupported(lowered, len(tokens))
            if unsupported:
                return unsupported
        return self._best(scores)

    def _latin_language(self, lowered: str, tokens: list[str]) -> Detection:
        scores = dict.fromkeys((*LATIN_CANDIDATES, *LATIN_TYPED), 0.0)
        hits = self._add_lexicon(scores, tokens, self._latin_lexicons, use_suffixes=True)
        arabizi = sum(1 for match in _ARABIZI.finditer(lowered)
                      if not _NOT_ARABIZI.fullmatch(match.group()))
        scores["ar"] += _LEXICON_WEIGHT * arabizi / max(len(tokens), 1)
        hits += arabizi
        for ch in lowered:
            owner = _SIGNATURE_LETTERS.get(ch)
            if owner:
                scores[owner] += _LETTER_WEIGHT
        if hits == 0:
            unsupported = self._unsupported(lowered, len(tokens))
            if unsupported:
                return unsupported
        words_only = dict(scores)
        for code, prob in _langdetect(self._latin, lowered).items():
            scores[code] += prob
        for code, prior in _PRIOR.items():
            scores[code] += prior
        best = self._best(scores)
        if best.code not in LATIN_TYPED:
            return best
        # langdetect and the priors know only the Latin-script languages, so they only
        # dilute the evidence here: the word lists alone say how sure this is, and a
        # word Russian and Ukrainian share still says "typed Cyrillic".
        sibling = _CYRILLIC_SIBLING.get(best.code)
        total = sum(words_only.values()) or 1.0
        evidence = words_only[best.code] + (words_only[sibling] / 2 if sibling else 0.0)
        return Detection(best.code, min(1.0, evidence / total), latin=True)

    @staticmethod
    def _add_lexicon(scores: dict[str, float], tokens: list[str],
                     lexicons: dict[str, Lexicon], use_suffixes: bool) -> int:
        """Add each word's vote, split between the languages that know it; return
        how many words were found in some list."""
        hits = 0
        for token in tokens:
            folded = fold(token)
            owners = []
            for variant in _spellings(folded):
                owners = [c for c in scores if variant in lexicons[c].words]
                if owners:
                    break
            if owners:
                hits += 1
                for code in owners:
                    scores[code] += _LEXICON_WEIGHT / len(owners) / len(tokens)
                continue
            if not use_suffixes or len(folded) < 5:
                continue
            owners = [
                c
                for c in scores
                if any(folded.endswith(s) for s in lexicons[c].suffixes if len(s) >= 2)
            ]
            for code in owners:
                scores[code] += _SUFFIX_WEIGHT / len(owners)
        return hits

    def _unsupported(self, lowered: str, n_words: int = _UNSUPPORTED_MIN_WORDS) -> Detection | None:
        """A confident langdetect verdict for a language we do not serve, else None."""
        if n_words < _UNSUPPORTED_MIN_WORDS:
            return None
        guess = _langdetect(self._all, lowered)
        if not guess:
            return None
        code = max(guess, key=guess.__getitem__)
        if code in SUPPORTED_LANGUAGES or guess[code] < _UNSUPPORTED_MIN_PROB:
            return None
        return Detection(code, guess[code], supported=False)

    @staticmethod
    def _best(scores: dict[str, float]) -> Detection:
        total = sum(scores.values())
        if total <= 0:
            return Detection(UNDETERMINED, 0.0)
        code = max(scores, key=scores.__getitem__)
        return Detection(code, scores[code] / total)


@lru_cache(maxsize=1)
def default_identifier() -> LanguageIdentifier:
    """The identifier over the project's own word lists, built once per process."""
    return LanguageIdentifier.from_directory()
