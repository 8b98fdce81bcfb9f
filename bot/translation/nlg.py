"""Rasa's response generator, with machine translation for languages we have no texts in.

`endpoints.yml` names this class under `nlg:`, so every response, whether a
rule, a form or a custom action asked for it, passes here. The eight native
languages have every response hand-written and are never translated. For any
other language a response is translated from its English variation, unless it
is a safety answer: emergency and crisis texts are always the hand-written
ones (SPEC: Safety), in English if nobody wrote them in the resident's language.
The first translated answer of a conversation starts with a notice that it is
machine-translated; when the package is missing the resident reads English, with
an apology once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.dialogue.names import LANGUAGE_SLOT, UNSUPPORTED_LANGUAGE_RESPONSE
from bot.dialogue.policy import SAFETY_RESPONSES
from bot.settings import DEFAULT_LANGUAGE, NATIVE_LANGUAGES
from bot.translation.component import TRANSLATION_KEY
from bot.translation.packages import PIVOT
from bot.translation.service import TranslationError, TranslationService, default_service

logger = logging.getLogger(__name__)

MACHINE_NOTICE = "utter_machine_translated"
#: The response's key (kept in the bot event's metadata) for the language of its text.
TEXT_LANGUAGE_KEY = "lang"
UNAVAILABLE_NOTICE = "utter_translation_unavailable"
NEVER_TRANSLATED = frozenset(
    {*SAFETY_RESPONSES, UNSUPPORTED_LANGUAGE_RESPONSE, MACHINE_NOTICE, UNAVAILABLE_NOTICE}
)
#: Conversations whose notice went out in an action still running (its events are
#: not in the tracker yet); bounded, oldest forgotten first.
_RECENT_LIMIT = 10_000


def written_languages(variations: list[dict[str, Any]]) -> frozenset[str]:
    """The languages a response has its own (hand-written) variation in."""
    return frozenset(
        str(condition.get("value"))
        for variation in variations
        for condition in variation.get("condition") or []
        if condition.get("name") == LANGUAGE_SLOT
    )


def needs_translation(written: frozenset[str], name: str, language: str | None) -> bool:
    """A response is machine-translated only where nobody wrote it, and never a safety one."""
    return bool(language) and language not in NATIVE_LANGUAGES \
        and name not in NEVER_TRANSLATED and language not in written


class TranslatingNLG(TemplatedNaturalLanguageGenerator):
    """Templated responses; English ones translated into the resident's language."""

    def __init__(self, endpoint_config: EndpointConfig | None = None,
                 domain: Domain | None = None,
                 service: TranslationService | None = None) -> None:
        domain = domain or Domain.empty()
        super().__init__(domain.responses)
        self._written: dict[str, frozenset[str]] = {}
        self._written_for: object = None
        self._service = service or default_service()
        self._recent: OrderedDict[str, tuple[int, set[str]]] = OrderedDict()

    async def generate(self, utter_action: str, tracker: DialogueStateTracker,
                       output_channel: str, **kwargs: Any) -> dict[str, Any] | None:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        language = tracker.get_slot(LANGUAGE_SLOT)
        if response is None:
            return None
        if self.needs_translation(utter_action, language):
            response = await self._translate(response, kwargs.get("buttons"), language,
                                             tracker, output_channel)
        response[TEXT_LANGUAGE_KEY] = self.text_language(utter_action, language, response)
        return response

    def text_language(self, utter_action: str, language: str | None,
                      response: dict[str, Any]) -> str:
        """The language the response's text is really in, for the channels' `lang`: the
        resident's where someone wrote it (or a filled-in text from content written in
        it) or a package translated it, else English, the default variation."""
        written = self._written_in(utter_action)
        translated = TRANSLATION_KEY in response and not response[TRANSLATION_KEY].get("failed")
        filled_in = not written and language in NATIVE_LANGUAGES
        if language and (language in written or filled_in or translated):
            return language
        return DEFAULT_LANGUAGE

    def needs_translation(self, utter_action: str, language: str | None) -> bool:
        return needs_translation(self._written_in(utter_action), utter_action, language)

    def _written_in(self, name: str) -> frozenset[str]:
        """Rasa builds the generator before the model is loaded and hands it the domain's
        responses afterwards, so the languages are read from the current responses."""
        if self._written_for is not self.responses:
            self._written = {key: written_languages(v) for key, v in self.responses.items()}
            self._written_for = self.responses
        return self._written.get(name, frozenset())

    async def _translate(self, response: dict[str, Any], action_buttons: list | None,
                         language: str, tracker: DialogueStateTracker,
                         output_channel: str) -> dict[str, Any]:
        english = response.get("text") or ""
        record: dict[str, Any] = {"from": PIVOT, "to": language, "source": english}
        try:
            if english:
                response["text"] = await self._service.translate_async(english, PIVOT, language)
            # Buttons a custom action adds reach the generator as an argument, and Rasa
            # appends that same list afterwards: their titles are translated in place.
            for button in [*(response.get("buttons") or []), *(action_buttons or [])]:
                if isinstance(button, dict) and button.get("title"):
                    button["title"] = await self._service.translate_async(
                        str(button["title"]), PIVOT, language)
            notice = MACHINE_NOTICE
        except TranslationError:
            response["text"] = english
            record["failed"] = True
            notice = UNAVAILABLE_NOTICE
        if self._first(tracker, notice):
            record["notice"] = notice
            text = await self._notice_text(notice, language, tracker, output_channel)
            response["text"] = f"{text}\n\n{response['text']}" if response["text"] else text
        response[TRANSLATION_KEY] = record
        return response

    async def _notice_text(self, notice: str, language: str, tracker: DialogueStateTracker,
                           output_channel: str) -> str:
        generated = await super().generate(notice, tracker, output_channel) or {}
        text = generated.get("text") or ""
        if notice == MACHINE_NOTICE and language not in self._written_in(notice):
            try:
                return await self._service.translate_async(text, PIVOT, language)
            except TranslationError:
                return text
        return text

    def _first(self, tracker: DialogueStateTracker, notice: str) -> bool:
        """True once per conversation and kind of notice."""
        for event in tracker.events:
            if isinstance(event, BotUttered) and \
                    (event.metadata or {}).get(TRANSLATION_KEY, {}).get("notice") == notice:
                return False
        length, given = self._recent.get(tracker.sender_id, (-1, set()))
        if length != len(tracker.events):
            given = set()
        if notice in given:
            return False
        given.add(notice)
        self._recent[tracker.sender_id] = (len(tracker.events), given)
        self._recent.move_to_end(tracker.sender_id)
        while len(self._recent) > _RECENT_LIMIT:
            self._recent.popitem(last=False)
        return True
