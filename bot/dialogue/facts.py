"""Per-turn facts the dialogue rules branch on, computed after every user message.

Rasa rules branch on slots. These slots are recomputed for every message by
`action_validate_slot_mappings` (see `actions/slots.py`), so a fact about the
previous message never leaks into the next turn:

* `language`, `language_locked`: the conversation's language (sticky);
* `language_requested`: this message explicitly asked for a language;
* `language_unsupported`: this message is in a language we do not serve, and the
  conversation has not been told so yet (once is help; every message would be noise);
* `red_flag_kind`: the first kind of red flag found (emergency, poisoning, crisis);
* `repeated_fallback`: the classifier failed on this and the previous message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogue.names import LANGUAGE_SLOT, UNSUPPORTED_LANGUAGE_RESPONSE
from bot.language.choice import LanguageState, choose, turn_from_parse

FALLBACK_INTENT = "nlu_fallback"
OFFER_NURSE_AFTER = 2


def consecutive_fallbacks(events: list[Mapping[str, Any]]) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT:
            break
        count += 1
    return count


def told_unsupported(events: list[Mapping[str, Any]]) -> bool:
    """The conversation has had the "languages we serve" answer already."""
    return any(event.get("event") == "action" and event.get("name") ==
               UNSUPPORTED_LANGUAGE_RESPONSE for event in events)


def turn_facts(
    slots: Mapping[str, Any],
    parse: Mapping[str, Any],
    metadata: Mapping[str, Any],
    events: list[Mapping[str, Any]],
) -> dict[str, Any]:
    """New slot values after one user message: the sticky language slots only when
    they change, the per-turn slots always."""
    before = LanguageState(slots.get(LANGUAGE_SLOT), bool(slots.get("language_locked")))
    turn = turn_from_parse(dict(parse), dict(metadata))
    after = choose(before, turn)
    facts: dict[str, Any] = {}
    if after.code != before.code:
        facts[LANGUAGE_SLOT] = after.code
    if after.locked != before.locked:
        facts["language_locked"] = after.locked
    red_flag = parse.get("red_flag") or {}
    kinds = red_flag.get("kinds") or []
    facts.update(
        language_requested=turn.requested is not None,
        language_unsupported=not turn.detection.supported and not red_flag
        and not told_unsupported(events),
        red_flag_kind=kinds[0] if kinds else None,
        repeated_fallback=consecutive_fallbacks(events) >= OFFER_NURSE_AFTER,
    )
    return facts
