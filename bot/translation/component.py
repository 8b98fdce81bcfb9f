"""Rasa NLU graph component: messages in languages without NLU data reach it in English.

It runs right after the language detector. A message in a language that has
no NLU training data (any but the eight native ones, SPEC: Languages) is translated to English
when a package is installed; the classifiers read the English text, the parse
result keeps the original under `translation`, and the tracker's user event
keeps the text the resident wrote. A language we detect but do not serve
becomes served once both directions to and from English are installed.
"""

from __future__ import annotations

import logging

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import ContentComponent
from bot.language.component import LANGUAGE_KEY
from bot.language.identify import UNDETERMINED, Detection, default_identifier
from bot.settings import NATIVE_LANGUAGES
from bot.translation.packages import PIVOT
from bot.translation.service import TranslationError, TranslationService, default_service

logger = logging.getLogger(__name__)

TRANSLATION_KEY = "translation"
#: Below this a detection is too unsure to translate from ("ok" may look Estonian).
MIN_CONFIDENCE = 0.5


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class PivotTranslator(ContentComponent):
    """Puts the English translation in the message text, the original beside it."""

    def __init__(self, service: TranslationService | None = None) -> None:
        self._service = service or default_service()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        detection = Detection.from_dict(message.get(LANGUAGE_KEY))
        source = pivot_source(detection, self._service)
        if source is None:
            if not detection.supported and detection.code != UNDETERMINED:
                self._service.report_missing(detection.code, PIVOT)
            return
        if not detection.supported:
            served = {**detection.as_dict(), "supported": True, "translated": True}
            message.set(LANGUAGE_KEY, served, add_to_output=True)
        if detection.confidence < MIN_CONFIDENCE:
            return
        original = message.get(TEXT) or ""
        try:
            english = self._service.translate(original, source, PIVOT)
        except TranslationError as exc:  # the service has logged and counted it
            logger.debug("NLU reads the untranslated message: %s", exc)
            return
        message.set(TEXT, english)
        message.set(
            TRANSLATION_KEY,
            {"from": source, "to": PIVOT, "original": original, "text": english},
            add_to_output=True,
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data is in the native languages: nothing to translate."""
        return training_data


def pivot_source(detection: Detection, service: TranslationService) -> str | None:
    """The language to translate a message from, or None for a native language, an
    undetermined one, or one we neither serve natively nor have packages for."""
    code = detection.code
    if code in NATIVE_LANGUAGES or code == UNDETERMINED:
        return None
    if not detection.supported and not service.serves(code):
        return None
    return code


async def pretranslate(text: str, service: TranslationService | None = None) -> None:
    """For channels: translate an incoming message before Rasa parses it, off the event
    loop. Rasa's NLU runs synchronously on the loop; it then finds the text cached.
    (Only the NLU reports a missing package, so each message counts once.)"""
    service = service or default_service()
    if not service.pairs():  # nothing installed: spare the hot path a second detection
        return
    detection = default_identifier().identify(text)
    source = pivot_source(detection, service)
    if source is None or detection.confidence < MIN_CONFIDENCE:
        return
    try:
        await service.translate_async(text, source, PIVOT)
    except TranslationError:
        return  # logged and counted; the NLU will try once more, within its timeout
