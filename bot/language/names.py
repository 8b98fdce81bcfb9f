"""Language names as residents write them, for explicit requests.

"puhu englantia", "byt till svenska", "по-русски", "af Soomaali",
"بالعربية": a request names the language in some inflected form. We match
folded word stems rather than whole words, so Finnish and Estonian case
endings (englanniksi, englantia, inglise keeles) need no list of their own.
"""

from __future__ import annotations

from bot.settings import SUPPORTED_LANGUAGES
from bot.text import fold, words

#: Folded stems of language names in the eight languages (and English).
_STEMS: dict[str, tuple[str, ...]] = {
    "fi": ("suome", "suomi", "suomeksi", "finn", "finsk", "finska", "soome", "финск", "фінськ",
           "по-фински", "по-фінськ", "finnish", "finlandes", "فنلند", "finishka", "af-finnish"),
    "sv": ("ruotsi", "ruotsa", "swed", "svensk", "svenska", "rootsi", "шведск", "шведськ",
           "по-шведски", "سويد", "iswiidhish", "af-iswiidish", "iswiidish"),
    "en": ("englan", "englann", "englant", "engl", "inglise", "inglis", "английск", "англійськ",
           "по-английски", "по-англійськ", "انجليز", "انكليز", "ingiriis", "af-ingiriis"),
    "ru": ("venaj", "venae", "venä", "russ", "rysk", "vene", "русск", "російськ", "по-русски",
           "روس", "ruush", "af-ruush"),
    "et": ("viro", "vironk", "eesti", "eston", "estnisk", "эстонск", "естонськ", "استون",
           "estooni"),
    "so": ("somali", "somaali", "soomaali", "af-soomaali", "сомали", "сомалій", "صومال"),
    "ar": ("arabi", "arab", "araab", "арабск", "арабськ", "عربي", "العربيه", "بالعربي", "carabi",
           "af-carabi"),
    "uk": ("ukrain", "ukraina", "ukrai", "украин", "украiн", "україн", "украін", "اوكران",
           "ukreeni", "af-ukreeni"),
}
_FOLDED = {code: tuple(fold(stem) for stem in stems) for code, stems in _STEMS.items()}
#: Words that would match a stem but are no request ("english" is fine, "arabia" the
#: country is a fine request too; "suomi" is ambiguous but short messages allow it).
_MIN_WORD = 3


def code_for_name(name: str) -> str | None:
    """Map one language name ("englantia", "svenska", "en") to its code, or None."""
    folded = fold(name).strip()
    if folded in SUPPORTED_LANGUAGES:
        return folded
    for token in words(folded) or [folded]:
        if len(token) < _MIN_WORD:
            continue
        for code, stems in _FOLDED.items():
            if any(token.startswith(stem) for stem in stems):
                return code
    return None


def find_language_name(text: str) -> str | None:
    """The first language named anywhere in `text`, or None."""
    for token in words(fold(text)):
        code = code_for_name(token)
        if code:
            return code
    return None
