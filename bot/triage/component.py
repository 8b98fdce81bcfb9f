"""Rasa NLU graph component: the red-flag layer overrides the intent classifier."""

from __future__ import annotations

from dataclasses import replace

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components import ContentComponent
from bot.translation.component import TRANSLATION_KEY
from bot.triage.redflags import RedFlag, RedFlagDetector, default_detector

RED_FLAG_KEY = "red_flag"
EMERGENCY_INTENT = "emergency"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class RedFlagClassifier(ContentComponent, IntentClassifier):
    """Runs after the ML classifiers: a deterministic hit sets the intent to
    `emergency` with confidence 1.0 whatever DIET or the fallback said, and
    records what was found under `red_flag`."""

    def __init__(self, detector: RedFlagDetector | None = None) -> None:
        self._detector = detector or default_detector()

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            hit = self._detect(message)
            if hit is None:
                continue
            override = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            ranking = [
                item
                for item in message.get(INTENT_RANKING_KEY) or []
                if item.get("name") != EMERGENCY_INTENT
            ]
            message.set(INTENT, override, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [override, *ranking], add_to_output=True)
            message.set(RED_FLAG_KEY, hit.as_dict(), add_to_output=True)
        return messages

    def _detect(self, message: Message) -> RedFlag | None:
        """The resident's own words first; for a machine-translated message (see
        `bot.translation.component`) also the English translation, credited to the
        language the resident wrote in."""
        translation = message.get(TRANSLATION_KEY) or {}
        hit = self._detector.detect(translation.get("original") or message.get(TEXT) or "")
        if hit is None and translation:
            hit = self._detector.detect(message.get(TEXT) or "")
            if hit is not None:
                hit = replace(hit, languages=(translation["from"],))
        return hit
