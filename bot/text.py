"""Text normalisation shared by language identification and the red-flag layer.

Residents type without diacritics (`paivystys`, `halsostation`), with curly
apostrophes from phones and with Arabic vowel marks or letter variants. Both
the word lists and the red-flag patterns are written in this folded form, so a
message matches however it was typed.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC_MARKS = re.compile("[\u064b-\u0652\u0640]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_COMBINING_BREVE = "\u0306"  # keeps Cyrillic й intact when stripping marks


#: Letter variants residents type interchangeably, one for one (so entity offsets in the
#: NLU data stay right): Arabic alef forms, taa marbuta, alef maqsura; Russian ё.
_SPELLING_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه",
                                    "ё": "е", "Ё": "Е"})


def same_spelling(text: str) -> str:
    """One spelling for the letter variants chat writers use interchangeably; the text
    keeps its length, case and everything else."""
    return text.translate(_SPELLING_VARIANTS)


def lower(text: str) -> str:
    """NFKC + casefold + one kind of apostrophe + single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower-case and strip what residents often leave out: diacritics and vowel marks."""
    text = same_spelling(lower(text))
    text = _ARABIC_MARKS.sub("", text)
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(
        ch
        for ch in decomposed
        if not (unicodedata.category(ch) == "Mn" and ord(ch) < 0x0600 and ch != _COMBINING_BREVE)
    )
    return unicodedata.normalize("NFC", kept)


def words(text: str) -> list[str]:
    """Letter sequences of a (lower-cased) text; digits, emoji and punctuation drop out."""
    return _WORD.findall(text)
