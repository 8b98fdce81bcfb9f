"""The SMS channel, on the Twilio protocol that SMS gateways copy: it checks the operator's
webhook and hands the message to the domain, which answers through the outbox (`bot/sms/`).

    POST /webhooks/sms/webhook  the form-encoded webhook (From, To, Body, MessageSid,
        NumMedia), signed with X-Twilio-Signature over SMS_PUBLIC_URL; answered at once
        with empty TwiML, processed in the background
    GET  /webhooks/sms/         {"status", "configured", "outbox"}: OPS_ALLOW only

Refusals carry `{"error", "reason"}` (channels/errors.py): 503 `sms_not_configured`,
400 `bad_request`, 403 `bad_signature`, 413 `message_too_long`, 403 `forbidden`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.handoff import delivery
from bot.language.choice import HINT_METADATA_KEY
from bot.sms.identity import PhoneIdentity, normalise_number
from bot.sms.inbound import Inbox
from bot.sms.outbox import Outbox
from bot.storage import sms as store
from bot.translation.component import pretranslate
from channels.common import StoreBacked, WholeMessages, conversation_language, ops_allowed
from channels.errors import BadRequest, Forbidden, TooLarge, Unavailable, handle_errors

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SIGNATURE_HEADER = "X-Twilio-Signature"
#: Twilio's own limit for a message body.
MAX_BODY_CHARS = 1600
MESSAGE_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def _form(request: Request) -> RequestParameters:
    """The webhook's parameters, empty ones included: Twilio signs an empty Body too
    (Sanic's `request.form` drops it). As RequestParameters, RequestValidator signs
    every value of a repeated name (`getlist`), as Twilio does."""
    if request.content_type.split(";")[0].strip() == "application/x-www-form-urlencoded":
        try:
            return RequestParameters(urllib.parse.parse_qs(request.body.decode("utf-8"),
                                                           keep_blank_values=True))
        except UnicodeDecodeError:
            pass
    raise BadRequest("the body must be form-encoded UTF-8")


class SmsOutput(WholeMessages):
    """A turn's messages whole, under the channel name "sms" so that the domain's
    `channel: sms` variations are chosen."""

    @classmethod
    def name(cls) -> str:
        return "sms"


@dataclass(frozen=True)
class RasaDialogue:
    """The assistant as `bot/sms/inbound.py` needs it, from the Rasa server it runs in."""

    app: Sanic
    on_new_message: OnNewMessage

    async def turn(self, pseudonym: str, text: str,
                   language: str | None) -> list[dict[str, Any]]:
        output = SmsOutput()
        metadata = {HINT_METADATA_KEY: language} if language else {}
        await pretranslate(text)
        await self.on_new_message(UserMessage(text, output, pseudonym,
                                               input_channel=output.name(), metadata=metadata))
        return output.messages

    async def language(self, pseudonym: str) -> str | None:
        return await conversation_language(self.app, pseudonym)

    def responses(self) -> Mapping[str, list[dict[str, Any]]]:
        return self.app.ctx.agent.domain.responses


class SmsInput(StoreBacked, InputChannel):
    """Rasa input channel for SMS."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    @cached_property
    def inbox(self) -> Inbox:
        """Made only once SMS is configured: the phone identity needs the two keys."""
        identity = PhoneIdentity(self.settings.pseudonym_key, self.settings.encryption_key)
        return Inbox(self.settings, self.engine, identity,
                     Outbox(self.settings, self.engine, identity))

    async def send(self, sender_id: str, text: str, language: str | None,
                   author: str) -> bool:
        """Outbound (bot/handoff/delivery.py): through the outbox, in SMS form; False
        when SMS is not configured or the number has opted out."""
        return self.settings.sms_configured and \
            await self.inbox.outbox.queue_texts(sender_id, [text])

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        delivery.register(self.name(), self)
        sms = handle_errors(Blueprint("sms", __name__))
        tasks: list[asyncio.Future[None]] = []

        @sms.listener("after_server_start")
        async def start(app: Sanic, _loop: Any) -> None:
            if not self.settings.sms_configured:
                logger.warning("SMS channel off: set SMS_PUBLIC_URL, TWILIO_ACCOUNT_SID, "
                               "TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER and the two keys")
                return
            dialogue = RasaDialogue(app, on_new_message)
            tasks[:] = [asyncio.ensure_future(self.inbox.outbox.send_forever()),
                        asyncio.ensure_future(self.inbox.recover_forever(dialogue))]

        @sms.listener("before_server_stop")
        async def stop(_app: Sanic, _loop: Any) -> None:
            for task in tasks:
                task.cancel()

        @sms.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if not ops_allowed(request, self.settings):  # the backlog is the operator's
                raise Forbidden("OPS_ALLOW only")
            configured = self.settings.sms_configured
            outbox = await self._db(store.outbox_counts) if configured else {}
            return response.json({"status": "ok", "configured": configured, "outbox": outbox})

        @sms.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._receive(request, RasaDialogue(request.app, on_new_message))

        return sms

    async def _receive(self, request: Request, dialogue: RasaDialogue) -> HTTPResponse:
        """Check and store a webhook, and acknowledge it; the answer is worked out after."""
        if not self.settings.sms_configured:
            raise Unavailable("SMS is not configured", code="sms_not_configured")
        params = _form(request)
        if not RequestValidator(self.settings.twilio_auth_token).validate(
                self.settings.sms_public_url, params, request.headers.get(SIGNATURE_HEADER, "")):
            logger.warning("SMS webhook refused: missing or wrong %s", SIGNATURE_HEADER)
            raise Forbidden(f"missing or wrong {SIGNATURE_HEADER}", code="bad_signature")
        message_sid, body = params.get("MessageSid", ""), params.get("Body", "")
        try:
            number = normalise_number(params.get("From", ""))
            num_media = int(params.get("NumMedia") or 0)
        except ValueError as exc:
            raise BadRequest("From must be a phone number, NumMedia a number") from exc
        if not MESSAGE_SID.match(message_sid):
            raise BadRequest("MessageSid must be 10 to 64 letters and digits")
        if len(body) > MAX_BODY_CHARS:
            raise TooLarge(f"at most {MAX_BODY_CHARS} characters", code="message_too_long",
                           max_chars=MAX_BODY_CHARS)
        if await self.inbox.receive(message_sid, number, body, num_media):
            request.app.add_task(self.inbox.process_pending(dialogue, message_sid))
        return response.text(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
