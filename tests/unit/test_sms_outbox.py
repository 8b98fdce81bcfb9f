"""The SMS outbox in process: the sender's retry policy on a fake clock with a stand-in
gateway, and Twilio's Messages API client against a loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Engine, Row

from bot.settings import Settings
from bot.sms.encoding import GSM7
from bot.sms.gateway import GatewayError, TwilioClient
from bot.sms.identity import PhoneIdentity
from bot.sms.outbox import MAX_RETRY_DELAY, Outbox, retry_delay
from bot.storage import sms as store
from bot.storage.db import as_utc

T0 = datetime(2026, 12, 14, 8, 0, tzinfo=timezone.utc)
NUMBER = "+358401112233"
ACCOUNT = "AC" + "0" * 32
FAULT = GatewayError("HTTP 503 code None: None", retry=True)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class StubGateway:
    """Answers each SMS with the next of `results`, a provider id or a GatewayError."""

    def __init__(self, *results: str | GatewayError) -> None:
        self.results = list(results)
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        result = self.results.pop(0)
        if isinstance(result, GatewayError):
            raise result
        return result


@pytest.fixture
def identity() -> PhoneIdentity:
    return PhoneIdentity("pseudonym-key", Fernet.generate_key().decode())


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_outbox(engine: Engine, identity: PhoneIdentity, clock: Clock,
                **settings: Any) -> Outbox:
    return Outbox(Settings(sms_retry_seconds=5.0, **settings), engine, identity, clock)


def known(engine: Engine, identity: PhoneIdentity, number: str = NUMBER) -> str:
    """A number that has written to us: its pseudonym."""
    pseudonym = identity.pseudonym(number)
    store.remember_number(engine, pseudonym, identity.encrypt(number), T0)
    return pseudonym


def rows(engine: Engine) -> list[Row]:
    with engine.connect() as conn:
        return conn.execute(select(store.sms_outbox).order_by(store.sms_outbox.c.id)).all()


def test_the_retry_delay_doubles_up_to_ten_minutes() -> None:
    settings = Settings(sms_retry_seconds=5.0)
    assert [retry_delay(settings, n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert retry_delay(settings, 8) == timedelta(seconds=600) == MAX_RETRY_DELAY
    assert retry_delay(settings, 40) == MAX_RETRY_DELAY


def test_a_gateway_fault_is_retried_with_backoff_then_fails_for_good(
        engine: Engine, identity: PhoneIdentity, clock: Clock) -> None:
    outbox = make_outbox(engine, identity, clock, sms_max_attempts=3)
    asyncio.run(outbox.queue(known(engine, identity), ["Hei"]))
    gateway = StubGateway(FAULT, FAULT, FAULT)
    assert asyncio.run(outbox.send_due(gateway)) == 1
    (row,) = rows(engine)
    assert (row.status, row.attempts, as_utc(row.next_attempt_at)) == \
        ("pending", 1, T0 + timedelta(seconds=5))
    clock.advance(4)
    assert asyncio.run(outbox.send_due(gateway)) == 0  # not yet
    clock.advance(1)
    assert asyncio.run(outbox.send_due(gateway)) == 1
    (row,) = rows(engine)
    assert (row.attempts, as_utc(row.next_attempt_at)) == (2, clock.now + timedelta(seconds=10))
    clock.advance(10)
    assert asyncio.run(outbox.send_due(gateway)) == 1
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, str(FAULT))
    assert gateway.sent == [(NUMBER, "Hei")] * 3


def test_a_refused_message_or_a_number_that_is_gone_fails_at_once(
        engine: Engine, identity: PhoneIdentity, clock: Clock) -> None:
    outbox = make_outbox(engine, identity, clock)
    asyncio.run(outbox.queue(known(engine, identity), ["Hei"]))
    other_key = PhoneIdentity("pseudonym-key", Fernet.generate_key().decode())
    asyncio.run(outbox.queue(known(engine, other_key, "+358405556677"), ["Hei"]))
    asyncio.run(outbox.queue("sms-purged", ["Hei"]))
    gateway = StubGateway(GatewayError("HTTP 400 code 21211: Invalid To", retry=False))
    assert asyncio.run(outbox.send_due(gateway)) == 3
    assert [(row.status, row.attempts) for row in rows(engine)] == [("failed", 1)] * 3
    assert [row.last_error for row in rows(engine)] == [
        "HTTP 400 code 21211: Invalid To", "a stored number does not decrypt with this key",
        "the number is no longer stored"]
    assert gateway.sent == [(NUMBER, "Hei")]


def test_each_numbers_sms_go_in_order_and_keep_their_provider_id(
        engine: Engine, identity: PhoneIdentity, clock: Clock) -> None:
    outbox = make_outbox(engine, identity, clock)
    first = known(engine, identity)
    asyncio.run(outbox.queue(first, ["1", "2"]))
    asyncio.run(outbox.queue(known(engine, identity, "+358405556677"), ["b"]))
    gateway = StubGateway("SM1", "SMb", "SM2")
    assert asyncio.run(outbox.send_due(gateway)) == 2  # "2" waits until "1" is sent
    assert asyncio.run(outbox.send_due(gateway)) == 1
    assert [body for _, body in gateway.sent] == ["1", "b", "2"]
    assert [(row.body, row.status, row.provider_sid) for row in rows(engine)] == [
        ("1", "sent", "SM1"), ("2", "sent", "SM2"), ("b", "sent", "SMb")]
    assert {as_utc(row.sent_at) for row in rows(engine)} == {T0}


def test_texts_from_outside_the_dialogue_are_queued_only_for_numbers_that_take_them(
        engine: Engine, identity: PhoneIdentity, clock: Clock) -> None:
    outbox = make_outbox(engine, identity, clock, sms_max_segments=1)
    pseudonym = known(engine, identity)
    assert not asyncio.run(outbox.queue_texts("sms-unknown", ["Hei"]))
    long_text = "Hoitaja tässä. " + "Soita meille huomenna aamulla. " * 8
    assert asyncio.run(outbox.queue_texts(pseudonym, [long_text]))
    queued = rows(engine)
    assert len(queued) > 1 and {(row.segments, row.encoding) for row in queued} == {(1, GSM7)}
    store.update_number(engine, pseudonym, T0, opted_out=True)
    assert not asyncio.run(outbox.queue_texts(pseudonym, ["Hei"]))
    assert len(rows(engine)) == len(queued)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def loopback_gateway(handler: Handler) -> AsyncIterator[str]:
    """A server speaking Twilio's Messages API on a free loopback port: its base URL."""
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def gateway_settings(base: str) -> Settings:
    return Settings(twilio_api_base=base, twilio_account_sid=ACCOUNT,
                    twilio_auth_token="auth-token", twilio_from_number="+358400000000")


