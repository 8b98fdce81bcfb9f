"""The SMS channel's routes in process (Sanic's ASGI test client, a stand-in for Rasa,
an SQLite database): what the webhook accepts, what it refuses and with which error,
and that an accepted message reaches the dialogue."""

from __future__ import annotations

import asyncio
import uuid
from ipaddress import ip_network
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sanic_testing.testing import SanicTestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from bot.language.choice import HINT_METADATA_KEY
from bot.settings import Settings
from bot.storage import sms as store
from channels.sms import EMPTY_TWIML, MAX_BODY_CHARS, SmsInput

URL = "https://terveys.hel.fi/webhooks/sms/webhook"
AUTH_TOKEN = "auth-token"
NUMBER = "+358401112233"
FORM = {"From": NUMBER, "To": "+358401234567", "Body": "Hei, milloin Malmi on auki?",
        "MessageSid": "SM" + "a" * 32, "NumMedia": "0"}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
#: Nothing listens there: a reply the sender tries to post is retried later.
NO_GATEWAY = "http://127.0.0.1:9"


def sms_settings(**changes: Any) -> Settings:
    """SMS configured as `Settings.sms_configured` asks, unless `changes` say otherwise."""
    configured: dict[str, Any] = dict(
        pseudonym_key="pseudonym-key", encryption_key=Fernet.generate_key().decode(),
        sms_public_url=URL, twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+358400000000", twilio_api_base=NO_GATEWAY)
    return Settings(**{**configured, **changes})


class Webhook:
    """The channel mounted as Rasa mounts it, with a stand-in for Rasa that answers "ok"
    and keeps what reached it."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine
        self.channel = SmsInput(settings, engine)
        self.said: list[UserMessage] = []
        self.app = Sanic(f"sms_{uuid.uuid4().hex[:12]}")
        self.app.blueprint(self.channel.blueprint(self.answer), url_prefix="/webhooks/sms")

    async def answer(self, message: UserMessage) -> None:
        self.said.append(message)
        await message.output_channel.send_text_message(message.sender_id, "ok")

    def post(self, body: str | bytes, headers: dict[str, str], settle: bool = False) -> Any:
        """POST to the webhook; with `settle`, also wait until the message has been
        processed in the background (before the event loop ends)."""
        async def call() -> Any:
            _, response = await self.app.asgi_client.post("/webhooks/sms/webhook",
                                                          content=body, headers=headers)
            for _ in range(200 if settle else 0):
                if all(row.processed_at for row in await asyncio.to_thread(_inbound,
                                                                           self.engine)):
                    break
                await asyncio.sleep(0.05)
            return response
        return asyncio.run(call())

    def send(self, form: dict[str, str], token: str = AUTH_TOKEN, url: str = URL,
             signature: str | None = None, settle: bool = False) -> Any:
        """A webhook as the operator posts it, signed with `token` over `url` unless a
        `signature` is given."""
        if signature is None:
            signature = RequestValidator(token).compute_signature(url, form)
        return self.post(urlencode(form), {**FORM_TYPE, "X-Twilio-Signature": signature},
                         settle=settle)


@pytest.fixture
def webhook(engine: Engine) -> Webhook:
    return Webhook(sms_settings(), engine)


def _inbound(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(store.sms_inbound)).all()


def test_an_unconfigured_channel_says_so(engine: Engine) -> None:
    response = Webhook(sms_settings(twilio_auth_token=""), engine).send(FORM)
    assert response.status == 503 and response.json["error"] == "sms_not_configured"
    assert response.json["reason"]


@pytest.mark.parametrize("body, headers", [
    ('{"Body": "hei"}', {"Content-Type": "application/json"}),
    (b"Body=\xff\xfe", FORM_TYPE),  # not UTF-8
])
def test_a_body_that_is_not_a_utf8_form_is_a_bad_request(
        webhook: Webhook, body: str | bytes, headers: dict[str, str]) -> None:
    response = webhook.post(body, headers)
    assert response.status == 400
    assert response.json == {"error": "bad_request",
                             "reason": "the body must be form-encoded UTF-8"}


def test_only_a_webhook_signed_with_twilios_scheme_is_accepted(
        webhook: Webhook, engine: Engine) -> None:
    """Twilio's own library signs as Twilio does: over the public URL and every
    parameter, an empty one too."""
    for refused in (webhook.send(FORM, signature=""),
                    webhook.send(FORM, signature="bogus"),
                    webhook.send(FORM, token="other-token"),
                    webhook.send(FORM, url=URL + "?x=1"),
                    webhook.post(urlencode({**FORM, "Body": "changed"}), {
                        **FORM_TYPE,
                        "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(
                            URL, FORM)})):
        assert refused.status == 403
        assert refused.json["error"] == "bad_signature"
    assert _inbound(engine) == []
    picture = {**FORM, "Body": "", "NumMedia": "1"}  # Twilio signs the empty Body too
    assert webhook.send(picture).status == 200
    assert webhook.send({**FORM, "MessageSid": "SM" + "c" * 32}).status == 200
    assert len(_inbound(engine)) == 2


@pytest.mark.parametrize("change", [{"MessageSid": ""}, {"MessageSid": "SM../../etc"},
                                    {"From": "not a number"}, {"NumMedia": "many"}])
def test_malformed_fields_are_a_bad_request(webhook: Webhook, change: dict[str, str]) -> None:
    response = webhook.send({**FORM, **change})
    assert response.status == 400 and response.json["error"] == "bad_request"


def test_a_body_longer_than_twilios_limit_is_too_large(webhook: Webhook,
                                                       engine: Engine) -> None:
    response = webhook.send({**FORM, "Body": "x" * (MAX_BODY_CHARS + 1)})
    assert response.status == 413
    assert response.json["error"] == "message_too_long"
    assert response.json["max_chars"] == MAX_BODY_CHARS
    assert _inbound(engine) == []


def test_a_signed_message_gets_empty_twiml_and_reaches_the_dialogue_once(
        webhook: Webhook, engine: Engine) -> None:
    response = webhook.send(FORM, settle=True)
    assert response.status == 200 and response.text == EMPTY_TWIML
    assert response.headers["content-type"].startswith("text/xml")
    (message,) = webhook.said
    assert message.text == FORM["Body"] and message.input_channel == "sms"
    assert message.sender_id.startswith("sms-") and "401112233" not in message.sender_id
    assert message.metadata == {HINT_METADATA_KEY: "fi"}  # a Finnish number
    assert webhook.send(FORM).status == 200  # the operator's retry: acknowledged, ignored
    (inbound,) = _inbound(engine)
    assert inbound.processed_at is not None and inbound.body == ""


def test_the_channel_is_the_sms_outbound_adapter(webhook: Webhook, engine: Engine) -> None:
    """A nurse's reply reaches a known number through the outbox, never an unknown one."""
    webhook.send(FORM, settle=True)
    (pseudonym,) = [message.sender_id for message in webhook.said]
    assert asyncio.run(webhook.channel.send(pseudonym, "Hoitaja tässä.", "fi", "nurse"))
    assert not asyncio.run(webhook.channel.send("sms-unknown", "Hei", "fi", "nurse"))
    with engine.connect() as conn:
        bodies = conn.execute(select(store.sms_outbox.c.body)
                              .where(store.sms_outbox.c.pseudonym == pseudonym)).scalars().all()
    assert "Hoitaja tässä." in bodies
    unconfigured = SmsInput(sms_settings(sms_public_url=""), engine)
    assert not asyncio.run(unconfigured.send(pseudonym, "Hei", "fi", "nurse"))


def test_the_backlog_is_the_operators(engine: Engine) -> None:
    def backlog(settings: Settings) -> Any:
        """Over loopback (the ASGI client has no peer address)."""
        client = SanicTestClient(Webhook(settings, engine).app, port=None)
        _, response = client.get("/webhooks/sms/")
        return response

    answered = backlog(sms_settings())
    assert answered.status == 200 and answered.json["configured"] is True
    assert answered.json["outbox"] == {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    refused = backlog(sms_settings(ops_allow=(ip_network("10.0.0.0/8"),)))
    assert refused.status == 403
    assert refused.json == {"error": "forbidden", "reason": "OPS_ALLOW only"}
