"""Language names as residents write them, for explicit requests.

"puhu englantia", "byt till svenska", "по-русски", "af Soomaali",
"بالعربية": a request names the language in some inflected form. We match
folded word stems rather than whole words, so Finnish and Estonian case
endings (englanniksi, englantia, inglise keeles) need no list of their own.
"""

from __future__ import annotations

from bot.settings import SUPPORTED_LANGUAGES
from bot.text import fold, words

#: Language names in the eight languages (and English), folded. An entry ending in
#: "*" is a prefix, for inflected forms; the others must match a whole word, so that
#: "Suomessa" (in Finland) or "finns" (Swedish: there is) request nothing.
_NAMES: dict[str, tuple[str, ...]] = {
    "fi": ("suomeksi", "suomea", "suomi", "suomen", "finsk*", "finnish", "soome", "финск*",
           "фінськ*", "по-фински", "по-фінськ*", "فنلند*", "fiinish*", "af-fiinish*"),
    "sv": ("ruotsiksi", "ruotsia", "ruotsi", "ruotsin", "swedish", "svensk*", "rootsi",
           "шведск*", "шведськ*", "по-шведски", "سويد*", "iswiidhish*", "af-iswiidhish*"),
    "en": ("englanniksi", "englantia", "englanti", "englannin", "english", "engelsk*",
           "inglise", "английск*", "англійськ*", "по-английски", "по-англійськ*", "انجليز*",
           "بالانجليز*", "انكليز*", "ingiriis*", "af-ingiriis*"),
    "ru": ("venajaksi", "venajaa", "venaja", "venajan", "russian", "rysk*", "vene", "русск*",
           "російськ*", "по-русски", "روسي*", "بالروسي*", "ruush*", "af-ruush*"),
    "et": ("viroksi", "viroa", "viro", "eesti*", "estonian", "estnisk*", "эстонск*",
           "естонськ*", "استوني*", "estooni*"),
    "so": ("somaliaksi", "somalia", "somali", "somaliska", "soomaali*", "af-soomaali*",
           "сомали*", "сомалій*", "صومالي*", "بالصومالي*"),
    "ar": ("arabiaksi", "arabiaa", "arabia", "arabic", "arabiska", "araabia*", "арабск*",
           "арабськ*", "عربي", "العربيه", "بالعربي*", "carabi*", "af-carabi*"),
    "uk": ("ukrainaksi", "ukrainaa", "ukraina", "ukrainian", "ukrainska", "ukraina*",
           "украинск*", "по-украински", "українськ*", "украінськ*", "по-украінськ*",
           "اوكراني*", "ukreeni*", "af-ukreeni*"),
}
_EXACT = {code: {fold(n) for n in names if not n.endswith("*")} for code, names in _NAMES.items()}
_PREFIX = {
    code: tuple(fold(n[:-1]) for n in names if n.endswith("*")) for code, names in _NAMES.items()
}


def code_for_name(name: str) -> str | None:
    """Map an entity value ("englantia", "svenska", or a code such as "en") to a code."""
    folded = fold(name).strip()
    if folded in SUPPORTED_LANGUAGES:
        return folded
    return find_language_name(folded)


def find_language_name(text: str) -> str | None:
    """The first language named in free text. Codes do not count here: "en" is
    Finnish for "I don't" and "är" folds to "ar"."""
    for token in words(fold(text)):
        for code in SUPPORTED_LANGUAGES:
            if token in _EXACT[code] or token.startswith(_PREFIX[code]):
                return code
    return None
