"""The web chat's websocket (`WS /webhooks/webchat/ws`) and the hub that wakes it.

The first frame is {"token", "after"}; then the server sends the session's messages
after `after` and pushes each new one. Frames from the browser are
{"type": "message", "text", "metadata"} or {"type": "ack", "seq"}. Refusals are
error frames with the HTTP routes' bodies (channels/errors.py), except a malformed
frame (`bad_frame`); a session that is over gets `unknown_session` and the socket
ends. Messages are sent by the channel (channels/webchat.py), which the socket uses
through `Conversations`, so the two modules do not import each other.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rasa.core.channels.channel import UserMessage
from sanic.request import Request

from bot.storage.webchat import StoredMessage
from channels.errors import BadRequest, ChannelError, Forbidden, error_body

#: How often a connected socket looks for messages written by another process.
POLL_SECONDS = 5.0
#: The widget starts a new session on this code (403, or an error frame on the socket).
UNKNOWN_SESSION = "unknown_session"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class Hub:
    """Wakes the sockets of one conversation in this process when a message is stored;
    sockets also poll, so messages stored by another process arrive too."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = defaultdict(set)

    def subscribe(self, sender_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._events[sender_id].add(event)
        return event

    def unsubscribe(self, sender_id: str, event: asyncio.Event) -> None:
        self._events[sender_id].discard(event)
        if not self._events[sender_id]:
            del self._events[sender_id]

    def notify(self, sender_id: str) -> None:
        for event in self._events.get(sender_id, ()):
            event.set()


#: One hub per process, so a nurse's reply (bot/handoff/delivery.py) wakes the sockets too.
HUB = Hub()


class Conversations(Protocol):
    """What a socket needs of the web chat channel."""

    hub: Hub

    async def sender(self, token: Any) -> str:
        """The conversation of a session token; Forbidden or BadRequest otherwise."""

    async def messages(self, sender_id: str, after: int) -> list[StoredMessage]: ...

    async def acknowledge(self, sender_id: str, seq: int) -> None: ...

    async def handle_message(self, request: Request, on_new_message: OnNewMessage,
                             sender_id: str, body: dict[str, Any]) -> int: ...


def wire(message: StoredMessage) -> dict[str, Any]:
    """A stored message as the widget reads it, over HTTP and the socket alike."""
    return {"seq": message.seq, "author": message.author, **message.payload}


async def _send_frame(ws: Any, **frame: Any) -> None:
    await ws.send(json.dumps(frame, ensure_ascii=False))


async def serve(chat: Conversations, request: Request, ws: Any,
                on_new_message: OnNewMessage) -> None:
    """Send the backlog, then each new message, until the browser goes away."""
    try:
        hello = json.loads(await ws.recv())
        sender_id = await chat.sender(hello.get("token"))
        sent = int(hello.get("after") or 0)
    except (ValueError, TypeError, AttributeError, RecursionError, ChannelError):
        await _send_frame(ws, type="error", error=UNKNOWN_SESSION)
        return
    wake = chat.hub.subscribe(sender_id)
    reader = asyncio.ensure_future(_read_frames(chat, request, ws, on_new_message, sender_id))
    try:
        while not reader.done():
            for message in await chat.messages(sender_id, sent):
                await _send_frame(ws, type="message", **wire(message))
                sent = message.seq
            wake.clear()
            waiter = asyncio.ensure_future(wake.wait())
            await asyncio.wait({waiter, reader}, timeout=POLL_SECONDS,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
    finally:
        chat.hub.unsubscribe(sender_id, wake)
        reader.cancel()


async def _read_frames(chat: Conversations, request: Request, ws: Any,
                       on_new_message: OnNewMessage, sender_id: str) -> None:
    """Until the browser goes away or the session is over (ended, or idle too long)."""
    while True:
        raw = await ws.recv()
        if raw is None:  # the browser went away
            return
        try:
            frame = json.loads(raw)
            if not isinstance(frame, dict):
                raise BadRequest("a frame must be a JSON object")
            if frame.get("type") == "ack":
                await chat.acknowledge(sender_id, int(frame.get("seq", 0)))
            elif frame.get("type") == "message":
                await chat.handle_message(request, on_new_message, sender_id, frame)
            else:
                raise BadRequest("unknown frame type")
        except Forbidden as exc:  # the session is over
            await _send_frame(ws, type="error", **error_body(exc))
            return
        except (ValueError, TypeError, RecursionError, BadRequest) as exc:
            await _send_frame(ws, type="error", error="bad_frame", reason=str(exc))
        except ChannelError as exc:
            await _send_frame(ws, type="error", **error_body(exc))
