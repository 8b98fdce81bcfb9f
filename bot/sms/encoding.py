"""SMS character sets and segments (3GPP TS 23.038 and 23.040).

A message whose every character is in the GSM 03.38 alphabet travels as GSM-7:
160 septets in one SMS, 153 per segment once it is split (the rest carries the
concatenation header). Any other character (Cyrillic, Arabic, an emoji) makes
the whole message UCS-2: 70 UTF-16 units in one SMS, 67 per segment. An
extension character (€, [, ]...) costs two septets, and neither it nor a
surrogate pair is ever split across two segments, so segments are counted by
packing, not by division.

`smart_encode` replaces typography that has a GSM-7 twin (– ’ “ … and the
no-break space) and drops decorations (emoji, invisible marks) when that lets a
message stay GSM-7: ä, ö and å are GSM-7, so Finnish and Swedish need not pay
the UCS-2 price for a dash.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = "^{}\\[~]|€\f"
GSM7_COST = {**{char: 1 for char in _BASIC}, **{char: 2 for char in _EXTENSION}}

SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
PART_LIMIT = {GSM7: 153, UCS2: 67}

_TYPOGRAPHY = str.maketrans({
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2022": "-",
    "\u00b7": "-", "\t": " ",
})
#: Invisible marks: direction marks matter in Arabic, so they go only when the text is GSM-7.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff"}


@dataclass(frozen=True)
class Segments:
    """How a text travels: its encoding, SMS segments and units (septets or UTF-16)."""

    encoding: str
    count: int
    units: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_COST for char in text)


def _costs(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [GSM7_COST[char] for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def count_segments(text: str) -> Segments:
    """The encoding and the number of segments an SMS with this text needs."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    costs = _costs(text, encoding)
    units = sum(costs)
    if units <= SINGLE_LIMIT[encoding]:
        return Segments(encoding, 1 if units else 0, units)
    count, used = 1, 0
    for cost in costs:
        if used + cost > PART_LIMIT[encoding]:
            count, used = count + 1, 0
        used += cost
    return Segments(encoding, count, units)


def _decoration(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "So" or char in "\ufe0e\ufe0f" or category == "Sk" and ord(char) > 0x2000


def smart_encode(text: str) -> str:
    """The text with GSM-7 twins for typography, decorations dropped, and invisible
    marks dropped too when that keeps the message GSM-7."""
    plain = "".join(char for char in text.translate(_TYPOGRAPHY) if not _decoration(char))
    plain = "\n".join(re.sub(" {2,}", " ", line).strip() for line in plain.split("\n"))
    visible = "".join(char for char in plain if char not in _INVISIBLE)
    return visible if is_gsm7(visible) else plain
