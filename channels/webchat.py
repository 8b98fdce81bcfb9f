"""The website chat channel: a websocket with an HTTP fallback, sessions that survive a
reload, and a per-session delivery queue so nothing is lost while the browser is away.

Mounted by Rasa under `/webhooks/webchat/` (see `credentials.yml`). The session token
travels in the header `Authorization: Bearer <token>` only: never in a URL, which
proxies log, nor in a body.

    POST   /session           {"text"?} -> 201 {"token"}: a new conversation
    GET    /history           every message of the session, in order
    GET    /messages?after=N  messages after a sequence number (polling fallback)
    POST   /message           {"text", "title"?, "metadata"?}: a resident's message
    DELETE /session           -> 204: the resident ended it; it is deleted, messages too
    WS     /ws                first frame {"token", "after"}; then pushes, acks, messages
                              (channels/webchat_socket.py)
    GET    /widget.js, /widget.css, /demo   the widget and a demo page

A token that is unknown, ended or idle past `WEBCHAT_IDLE_HOURS` gets 403
`unknown_session`; the widget then starts a new session. Too many new sessions from one
client address (`WEBCHAT_SESSION_LIMIT` per 10 minutes) or messages in one session
(`MESSAGE_LIMIT`) get 429 `rate_limited` with `Retry-After`, or an error frame on the
socket; a message with a red flag is let through all the same (`POST /session` takes
the first message's text for that). Limits are counted per server process.

Bot messages are stored with the conversation's language (`lang`) before they are
pushed, so a browser that reconnects gets them from the queue, each once, in order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.handoff import delivery
from bot.ratelimit import Clock, Limit, RateLimiter
from bot.settings import Settings
from bot.storage import webchat as store
from bot.translation.component import pretranslate
from bot.translation.nlg import TEXT_LANGUAGE_KEY
from bot.triage.redflags import default_detector
from channels.common import (
    StoreBacked,
    WholeMessages,
    client_address,
    conversation_language,
    secure,
    static_handler,
)
from channels.errors import BadRequest, Forbidden, TooLarge, check_limit, handle_errors
from channels.webchat_socket import HUB, UNKNOWN_SESSION, serve, wire

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
MAX_MESSAGE_CHARS = 2000
#: What of a bot message the widget shows (Rasa's collector keys; `lang` is added).
SHOWN = ("text", "image", "buttons", "attachment", "custom")
#: Messages per session: nobody typing or tapping by hand meets this.
MESSAGE_LIMIT = Limit(burst=20, refill_seconds=2.0)
#: `WEBCHAT_SESSION_LIMIT` new sessions per client address in this many seconds.
SESSION_WINDOW_SECONDS = 600.0
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
_STATIC_FILES = {"widget.js": "widget.js", "widget.css": "widget.css", "demo": "demo.html",
                 "demo.css": "demo.css"}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def _secure(resp: HTTPResponse) -> HTTPResponse:
    """An answer about a session: no cache keeps it (a shared computer)."""
    return secure(resp, CONTENT_SECURITY_POLICY, cache="no-store")


def _static(resp: HTTPResponse) -> HTTPResponse:
    return secure(resp, CONTENT_SECURITY_POLICY, cache="no-cache")


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nested too deep
        raise BadRequest("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _bearer(request: Request) -> str:
    """The session token, from the Authorization header only."""
    if "token" in request.args:
        raise BadRequest("the session token goes in the Authorization header, not the URL")
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BadRequest("a session token is required: Authorization: Bearer <token>")
    return token.strip()


def _red_flag(text: Any) -> Callable[[], bool]:
    """The question a limiter asks only past its limit: does `text` have a red flag?
    Such a message is answered however many came before it."""
    return lambda: (isinstance(text, str) and len(text) <= MAX_MESSAGE_CHARS
                    and default_detector().detect(text) is not None)


class WebchatInput(StoreBacked, InputChannel):
    """Rasa input channel for the web widget."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None,
                 clock: Clock = time.monotonic) -> None:
        super().__init__(settings=settings, engine=engine)
        self.hub = HUB
        self._clock = clock
        self._message_limiter = RateLimiter(MESSAGE_LIMIT, clock)

    @cached_property
    def _session_limiter(self) -> RateLimiter:
        """Made on first use: the settings are read then."""
        per_window = self.settings.webchat_session_limit
        return RateLimiter(Limit(per_window, SESSION_WINDOW_SECONDS / per_window), self._clock)

    @property
    def _idle_limit(self) -> timedelta:
        return timedelta(hours=self.settings.webchat_idle_hours)

    async def sender(self, token: Any) -> str:
        """The conversation of a live session's token."""
        if not isinstance(token, str):
            raise BadRequest("a session token is required")
        sender_id = await self._db(store.sender_for, token, self._idle_limit)
        if sender_id is None:
            raise Forbidden(code=UNKNOWN_SESSION)
        return sender_id

    async def messages(self, sender_id: str, after: int) -> list[store.StoredMessage]:
        return await self._db(store.messages_after, sender_id, after)

    async def acknowledge(self, sender_id: str, seq: int) -> None:
        await self._db(store.acknowledge, sender_id, seq)

    async def _messages(self, request: Request, after: int) -> HTTPResponse:
        messages = await self.messages(await self.sender(_bearer(request)), after)
        return _secure(response.json({"messages": [wire(m) for m in messages]}))

    async def handle_message(self, request: Request, on_new_message: OnNewMessage,
                             sender_id: str, body: dict[str, Any]) -> int:
        """Store the resident's message (which keeps the session alive), run it through
        Rasa, store the answers with the conversation's language, and wake the
        conversation's sockets."""
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("text must be a non-empty string")
        if len(text) > MAX_MESSAGE_CHARS:
            raise TooLarge(code="message_too_long", max_chars=MAX_MESSAGE_CHARS)
        check_limit(self._message_limiter, sender_id, exempt=_red_flag(text))
        if not await self._db(store.touch, sender_id, self._idle_limit):
            raise Forbidden(code=UNKNOWN_SESSION)
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        shown = {"text": text} if not text.startswith("/") else {"text": body.get("title") or ""}
        seq = await self._db(store.append, sender_id, "resident", shown)
        collector = WholeMessages()
        await pretranslate(text)
        await on_new_message(UserMessage(text, collector, sender_id,
                                         input_channel=self.name(), metadata=metadata))
        language = await conversation_language(request.app, sender_id)
        for message in collector.messages:
            payload = {key: message[key] for key in SHOWN if message.get(key)}
            await self._db(store.append, sender_id, "bot",
                           {**payload, "lang": message.get(TEXT_LANGUAGE_KEY) or language})
        self.hub.notify(sender_id)
        return seq

    async def send(self, sender_id: str, text: str, language: str | None,
                   author: str) -> bool:
        """Outbound (bot/handoff/delivery.py): into the session's delivery queue, and
        to its open sockets; a browser that is away gets it on reconnect."""
        await self._db(store.append, sender_id, author, {"text": text, "lang": language})
        self.hub.notify(sender_id)
        return True

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        delivery.register(self.name(), self)
        webchat = handle_errors(Blueprint("webchat", __name__), _secure)

        @webchat.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return _secure(response.json({"status": "ok"}))

        @webchat.route("/session", methods=["POST"])
        async def new_session(request: Request) -> HTTPResponse:
            body = _json_body(request) if request.body else {}
            address = client_address(request, self.settings.trusted_proxies)
            check_limit(self._session_limiter, address, exempt=_red_flag(body.get("text")))
            token, _ = await self._db(store.create_session)
            return _secure(response.json({"token": token}, status=201))

        @webchat.route("/session", methods=["DELETE"])
        async def end_session(request: Request) -> HTTPResponse:
            sender_id = await self.sender(_bearer(request))
            await self._db(store.end_session, sender_id)
            return _secure(response.empty(status=204))

        @webchat.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            return await self._messages(request, after=0)

        @webchat.route("/messages", methods=["GET"])
        async def poll(request: Request) -> HTTPResponse:
            try:
                after = int(request.args.get("after", "0"))
            except ValueError as exc:
                raise BadRequest("after must be a number") from exc
            return await self._messages(request, after)

        @webchat.route("/message", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = _json_body(request)
            sender_id = await self.sender(_bearer(request))
            seq = await self.handle_message(request, on_new_message, sender_id, body)
            return _secure(response.json({"seq": seq}, status=202))

        @webchat.websocket("/ws")
        async def socket(request: Request, ws: Any) -> None:
            await serve(self, request, ws, on_new_message)

        for route, filename in _STATIC_FILES.items():
            webchat.add_route(static_handler(STATIC_DIR / filename, _static), f"/{route}",
                              methods=["GET"], name=f"static_{route.replace('.', '_')}")

        return webchat
