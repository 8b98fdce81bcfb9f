"""The assistant's answers written as SMS: plain text, buttons as numbered options
("1 = Kyllä, 2 = Ei") that a reply "1" maps back to, GSM-7 whenever the language
allows, and a budget of segments per SMS.

The messages of one turn are packed into as few SMS as the budget allows. Nothing is
cut: a message longer than the budget is split between sentences, except a safety
answer, which always travels whole in one (concatenated) SMS, so that "call 112"
never arrives without the rest or out of order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.dialogue.policy import SAFETY_RESPONSES
from bot.dialogue.responses import response_text
from bot.sms.encoding import count_segments, smart_encode

CHANNEL = "sms"
#: Options this short, and this few, fit on one line: "1 = Kyllä, 2 = Ei".
_INLINE_TITLE_CHARS = 20
_INLINE_OPTIONS = 3
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


@dataclass(frozen=True)
class Rendered:
    """One turn's SMS bodies, and the options a numbered reply refers to."""

    bodies: list[str]
    options: list[Option]


def plain(text: str) -> str:
    """Markdown means nothing on a phone: links become "title (address)"."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _HEADING.sub("", text)
    return _EMPHASIS.sub(r"\2", text)


def numbered(options: Sequence[Option], first: int = 1) -> str:
    entries = [f"{first + i} = {plain(option.title)}" for i, option in enumerate(options)]
    inline = len(options) <= _INLINE_OPTIONS and all(
        len(option.title) <= _INLINE_TITLE_CHARS for option in options
    )
    return ", ".join(entries) if inline else "\n".join(entries)


def chosen_payload(text: str, options: Sequence[Option]) -> str | None:
    """The payload a reply such as "2" or "2." picks, or None if it picks nothing."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    index = int(match.group(1)) - 1
    return options[index].payload if 0 <= index < len(options) else None


def _fits(text: str, max_segments: int) -> bool:
    return count_segments(text).count <= max_segments


def _pieces(text: str, max_segments: int) -> Iterable[str]:
    """Sentences (or, for a sentence too long on its own, words) that each fit."""
    for sentence in filter(None, _SENTENCE_END.split(text)):
        if _fits(sentence, max_segments):
            yield sentence
        else:
            yield from sentence.split()


def pack(parts: Sequence[tuple[str, bool]], max_segments: int) -> list[str]:
    """Pack (text, whole) parts, in order, into as few bodies as the budget allows."""
    bodies: list[str] = []
    current = ""

    def add(piece: str, separator: str) -> None:
        nonlocal current
        joined = f"{current}{separator}{piece}" if current else piece
        if _fits(joined, max_segments):
            current = joined
        else:
            if current:
                bodies.append(current)
            current = piece

    for text, whole in parts:
        if whole or _fits(text, max_segments):
            add(text, "\n\n")
            continue
        first = True
        for piece in _pieces(text, max_segments):
            add(piece, "\n\n" if first else " ")
            first = False
    if current:
        bodies.append(current)
    return bodies


def render_turn(messages: Iterable[Mapping[str, Any]], max_segments: int) -> Rendered:
    """Rasa's messages of one turn as SMS bodies."""
    parts: list[tuple[str, bool]] = []
    options: list[Option] = []
    for message in messages:
        text = plain(str(message.get("text") or "")).strip()
        buttons = [Option(str(b.get("title") or ""), str(b.get("payload") or ""))
                   for b in message.get("buttons") or [] if b.get("payload")]
        if buttons:
            text = f"{text}\n{numbered(buttons, len(options) + 1)}".strip()
            options.extend(buttons)
        text = smart_encode(text)
        if text:
            # safety answers are never split (they fit a concatenated SMS in every language)
            parts.append((text, message.get("utter_action") in SAFETY_RESPONSES))
    return Rendered(pack(parts, max_segments), options)


def sms_response_text(responses: Mapping[str, list[dict[str, Any]]], name: str,
                      language: str) -> str:
    """A domain response's text for this language, as an SMS."""
    return smart_encode(plain(response_text(responses, name, language, CHANNEL)))
