"""Every SMS we send goes through the outbox (`bot/storage/sms.py`), so that a reply
survives a crash and a gateway fault: a sender task in every server process posts the
due ones to the gateway, each number's in order, and retries with backoff on 5xx, 429
and timeouts. A row being sent is leased, so two senders never post the same SMS and a
crashed sender's rows go back to the queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.sms.encoding import count_segments
from bot.sms.gateway import GATEWAY_TIMEOUT, Gateway, GatewayError, TwilioClient
from bot.sms.identity import IdentityError, PhoneIdentity
from bot.sms.render import render_turn
from bot.storage import sms as store
from bot.storage.db import in_thread, utcnow

logger = logging.getLogger(__name__)

#: A sender owns an outbox row this long; a crashed sender's row goes back to the queue.
OUTBOX_LEASE = timedelta(seconds=60)
#: An idle sender looks this often for SMS that another process queued.
OUTBOX_IDLE_SECONDS = 1.0
MAX_RETRY_DELAY = timedelta(minutes=10)


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """The wait after `attempts` failed tries: SMS_RETRY_SECONDS after the first, twice as
    long after each next one, never more than MAX_RETRY_DELAY (a gateway out for an hour
    is tried every ten minutes)."""
    seconds = settings.sms_retry_seconds * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, MAX_RETRY_DELAY.total_seconds()))


def _rows(bodies: list[str]) -> list[tuple[str, int, str]]:
    """Each body with the segments it costs and its encoding, stored beside it."""
    rows = []
    for body in bodies:
        segments = count_segments(body)
        rows.append((body, segments.count, segments.encoding))
    return rows


class Outbox:
    """Queues SMS bodies and sends them. SQL runs in a worker thread, off the event loop."""

    def __init__(self, settings: Settings, engine: Engine, identity: PhoneIdentity,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._settings = settings
        self._engine = engine
        self._identity = identity
        self._clock = clock
        self._wake = asyncio.Event()

    async def queue(self, pseudonym: str, bodies: list[str]) -> None:
        """Queue SMS bodies for a number, in this order, and wake the sender."""
        await in_thread(self._engine, store.enqueue, pseudonym, _rows(bodies),
                                self._clock())
        self._wake.set()

    async def queue_texts(self, pseudonym: str, texts: list[str]) -> bool:
        """Queue texts written outside the dialogue (a nurse's reply) in SMS form; False
        when the number is unknown or has opted out, and nothing is queued."""
        state = await in_thread(self._engine, store.number_state, pseudonym)
        if state is None or state.opted_out:
            logger.info("SMS to %s not queued: %s", pseudonym,
                        "unknown number" if state is None else "the number has opted out")
            return False
        rendered = render_turn([{"text": text} for text in texts], self._settings.sms_max_segments)
        await self.queue(pseudonym, rendered.bodies)
        return True

    async def send_forever(self) -> None:
        """The sender task: a round whenever an SMS is queued here, and at least every
        OUTBOX_IDLE_SECONDS for those queued by another process."""
        self._wake = asyncio.Event()  # bound to this server's loop, not a previous one's
        async with aiohttp.ClientSession(timeout=GATEWAY_TIMEOUT) as session:
            gateway = TwilioClient(self._settings, session)
            while True:
                if await self.send_due(gateway):
                    continue
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), OUTBOX_IDLE_SECONDS)
                except asyncio.TimeoutError:
                    pass

    async def send_due(self, gateway: Gateway) -> int:
        """One round: the next due SMS of each number; how many were tried."""
        try:
            rows = await in_thread(self._engine, store.claim_due, self._clock(),
                                           OUTBOX_LEASE)
            for row in rows:
                await self.deliver(gateway, row)
        except Exception:  # noqa: BLE001 - the sender must outlive a database hiccup
            logger.exception("SMS outbox round failed")
            return 0
        return len(rows)

    async def deliver(self, gateway: Gateway, row: store.OutboxRow) -> None:
        """Send one leased SMS and record how it went."""
        state = await in_thread(self._engine, store.number_state, row.pseudonym)
        if state is None:
            await in_thread(self._engine, store.mark_failed, row.id,
                                    "the number is no longer stored")
            return
        try:
            provider_sid = await gateway.send(self._identity.decrypt(state.number_encrypted),
                                              row.body)
        except (GatewayError, IdentityError) as exc:
            await self._not_sent(row, exc)
            return
        await in_thread(self._engine, store.mark_sent, row.id, provider_sid,
                                self._clock())
        logger.info("SMS %d to %s sent (%s)", row.id, row.pseudonym, provider_sid)

    async def _not_sent(self, row: store.OutboxRow, error: GatewayError | IdentityError) -> None:
        """A fault that may pass is retried later, until SMS_MAX_ATTEMPTS; a refused
        message or a number that no longer decrypts fails for good."""
        attempts = row.attempts + 1
        if isinstance(error, GatewayError) and error.retry and \
                attempts < self._settings.sms_max_attempts:
            delay = retry_delay(self._settings, attempts)
            logger.warning("SMS %d to %s: %s; retry %d in %.1f s", row.id, row.pseudonym,
                           error, attempts, delay.total_seconds())
            await in_thread(self._engine, store.mark_retry, row.id, str(error),
                                    self._clock() + delay)
        else:
            logger.error("SMS %d to %s failed for good: %s", row.id, row.pseudonym, error)
            await in_thread(self._engine, store.mark_failed, row.id, str(error))
