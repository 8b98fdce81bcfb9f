"""Prometheus metrics of the bot's own work, in the process that does it.

The Rasa server process runs the NLU, the response generator and the channels,
so its registry holds everything; `channels/ops.py` serves it. Messages are
counted from the tracker events Rasa publishes (`MetricsBroker`, the
`event_broker` endpoint), so every channel counts the same way. Several Sanic
workers share their figures through `PROMETHEUS_MULTIPROC_DIR`, which
`healthbot run` sets. Queue and outbox figures are read from the database
when Prometheus asks (`StoreCollector`), so every instance reports the same.
"""

from __future__ import annotations

import os
from asyncio import AbstractEventLoop
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import Engine

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

MESSAGES = Counter(
    "healthbot_messages_total", "Residents' messages, by channel and detected language",
    ["channel", "language"],
)
NLU_FALLBACKS = Counter(
    "healthbot_nlu_fallbacks_total", "Messages the NLU did not understand", ["language"]
)
RED_FLAGS = Counter(
    "healthbot_red_flags_total", "Messages with a red flag, by kind of answer", ["kind"]
)
REQUEST_SECONDS = Histogram(
    "healthbot_request_seconds", "Time to answer an HTTP request, by channel and route",
    ["channel", "route"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0),
)
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


def count_event(event: dict[str, Any]) -> None:
    """Count one tracker event (only residents' messages count)."""
    if event.get("event") != "user":
        return
    parse = event.get("parse_data") or {}
    language = str((parse.get("language") or {}).get("code") or "und")
    MESSAGES.labels(channel=str(event.get("input_channel") or "unknown"),
                    language=language).inc()
    if (parse.get("intent") or {}).get("name") == "nlu_fallback":
        NLU_FALLBACKS.labels(language=language).inc()
    for kind in (parse.get("red_flag") or {}).get("kinds") or []:
        RED_FLAGS.labels(kind=str(kind)).inc()


class MetricsBroker(EventBroker):
    """An event broker that publishes nowhere: it counts."""

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: AbstractEventLoop | None = None
                                   ) -> MetricsBroker:
        return cls()

    def publish(self, event: dict[str, Any]) -> None:
        count_event(event)

    def is_ready(self) -> bool:
        return True


class StoreCollector:
    """The handoff queue and the SMS outbox, read when scraped."""

    def __init__(self, engine: Engine, now: Any) -> None:
        self._engine = engine
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.storage import handoff, sms

        tickets = handoff.queue(self._engine)
        queue = GaugeMetricFamily("healthbot_handoff_queue", "Open handoff tickets, by status",
                                  labels=["status"])
        for status in ("waiting", "claimed"):
            queue.add_metric([status], sum(1 for t in tickets if t.status == status))
        yield queue
        now = self._now()
        waits = [t.waiting_seconds(now) for t in tickets if t.status == "waiting"]
        yield GaugeMetricFamily("healthbot_handoff_longest_wait_seconds",
                                "How long the longest-waiting ticket has waited",
                                value=max(waits, default=0))
        outbox = GaugeMetricFamily("healthbot_sms_outbox", "SMS in the outbox, by status",
                                   labels=["status"])
        for status, count in sorted(sms.outbox_counts(self._engine).items()):
            outbox.add_metric([status], count)
        yield outbox


def exposition(store: StoreCollector | None = None) -> bytes:
    """The text Prometheus reads: every worker's figures, then the database's."""
    from prometheus_client import REGISTRY

    registry = REGISTRY
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    text = generate_latest(registry)
    if store is not None:
        extra = CollectorRegistry()
        extra.register(store)
        text += generate_latest(extra)
    return text
