"""Rasa NLU graph component that puts the detected language on every message.

Russian and Ukrainian typed in Latin letters are handed on in Cyrillic, the script
the NLU learnt them in; the parse result keeps what the resident typed under
`transliteration`. Letter variants written interchangeably (أ/إ/ا, ة/ه, ى/ي, ё/е) reach
the classifier in one spelling, in training as in use, so its character n-grams do not
split one word into several.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import ContentComponent
from bot.language.identify import LanguageIdentifier, default_identifier
from bot.language.transliterate import LANGUAGES as CYRILLIC_TYPED
from bot.language.transliterate import to_cyrillic
from bot.text import same_spelling

LANGUAGE_KEY = "language"
TRANSLITERATION_KEY = "transliteration"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class LanguageDetector(ContentComponent):
    """Runs first in the pipeline, so that `/model/parse` and the tracker carry
    `"language": {"code": ..., "confidence": ...}` for each message."""

    def __init__(self, identifier: LanguageIdentifier | None = None) -> None:
        self._identifier = identifier or default_identifier()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get("text") or ""
            detection = self._identifier.identify(text)
            message.set(LANGUAGE_KEY, detection.as_dict(), add_to_output=True)
            if detection.latin and detection.code in CYRILLIC_TYPED:
                message.set(TRANSLITERATION_KEY, {"original": text}, add_to_output=True)
                text = to_cyrillic(text, detection.code)
            if text:
                message.set(TEXT, same_spelling(text))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no language tag (the classifier learns all languages),
        only the one spelling messages get."""
        for example in training_data.training_examples:
            if example.get(TEXT):
                example.set(TEXT, same_spelling(example.get(TEXT)))
        return training_data
