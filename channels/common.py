"""What every channel of ours needs: the app's database, kept off the event loop, and
the conversation's language as the dialogue left it."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.dialogue.names import LANGUAGE_SLOT
from bot.settings import Settings, load_settings
from bot.storage.db import in_thread, make_engine

STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".html": "text/html; charset=utf-8"}


def secure(resp: HTTPResponse, policy: str, cache: str | None = None) -> HTTPResponse:
    """The headers every page and answer of ours carries: its Content-Security-Policy,
    no MIME sniffing, no referrer, and the caching it allows."""
    resp.headers["Content-Security-Policy"] = policy
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    if cache:
        resp.headers["Cache-Control"] = cache
    return resp


Networks = Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]


def _in_networks(address: str | None, networks: Networks) -> bool:
    """Whether `address` is an IP address in one of `networks` (anything else is not)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: Networks) -> str:
    """The address of the client behind a request: the peer's, unless the peer is a
    trusted proxy, in which case the nearest untrusted address in `X-Forwarded-For`
    (read from the right, so a client cannot choose the address it is counted under)."""
    networks = tuple(trusted_proxies)
    peer = request.ip or "unknown"
    if not _in_networks(peer, networks):
        return peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in_networks(hop, networks):
            return hop
    return hops[0] if hops else peer


def ops_allowed(request: Request, settings: Settings) -> bool:
    """Whether the peer (never a forwarded address) is in `OPS_ALLOW`."""
    return _in_networks(request.ip, settings.ops_allow)


def static_handler(path: Path, finish: Callable[[HTTPResponse], HTTPResponse]
                   ) -> Callable[[Request], Awaitable[HTTPResponse]]:
    """A route serving one file, read once; `finish` adds the channel's headers."""
    body = path.read_text(encoding="utf-8")

    async def serve(request: Request) -> HTTPResponse:
        return finish(response.text(body, content_type=STATIC_TYPES[path.suffix]))

    return serve


class WholeMessages(CollectingOutputChannel):
    """Collects a turn's messages whole: with their buttons, the response's name and the
    language of its text (`lang`, bot/translation/nlg.py), which Rasa's own collector
    drops."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))


class StoreBacked:
    """A channel with the app's tables; settings and engine come from the environment
    unless a test passes its own."""

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self._settings = settings
        self._engine = engine

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    async def _db(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """SQLAlchemy is synchronous: keep it off the event loop."""
        return await in_thread(self.engine, function, *args, **kwargs)


async def conversation_language(app: Sanic, sender_id: str) -> str | None:
    """The `language` slot of a conversation, read from Rasa's tracker store."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    return tracker.get_slot(LANGUAGE_SLOT) if tracker else None
