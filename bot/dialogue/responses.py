"""A domain response's text outside a dialogue turn (an SMS keyword answer, the bot's
word that a nurse has closed the conversation), chosen exactly as Rasa chooses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa.core.nlg.generator import ResponseVariationFilter

from bot.dialogue.names import LANGUAGE_SLOT


def response_text(responses: Mapping[str, list[dict[str, Any]]], name: str, language: str,
                  channel: str) -> str:
    """The text of the variation Rasa would pick for this language on this channel."""
    variations = ResponseVariationFilter(dict(responses)).responses_for_utter_action(
        name, channel, {LANGUAGE_SLOT: language}
    )
    return str(variations[0].get("text") or "")
