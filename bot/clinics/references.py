"""Which care unit a resident means: names, inflected forms, districts, postcodes, services.

Residents write `Malmin terveysasemalla`, `Vuosaaressa`, `i Nordsjö`, `Kannelmäkeen`,
`myllypuro health station`, `00940` or just `neuvola`. spaCy's blank tokenizers split
the message; every token is then normalised to the basic form of a directory word
(Finnish case endings, Swedish genitives, missing diacritics, consonant gradation and
one-letter typos), and a `PhraseMatcher` on that normal form finds the names.

The resolver is careful in one direction: it answers directly only when one unit
is meant by name, by its district or by its own postcode. Neighbourhoods without
a station, nearby postcodes, several names and uncertain typos give choices for
the resident to pick from; a station the directory does not hold is said to be
unknown, with nearby ones offered. It never guesses one unit from a weak clue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from bot.clinics.directory import CareUnit
from bot.settings import PROJECT_ROOT
from bot.text import fold

#: How residents name units besides the directory's own names, relative to the project home.
REFERENCES_PATH = Path("data/clinics/references.yml")
REFERENCES_FILE = PROJECT_ROOT / REFERENCES_PATH

#: Words that name the kind of place, not which one; dropped to find a station's place name.
GENERIC_WORDS = (
    "terveysasema", "hälsostation", "health station", "health and well-being centre",
)
_BASE_ENDINGS = (
    # Finnish cases (folded: ä -> a, ö -> o), incl. illatives that lengthen the vowel.
    "", "n", "a", "ta", "na", "ssa", "sta", "lla", "lta", "lle", "ksi", "ne", "t", "ja",
    "en", "in", "an", "on", "un", "yn", "hin", "han", "hon", "seen", "siin", "ihin",
    # Swedish genitive and definite forms, English plural/possessive.
    "s", "es", "et", "ets", "ens",
)
#: Clitics residents add to a question ("Malmillako", "Kontulassakin").
_CLITICS = ("", "ko", "kin", "han", "pa", "kaan")
ENDINGS = frozenset(base + clitic for base in _BASE_ENDINGS for clitic in _CLITICS)
#: Shortest stem that may take an ending, so short words do not swallow others.
_MIN_STEM = 3
#: Shorter words ending in s keep it: "gamlas" must not yield the common word "gamla".
_MIN_SWEDISH_GENITIVE = 8
#: Tokens shorter than this are never typo-corrected (too many near neighbours).
_MIN_FUZZY = 5
_POSTCODE = re.compile(r"(?<!\d)(00\d{3})(?!\d)")
_VOWELS = "aeiouy"
#: How many stations a postcode without its own station is offered.
_NEARBY_POSTCODE_CHOICES = 2


class Certainty(str, Enum):
    """How the resolver arrived at its units; only `named` answers directly."""

    NAMED = "named"          # exactly one unit by name, district or its own postcode
    CHOICES = "choices"      # several units, nearby ones or a typo: the resident picks
    UNKNOWN = "unknown"      # a station the directory does not hold; nearby ones offered
    NONE = "none"            # nothing in the message refers to a unit


@dataclass(frozen=True)
class Resolution:
    """What the resident referred to. `units` are unit ids, most likely first."""

    certainty: Certainty
    units: tuple[str, ...] = ()
    mention: str = ""

    @property
    def unit(self) -> str | None:
        """The unit to answer about, only when there is no doubt."""
        return self.units[0] if self.certainty is Certainty.NAMED else None


#: Kinds of mention, most specific first.
_CATEGORIES = ("unknown", "names", "districts", "areas")


@dataclass
class _Gazetteer:
    """Phrases by category; each phrase maps to the units it refers to."""

    names: dict[str, set[str]] = field(default_factory=dict)
    districts: dict[str, set[str]] = field(default_factory=dict)
    areas: dict[str, set[str]] = field(default_factory=dict)
    unknown: dict[str, set[str]] = field(default_factory=dict)

    def add(self, category: str, phrase: str, units: Iterable[str]) -> None:
        phrase = phrase.strip()
        if phrase:
            getattr(self, category).setdefault(phrase, set()).update(units)

    def categories(self) -> dict[str, dict[str, set[str]]]:
        """Most specific first: an unknown station beats a neighbourhood of the same name."""
        return {category: getattr(self, category) for category in _CATEGORIES}


def _place_part(name: str) -> str:
    """"Malmi Health Station" -> "Malmi"; names without a generic word stay whole."""
    lowered = name.casefold()
    for generic in GENERIC_WORDS:
        at = lowered.find(generic)
        if at > 0:
            return name[:at].strip(" ,")
    return name


def _stems(word: str) -> set[str]:
    """Forms a folded basic word takes before a case ending: the nominative itself and
    the usual Finnish stem changes (saari -> saare-, mäki -> mäe-/mäke-, kivikko ->
    kiviko-, sörnäinen -> sörnäise-, lahti -> lahde-, päivystys -> päivystykse-)."""
    stems = {word}
    if len(word) < _MIN_STEM + 1:
        return stems
    last, head = word[-1], word[:-1]
    if last == "i":
        stems |= {head + "e", head}
        if head.endswith("k"):
            stems |= {head[:-1] + "e", head + "e"}
        if head.endswith("t"):
            stems.add(head[:-1] + "de")
    if last in _VOWELS:
        consonant = word[-2]
        if consonant == word[-3] and consonant not in _VOWELS:
            stems.add(word[:-2] + last)
        if consonant == "t" and word[-3] != "t":
            stems.add(word[:-2] + "d" + last)
    if word.endswith("nen"):
        stems.add(word[:-3] + "se")
    if last == "s" and word[-2] in _VOWELS:
        stems.add(head + "kse")
    if last == "s" and len(word) >= _MIN_SWEDISH_GENITIVE:
        stems.add(head)  # Swedish genitive ("Kvarnbäckens" -> "kvarnbäcken")
    return {stem for stem in stems if len(stem) >= _MIN_STEM}


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of exactly one (substitution, insertion, deletion,
    or two neighbours swapped): the typos residents make on a phone."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        rest_a, rest_b = a[start + 1:], b[start + 1:]
        swapped = a[start + 2:] == b[start + 2:] and a[start:start + 2] == b[start:start + 2][::-1]
        return rest_a == rest_b or swapped
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[start:] == longer[start + 1:]


class _Normaliser:
    """Maps any token to the basic form of the directory word it is a form of."""

    def __init__(self, words: Iterable[str]) -> None:
        self._stem_to_word: dict[str, str] = {}
        for word in sorted(set(words), key=lambda word: (len(word), word)):
            # "myllypuron" in "Myllypuron terveysasema" is a form of "myllypuro", not a word
            base = self.exact(word) or word
            for stem in _stems(word):
                self._stem_to_word.setdefault(stem, base)
        self._by_initial: dict[str, list[str]] = {}
        for stem in self._stem_to_word:
            self._by_initial.setdefault(stem[0], []).append(stem)

    def exact(self, token: str) -> str | None:
        """Longest known stem followed by a known ending, or None."""
        for cut in range(len(token), _MIN_STEM - 1, -1):
            if token[cut:] in ENDINGS and token[:cut] in self._stem_to_word:
                return self._stem_to_word[token[:cut]]
        return None

    def fuzzy(self, token: str) -> set[str]:
        """Every directory word one typo away from `token` (any ending allowed)."""
        found: set[str] = set()
        if len(token) < _MIN_FUZZY:
            return found
        candidates = [
            stem for initial in {token[0], token[1]} for stem in self._by_initial.get(initial, ())
            if len(stem) >= _MIN_FUZZY
        ]
        for cut in range(len(token), _MIN_FUZZY - 2, -1):
            if token[cut:] not in ENDINGS:
                continue
            head = token[:cut]
            found.update(
                self._stem_to_word[stem] for stem in candidates if _one_edit_apart(head, stem)
            )
        return found


@dataclass(frozen=True)
class _Reference:
    category: str
    units: frozenset[str]
    text: str
    fuzzy: bool


class ReferenceResolver:
    """Built once from the directory and `data/clinics/references.yml`; `resolve` is pure."""

    LANGUAGES = ("fi", "sv", "en")

    def __init__(self, units: Sequence[CareUnit], references: Mapping[str, list[dict]]) -> None:
        self._units = {unit.id: unit for unit in units}
        self._postcodes: dict[str, set[str]] = {}
        gazetteer = _Gazetteer()
        for unit in units:
            if unit.postal_code and unit.kind == "health_station":
                self._postcodes.setdefault(unit.postal_code, set()).add(unit.id)
            for text in unit.texts.values():
                gazetteer.add("names", text.name, [unit.id])
                if unit.kind == "health_station":
                    gazetteer.add("names", _place_part(text.name), [unit.id])
                    if text.district:
                        gazetteer.add("districts", text.district, [unit.id])
        for category, key in (("names", "services"), ("names", "stations"), ("areas", "areas"),
                              ("unknown", "not_in_directory")):
            for entry in references.get(key, []):
                known = [unit_id for unit_id in entry["units"] if unit_id in self._units]
                for phrase in entry["names"]:
                    gazetteer.add(category, str(phrase), known)
        self._nlps = {language: spacy.blank(language) for language in self.LANGUAGES}
        self._normaliser = _Normaliser(
            folded
            for nlp in self._nlps.values()
            for phrases in gazetteer.categories().values()
            for phrase in phrases
            for folded in (fold(token.text) for token in nlp.make_doc(phrase))
            if any(char.isalnum() for char in folded)
        )
        #: language -> category -> normalised phrase -> units, and the matcher for it
        self._index: dict[str, dict[str, dict[str, set[str]]]] = {}
        self._matchers: dict[str, PhraseMatcher] = {}
        for language, nlp in self._nlps.items():
            matcher = PhraseMatcher(nlp.vocab, attr="NORM")
            index = self._index[language] = {}
            for category, phrases in gazetteer.categories().items():
                docs = []
                for phrase, unit_ids in phrases.items():
                    doc = self._normalise(nlp.make_doc(phrase), fuzzy=False)
                    index.setdefault(category, {}).setdefault(_key(doc), set()).update(unit_ids)
                    docs.append(doc)
                matcher.add(category, docs)
            self._matchers[language] = matcher

    def _normalise(self, doc: Doc, fuzzy: bool) -> Doc:
        """Set every token's NORM to the directory word it is a form of; with `fuzzy`, a
        typo is corrected when exactly one directory word is one edit away, and the
        corrected tokens are remembered in `doc.user_data["fuzzy"]`."""
        corrected: set[int] = set()
        for token in doc:
            folded = fold(token.text)
            word = self._normaliser.exact(folded)
            if word is None and fuzzy and folded.isalpha() and _looks_like_a_name(token):
                close = self._normaliser.fuzzy(folded)
                if len(close) == 1:
                    word = close.pop()
                    corrected.add(token.i)
            token.norm_ = word or folded
        doc.user_data["fuzzy"] = corrected
        return doc

    def _references(self, text: str, language: str) -> list[_Reference]:
        """Longest non-overlapping mentions, in the order they appear."""
        language = language if language in self._nlps else "en"
        doc = self._normalise(self._nlps[language].make_doc(text), fuzzy=True)
        rank = {category: index for index, category in enumerate(_CATEGORIES)}
        spans = sorted(
            (Span(doc, start, end, label=match_id)
             for match_id, start, end in self._matchers[language](doc)),
            key=lambda span: rank[span.label_],
        )  # filter_spans keeps the first of equally long spans: the most specific category
        return [
            _Reference(
                category=span.label_,
                units=frozenset(self._index[language][span.label_][_key(span)]),
                text=span.text,
                fuzzy=any(token.i in doc.user_data["fuzzy"] for token in span),
            )
            for span in sorted(filter_spans(spans), key=lambda span: span.start)
        ]

    def resolve(self, text: str, language: str = "fi") -> Resolution:
        """The units a message refers to and how sure that is (see `Certainty`)."""
        by_category: dict[str, list[_Reference]] = {}
        for reference in self._references(text, language):
            by_category.setdefault(reference.category, []).append(reference)
        if "unknown" in by_category:
            first = by_category["unknown"][0]
            return Resolution(Certainty.UNKNOWN, self._ordered(first.units), first.text)
        for category in ("names", "districts"):
            found = by_category.get(category)
            if found:
                units = self._ordered(_narrowest(ref.units for ref in found))
                sure = len(units) == 1 and not any(ref.fuzzy for ref in found)
                return Resolution(Certainty.NAMED if sure else Certainty.CHOICES, units,
                                  found[0].text)
        postcode = self._postcode(text)
        if postcode is not None:
            return postcode
        if "areas" in by_category:
            found = by_category["areas"]
            units = self._ordered(set().union(*(ref.units for ref in found)))
            return Resolution(Certainty.CHOICES, units, found[0].text)
        return Resolution(Certainty.NONE)

    def _postcode(self, text: str) -> Resolution | None:
        """A station's own postcode names it; another Helsinki postcode (00xxx) offers the
        stations with the numerically nearest postcodes in the same hundred, which in
        Helsinki lie in the same part of town."""
        for code in _POSTCODE.findall(text):
            own = self._postcodes.get(code)
            if own:
                units = self._ordered(own)
                certainty = Certainty.NAMED if len(units) == 1 else Certainty.CHOICES
                return Resolution(certainty, units, code)
            same_part = [known for known in self._postcodes if known[:3] == code[:3]]
            nearest = sorted(same_part, key=lambda known: abs(int(known) - int(code)))
            units = self._ordered(set().union(
                *(self._postcodes[known] for known in nearest[:_NEARBY_POSTCODE_CHOICES])))
            return Resolution(Certainty.CHOICES if units else Certainty.NONE, units, code)
        return None

    def _ordered(self, unit_ids: Iterable[str]) -> tuple[str, ...]:
        """Health stations first, then the city-wide services, each by id: choices read
        in a predictable order."""
        return tuple(sorted(
            (unit_id for unit_id in unit_ids if unit_id in self._units),
            key=lambda unit_id: (self._units[unit_id].kind != "health_station", unit_id),
        ))


#: A misspelt word right before one of these is taken for a misspelt station name.
_KIND_WORDS = frozenset({"terveysasema", "terveysasemalla", "terveysasemalle", "terveysaseman",
                         "terveysasemalta", "tk", "hälsostation", "hälsostationen", "health"})


def _looks_like_a_name(token: Token) -> bool:
    """Only a capitalised word, or one followed by "terveysasema"/"hälsostation"/"health
    station", is typo-corrected: ordinary words ("viikon", "neuvoa", "gamla") are often
    one letter from a place name and must not turn into one."""
    following = token.nbor(1).lower_ if token.i + 1 < len(token.doc) else ""
    return token.text[:1].isupper() or following in _KIND_WORDS


def _narrowest(unit_sets: Iterable[frozenset[str]]) -> set[str]:
    """"Haartmanin sairaalan päivystys" means the one emergency department both words
    fit; "Malmi vai Kontula" fits none, so both are offered."""
    sets = list(unit_sets)
    common = set.intersection(*map(set, sets))
    return common or set().union(*sets)


def _key(tokens: Iterable[Token]) -> str:
    return " ".join(token.norm_ for token in tokens)
