"""The SMS channel, on the Twilio protocol that SMS gateways copy.

Mounted by Rasa under `/webhooks/sms/` (see `credentials.yml`):

    POST /webhook   the operator's form-encoded webhook (From, To, Body, MessageSid,
                    NumMedia), signed with X-Twilio-Signature over SMS_PUBLIC_URL;
                    answered at once with empty TwiML, processed in the background
    GET  /          {"status", "configured", "outbox"}: for the operator (OPS_ALLOW only)

Replies leave through the outbox (`bot/sms/outbox.py`): a sender task in every
server process posts them to the Messages REST API at TWILIO_API_BASE, retrying
with backoff on 5xx, 429 and timeouts. Conversations are keyed by a pseudonym of
the number; the number itself is read, decrypted, only to send.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import urllib.parse
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import delivery
from bot.language.choice import HINT_METADATA_KEY
from bot.settings import DEFAULT_LANGUAGE, Settings
from bot.sms import keywords as sms_keywords
from bot.sms.identity import PhoneIdentity, is_finnish, normalise_number
from bot.sms.outbox import Outbox
from bot.sms.render import Option, chosen_payload, render_turn, sms_response_text
from bot.storage import sms as store
from bot.storage.db import utcnow
from bot.translation.component import pretranslate
from bot.triage.redflags import default_detector
from channels.common import StoreBacked, conversation_language, ops_allowed

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SIGNATURE_HEADER = "X-Twilio-Signature"
#: Twilio's own limit for a message body.
MAX_BODY_CHARS = 1600
MESSAGE_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")
#: An inbound message claimed this long ago by a process that never finished is retried.
STALE_CLAIM = timedelta(minutes=5)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    """Twilio's request signature: HMAC-SHA1 of the URL followed by every parameter
    name and value, sorted, base64-encoded."""
    data = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(auth_token: str, url: str, params: Mapping[str, Sequence[str]],
                       signature: str) -> bool:
    expected = twilio_signature(auth_token, url, params)
    return bool(signature) and hmac.compare_digest(expected.encode(), signature.encode())


def _form(request: Request) -> dict[str, list[str]]:
    """The webhook's parameters, empty ones included: Twilio signs an empty Body too
    (Sanic's `request.form` drops it)."""
    if request.content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise ValueError("not a form")
    return urllib.parse.parse_qs(request.body.decode("utf-8"), keep_blank_values=True)


class SmsOutput(CollectingOutputChannel):
    """Collects a turn's messages whole (with buttons and the response name), under the
    channel name "sms" so that the domain's `channel: sms` variations are chosen."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))


class SmsInput(StoreBacked, InputChannel):
    """Rasa input channel for SMS."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings=settings)
        self._identity: PhoneIdentity | None = None
        self._keywords = sms_keywords.KeywordTable.from_file()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: list[asyncio.Future[None]] = []

    @property
    def identity(self) -> PhoneIdentity:
        if self._identity is None:
            self._identity = PhoneIdentity(self.settings.pseudonym_key,
                                           self.settings.encryption_key)
        return self._identity

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.settings, self.engine, self.identity)

    async def send(self, sender_id: str, text: str, language: str | None,
                   author: str) -> bool:
        """Outbound (bot/handoff/delivery.py): through the outbox, in SMS form; False
        when SMS is not configured (the outbox needs the keys) or the number has opted out."""
        return self.settings.sms_configured and \
            await self.outbox.queue_texts(sender_id, [text])

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        delivery.register(self.name(), self)
        sms = Blueprint("sms", __name__)

        @sms.listener("after_server_start")
        async def start(app: Sanic, _loop: Any) -> None:
            if not self.settings.sms_configured:
                logger.warning("SMS channel off: set SMS_PUBLIC_URL, TWILIO_ACCOUNT_SID, "
                               "TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER and the two keys")
                return
            self._tasks = [asyncio.ensure_future(self.outbox.send_forever()),
                           asyncio.ensure_future(self._recover_forever(app, on_new_message))]

        @sms.listener("before_server_stop")
        async def stop(_app: Sanic, _loop: Any) -> None:
            for task in self._tasks:
                task.cancel()

        @sms.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if not ops_allowed(request, self.settings):  # the backlog is the operator's
                return response.json({"error": "forbidden", "reason": "OPS_ALLOW only"},
                                     status=403)
            configured = self.settings.sms_configured
            outbox = await self._db(store.outbox_counts) if configured else {}
            return response.json({"status": "ok", "configured": configured, "outbox": outbox})

        @sms.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return sms

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Check, store and acknowledge a webhook; the answer is worked out afterwards."""
        if not self.settings.sms_configured:
            return response.json({"error": "sms_not_configured"}, status=503)
        try:
            params = _form(request)
        except ValueError:
            return response.json({"error": "bad_request",
                                  "reason": "the body must be form-encoded UTF-8"}, status=400)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature_is_valid(self.settings.twilio_auth_token,
                                  self.settings.sms_public_url, params, signature):
            logger.warning("SMS webhook refused: missing or wrong %s", SIGNATURE_HEADER)
            return response.json({"error": "bad_signature"}, status=403)
        first = {name: values[0] for name, values in params.items() if values}
        message_sid = first.get("MessageSid", "")
        body = first.get("Body", "")
        try:
            number = normalise_number(first.get("From", ""))
            num_media = int(first.get("NumMedia") or 0)
        except ValueError:
            return response.json({"error": "bad_request", "reason": "From and NumMedia"},
                                 status=400)
        if not MESSAGE_SID.match(message_sid):
            return response.json({"error": "bad_request", "reason": "MessageSid"}, status=400)
        if len(body) > MAX_BODY_CHARS:
            return response.json({"error": "message_too_long"}, status=413)
        pseudonym = self.identity.pseudonym(number)
        now = utcnow()
        twiml = response.text(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
        if await self._db(store.seen, message_sid):  # a retry, or a replay after the purge
            logger.info("SMS %s from %s already received: ignored", message_sid, pseudonym)
            return twiml
        await self._db(store.remember_number, pseudonym, self.identity.encrypt(number), now)
        if await self._db(store.receive, message_sid, pseudonym, body, num_media, now):
            request.app.add_task(self._process_pending(request.app, on_new_message, message_sid))
        return twiml

    async def _process_pending(self, app: Sanic, on_new_message: OnNewMessage,
                               message_sid: str | None = None) -> None:
        """Process one received message, or every one a crash or failure left behind."""
        for inbound in await self._db(store.claim_inbound, utcnow(), STALE_CLAIM, message_sid):
            lock = self._locks.setdefault(inbound.pseudonym, asyncio.Lock())
            async with lock:
                try:
                    await self._process(app, on_new_message, inbound)
                except Exception:  # noqa: BLE001 - the message stays queued for a retry
                    logger.exception("SMS %s from %s failed", inbound.message_sid,
                                     inbound.pseudonym)
                    continue
            await self._db(store.mark_processed, inbound.message_sid, utcnow())

    async def _recover_forever(self, app: Sanic, on_new_message: OnNewMessage) -> None:
        """Messages a crashed or failed worker left behind, at start and then regularly."""
        while True:
            try:
                await self._process_pending(app, on_new_message)
            except Exception:  # noqa: BLE001 - try again next round
                logger.exception("SMS inbound recovery round failed")
            await asyncio.sleep(STALE_CLAIM.total_seconds() / 5)

    async def _process(self, app: Sanic, on_new_message: OnNewMessage,
                       inbound: store.Inbound) -> None:
        state = await self._db(store.number_state, inbound.pseudonym)
        language = state.language or (
            "fi" if is_finnish(self.identity.decrypt(state.number_encrypted)) else None)
        text = inbound.body.strip()
        keyword = self._keywords.match(text)
        if keyword is not None:
            await self._answer_keyword(app, on_new_message, state, keyword, text, language)
            return
        if not text:
            if inbound.num_media and not state.opted_out:
                await self._send_response(app, state.pseudonym, sms_keywords.TEXT_ONLY_RESPONSE,
                                          language)
            return
        options = [Option(**option) for option in state.options]
        chosen = chosen_payload(text, options)
        messages = await self._converse(on_new_message, state.pseudonym, chosen or text,
                                        language)
        rendered = render_turn(messages, self.settings.sms_max_segments)
        language = await conversation_language(app, state.pseudonym) or language
        await self._db(store.update_number, state.pseudonym, utcnow(), language=language,
                       options=[vars(option) for option in rendered.options])
        if state.opted_out and default_detector().detect(text) is None:
            logger.info("SMS reply to %s not sent: the number has opted out", state.pseudonym)
            return
        await self.outbox.queue(state.pseudonym, rendered.bodies)

    async def _converse(self, on_new_message: OnNewMessage, pseudonym: str, text: str,
                        language: str | None) -> list[dict[str, Any]]:
        output = SmsOutput()
        metadata = {HINT_METADATA_KEY: language} if language else {}
        await pretranslate(text)
        await on_new_message(UserMessage(text, output, pseudonym, input_channel=self.name(),
                                         metadata=metadata))
        return output.messages

    async def _answer_keyword(self, app: Sanic, on_new_message: OnNewMessage,
                              state: store.NumberState, keyword: sms_keywords.Keyword,
                              text: str, language: str | None) -> None:
        """STOP ends all messages until START; the stop word also reaches the dialogue
        (silently), so a triage in progress ends as the resident asked."""
        now = utcnow()
        if keyword.kind == "stop":
            await self._db(store.update_number, state.pseudonym, now, opted_out=True, options=[])
            await self._converse(on_new_message, state.pseudonym, text, language)
            logger.info("SMS number %s opted out", state.pseudonym)
        elif keyword.kind == "start":
            await self._db(store.update_number, state.pseudonym, now, opted_out=False)
            logger.info("SMS number %s opted back in", state.pseudonym)
        await self._send_response(app, state.pseudonym, sms_keywords.RESPONSES[keyword.kind],
                                  keyword.language or language)

    async def _send_response(self, app: Sanic, pseudonym: str, name: str,
                             language: str | None) -> None:
        agent = app.ctx.agent
        text = sms_response_text(agent.domain.responses, name, language or DEFAULT_LANGUAGE)
        await self.outbox.queue(pseudonym, [text])