def test_the_twilio_client_posts_the_form_and_says_which_errors_to_retry() -> None:
    replies = [web.json_response({"sid": "SM123"}, status=201),
               web.Response(status=500, text="<html>oops</html>"),
               web.json_response({"code": 20429, "message": "Too Many Requests"}, status=429),
               web.json_response({"code": 21211, "message": "Invalid To"}, status=400)]
    received: list[tuple[str, str, dict[str, str]]] = []

    async def messages(request: web.Request) -> web.StreamResponse:
        received.append((request.match_info["account"], request.headers["Authorization"],
                         dict(await request.post())))
        if not replies:
            await asyncio.sleep(5)  # longer than the client waits
        return replies.pop(0)

    async def outcomes() -> list[str | tuple[str, bool]]:
        results: list[str | tuple[str, bool]] = []
        async with loopback_gateway(messages) as base, \
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as session:
            client = TwilioClient(gateway_settings(base), session)
            for _ in range(5):
                try:
                    results.append(await client.send(NUMBER, "Hei"))
                except GatewayError as exc:
                    results.append((str(exc), exc.retry))
        return results

    sent, server_error, too_many, refused, timeout = asyncio.run(outcomes())
    assert sent == "SM123"
    assert server_error == ("HTTP 500 code None: None", True)
    assert too_many == ("HTTP 429 code 20429: Too Many Requests", True)
    assert refused == ("HTTP 400 code 21211: Invalid To", False)
    assert timeout[0].startswith("TimeoutError") and timeout[1]
    account, auth, form = received[0]
    assert account == ACCOUNT and auth == aiohttp.BasicAuth(ACCOUNT, "auth-token").encode()
    assert form == {"To": NUMBER, "From": "+358400000000", "Body": "Hei"}


def test_the_sender_task_posts_what_is_queued(engine: Engine, identity: PhoneIdentity) -> None:
    posted: list[str] = []

    async def messages(request: web.Request) -> web.StreamResponse:
        posted.append(str((await request.post())["Body"]))
        return web.Response(status=201, text=json.dumps({"sid": f"SM{len(posted)}"}))

    async def run() -> None:
        async with loopback_gateway(messages) as base:
            outbox = Outbox(gateway_settings(base), engine, identity)
            sender = asyncio.ensure_future(outbox.send_forever())
            await asyncio.sleep(0.1)  # idle: nothing queued
            assert await outbox.queue_texts(known(engine, identity), ["Hoitaja tässä."])
            for _ in range(100):
                if [row.status for row in await asyncio.to_thread(rows, engine)] == ["sent"]:
                    break
                await asyncio.sleep(0.05)
            sender.cancel()

    asyncio.run(run())
    assert posted == ["Hoitaja tässä."]
    (row,) = rows(engine)
    assert (row.status, row.provider_sid) == ("sent", "SM1")
