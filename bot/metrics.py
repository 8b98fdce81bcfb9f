"""Prometheus metrics of the bot's own work, in the process that does it.

The Rasa server process runs the NLU, the response generator and the channels,
so its registry holds everything; `channels/ops.py` serves it.
"""

from __future__ import annotations

from prometheus_client import Counter

TRANSLATIONS = Counter(
    "healthbot_translations_total", "Texts machine-translated, by language pair", ["pair"]
)
TRANSLATION_FAILURES = Counter(
    "healthbot_translation_failures_total",
    "Translations that failed or timed out (the English text was used)", ["pair", "reason"],
)
TRANSLATION_MISSING = Counter(
    "healthbot_translation_missing_total",
    "Texts that needed a language pair with no installed package", ["pair"],
)
