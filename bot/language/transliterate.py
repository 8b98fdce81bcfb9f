"""Russian and Ukrainian typed in Latin letters, read back in Cyrillic.

Many residents have no Cyrillic keyboard on a borrowed or work phone and write
"u rebenka temperatura" or "syn ne dykhaye". The NLU data and the red-flag
patterns are in Cyrillic, so such a message is read in Cyrillic too: the
informal transliteration people type (not a standard: "sh", "ch", "zh", "ya",
"y" for ы in Russian and for и in Ukrainian, digits-free) is mapped back letter
group by letter group, longest first. The result need not be spelt perfectly:
the classifier reads character n-grams and the red-flag patterns word stems.
"""

from __future__ import annotations

import re

_VOWELS = set("aeiouy")
#: Letter groups, longest first within each table (they are tried in this order).
_COMMON = (
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"),
    ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("d", "д"), ("z", "з"), ("k", "к"),
    ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"),
    ("t", "т"), ("u", "у"), ("f", "ф"), ("c", "ц"), ("q", "к"), ("x", "кс"), ("j", "й"),
    ("'", "ь"),
)
_TABLES = {
    "ru": (("tsya", "тся"), ("tsja", "тся"), ("ts", "ц"), ("yo", "ё"), ("jo", "ё"),
           ("ye", "е"), ("g", "г"), ("h", "х"), ("e", "е"), ("i", "и")) + _COMMON,
    "uk": (("ts", "ц"), ("ye", "є"), ("je", "є"), ("yi", "ї"), ("ji", "ї"), ("g", "г"),
           ("h", "г"), ("e", "е"), ("i", "і")) + _COMMON,
}
#: The letter "y" alone: ы (ru) or и (uk) after a consonant; й after a vowel.
_Y_AFTER_CONSONANT = {"ru": "ы", "uk": "и"}
_LATIN_WORD = re.compile(r"[a-z']+")
LANGUAGES = tuple(_TABLES)


def to_cyrillic(text: str, language: str) -> str:
    """`text` with every run of Latin letters transliterated for `language` (ru or uk);
    digits, punctuation and anything already Cyrillic are kept."""
    table = _TABLES[language]
    return _LATIN_WORD.sub(lambda match: _word(match.group(), table, language), text.lower())


def _word(word: str, table: tuple[tuple[str, str], ...], language: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] == "y" and not word.startswith(("ya", "yu", "yo", "ye", "yi"), i):
            after_vowel = i > 0 and word[i - 1] in _VOWELS
            out.append("й" if after_vowel or i == 0 else _Y_AFTER_CONSONANT[language])
            i += 1
            continue
        for latin, cyrillic in table:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)
