"""The web chat channel's routes in process (Sanic's ASGI test client, no model): the
token only in the Authorization header, ending a session, idle expiry, and the rate
limits that a red flag always passes. The socket is driven with a stand-in."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.storage import webchat as store
from bot.storage.db import utcnow
from channels.webchat import MESSAGE_LIMIT, WebchatInput
from channels.webchat_socket import serve as serve_socket
from tests.unit.conftest import settings_for

PREFIX = "/webhooks/webchat"
RED_FLAG = "my father is not breathing"
SESSIONS_PER_WINDOW = 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def answer_ok(message: UserMessage) -> None:
    """Stands for Rasa: every message gets one answer."""
    await message.output_channel.send_text_message(message.sender_id, "ok")


class Client:
    """The channel mounted as Rasa mounts it, called over ASGI."""

    def __init__(self, channel: WebchatInput) -> None:
        self.app = Sanic(f"webchat_{uuid.uuid4().hex[:12]}")
        self.app.blueprint(channel.blueprint(answer_ok), url_prefix=PREFIX)

    def call(self, method: str, path: str, token: str | None = None,
             **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        send = getattr(self.app.asgi_client, method)
        _, response = asyncio.run(send(PREFIX + path, headers=headers, **kwargs))
        return response

    def new_session(self, text: str | None = None) -> str:
        response = self.call("post", "/session", json={"text": text} if text else None)
        assert response.status == 201, response.json
        return response.json["token"]

    def say(self, token: str, text: str) -> Any:
        return self.call("post", "/message", token, json={"text": text})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def channel(engine: Engine, tmp_path: Path, clock: FakeClock) -> WebchatInput:
    settings = replace(settings_for(tmp_path), webchat_session_limit=SESSIONS_PER_WINDOW)
    return WebchatInput(settings=settings, engine=engine, clock=clock)


@pytest.fixture
def client(channel: WebchatInput) -> Client:
    return Client(channel)


def texts(response: Any) -> list[str]:
    return [message["text"] for message in response.json["messages"]]


def test_the_bearer_header_carries_the_session(client: Client) -> None:
    token = client.new_session()
    assert client.say(token, "hei").status == 202
    history = client.call("get", "/history", token)
    assert history.status == 200
    assert history.json["messages"] == [
        {"seq": 1, "author": "resident", "text": "hei"},
        {"seq": 2, "author": "bot", "text": "ok", "lang": None},
    ]
    assert history.headers["cache-control"] == "no-store"
    assert texts(client.call("get", "/messages?after=1", token)) == ["ok"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/history?token={token}", None),
    ("get", "/messages?token={token}&after=0", None),
    ("post", "/message", {"token": "{token}", "text": "hei"}),
    ("delete", "/session?token={token}", None),
])
def test_a_token_in_the_url_or_body_is_refused(client: Client, method: str, path: str,
                                               body: dict[str, str] | None) -> None:
    token = client.new_session()
    options = {"json": {**body, "token": token}} if body else {}
    response = client.call(method, path.format(token=token), **options)
    assert response.status == 400
    assert response.json["error"] == "bad_request"
    assert "Authorization" in response.json["reason"]
    assert texts(client.call("get", "/history", token)) == []  # nothing happened


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer    ", "token-alone"])
def test_a_malformed_authorization_header_is_a_bad_request(client: Client,
                                                           header: str) -> None:
    _, response = asyncio.run(client.app.asgi_client.get(
        f"{PREFIX}/history", headers={"Authorization": header}))
    assert response.status == 400


def test_ending_a_session_deletes_it(client: Client, engine: Engine) -> None:
    token = client.new_session()
    client.say(token, "kurkku on kipeä")
    sender_id = store.sender_for(engine, token, timedelta(hours=1))
    assert sender_id is not None
    ended = client.call("delete", "/session", token)
    assert ended.status == 204 and not ended.body
    assert store.messages_after(engine, sender_id) == []
    for method, path in (("get", "/history"), ("get", "/messages?after=0"),
                         ("delete", "/session")):
        assert client.call(method, path, token).json == {"error": "unknown_session"}
    assert client.say(token, "hei").status == 403
    assert client.call("delete", "/session", "forged-token").status == 403


def test_refusals_have_one_body_and_the_channels_headers(client: Client) -> None:
    token = client.new_session()
    refusals = [
        (client.say(token, "x" * 2001), 413, {"error": "message_too_long", "max_chars": 2000}),
        (client.call("post", "/message", token, data=b"{not json"), 400,
         {"error": "bad_request", "reason": "the body is not JSON"}),
        (client.call("get", "/messages?after=x", token), 400,
         {"error": "bad_request", "reason": "after must be a number"}),
    ]
    for refused, status, body in refusals:
        assert (refused.status, refused.json) == (status, body)
        assert refused.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'self'" in refused.headers["content-security-policy"]
    assert texts(client.call("get", "/history", token)) == []


def test_an_idle_session_is_over(client: Client, engine: Engine) -> None:
    token = client.new_session()
    client.say(token, "hei")
    yesterday = utcnow() - timedelta(hours=24, minutes=1)
    with engine.begin() as conn:
        conn.execute(update(store.webchat_sessions).values(last_active_at=yesterday))
    assert client.call("get", "/history", token).status == 403
    with engine.connect() as conn:
        assert conn.execute(store.webchat_sessions.select()).all() == []
        assert conn.execute(store.webchat_messages.select()).all() == []


def test_messages_past_the_limit_get_429_but_a_red_flag_goes_through(
        client: Client, clock: FakeClock) -> None:
    token = client.new_session()
    for number in range(MESSAGE_LIMIT.burst):
        assert client.say(token, f"viesti {number}").status == 202
    refused = client.say(token, "vielä yksi")
    assert refused.status == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json == {"error": "rate_limited", "retry_after": 2}
    assert client.say(token, RED_FLAG).status == 202
    assert client.say(token, "isä ei hengitä").status == 202
    shown = texts(client.call("get", "/history", token))
    assert "vielä yksi" not in shown
    assert shown[-4:] == [RED_FLAG, "ok", "isä ei hengitä", "ok"]
    clock.now += 2  # one more message has been earned
    assert client.say(token, "nyt taas").status == 202
    assert client.say(token, "ja taas").status == 429


def test_sessions_are_limited_per_client_address(client: Client, clock: FakeClock) -> None:
    for _ in range(SESSIONS_PER_WINDOW):
        client.new_session()
    refused = client.call("post", "/session")
    assert refused.status == 429
    assert refused.headers["retry-after"] == str(600 // SESSIONS_PER_WINDOW)
    assert client.call("post", "/session", json={"text": "hei"}).status == 429
    token = client.new_session(text="isä ei hengitä")  # a red flag gets its session
    assert client.say(token, "isä ei hengitä").status == 202
    clock.now += 600 / SESSIONS_PER_WINDOW
    client.new_session()


def test_messages_are_limited_per_session(client: Client) -> None:
    first, second = client.new_session(), client.new_session()
    for _ in range(MESSAGE_LIMIT.burst):
        client.say(first, "hei")
    assert client.say(first, "hei").status == 429
    assert client.say(second, "hei").status == 202


Frame = dict[str, Any] | Callable[[], None] | None


class FakeSocket:
    """A browser's socket: frames go in order; a callable in the list runs when the
    server reads that far (the world changes between two frames); None hangs up."""

    def __init__(self, *frames: Frame) -> None:
        self._frames = list(frames)
        self.sent: list[dict[str, Any]] = []

    async def recv(self) -> str | None:
        frame = self._frames.pop(0)
        while callable(frame):
            frame()
            frame = self._frames.pop(0)
        return None if frame is None else json.dumps(frame)

    async def send(self, data: str) -> None:
        self.sent.append(json.loads(data))

    def errors(self) -> list[dict[str, Any]]:
        return [frame for frame in self.sent if frame["type"] == "error"]


def serve(channel: WebchatInput, ws: FakeSocket) -> None:
    request = SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace()))
    asyncio.run(serve_socket(channel, request, ws, answer_ok))  # type: ignore[arg-type]


def test_socket_messages_past_the_limit_get_an_error_frame(channel: WebchatInput,
                                                           engine: Engine) -> None:
    token, sender_id = store.create_session(engine)
    ordinary = [{"type": "message", "text": f"hei {n}"} for n in range(MESSAGE_LIMIT.burst + 1)]
    ws = FakeSocket({"token": token, "after": 0}, *ordinary,
                    {"type": "message", "text": RED_FLAG}, None)
    serve(channel, ws)
    assert ws.errors() == [{"type": "error", "error": "rate_limited", "retry_after": 2}]
    stored = [m.payload["text"] for m in store.messages_after(engine, sender_id)
              if m.author == "resident"]
    assert stored == [f"hei {n}" for n in range(MESSAGE_LIMIT.burst)] + [RED_FLAG]


def test_a_socket_of_an_ended_session_is_told_and_closed(channel: WebchatInput,
                                                         engine: Engine) -> None:
    token, sender_id = store.create_session(engine)
    ws = FakeSocket({"token": token, "after": 0},
                    lambda: store.end_session(engine, sender_id),
                    {"type": "message", "text": "hei"}, {"type": "message", "text": "never read"})
    serve(channel, ws)
    assert ws.errors() == [{"type": "error", "error": "unknown_session"}]
    assert store.messages_after(engine, sender_id) == []
    refused = FakeSocket({"token": token, "after": 0})
    serve(channel, refused)
    assert refused.sent == [{"type": "error", "error": "unknown_session"}]


def test_a_socket_refuses_a_bad_frame_and_a_long_message_and_goes_on(
        channel: WebchatInput, engine: Engine) -> None:
    token, sender_id = store.create_session(engine)
    ws = FakeSocket({"token": token, "after": 0}, {"type": "shout"},
                    {"type": "message", "text": "x" * 2001},
                    {"type": "message", "text": "hei"}, None)
    serve(channel, ws)
    assert ws.errors() == [
        {"type": "error", "error": "bad_frame", "reason": "unknown frame type"},
        {"type": "error", "error": "message_too_long", "max_chars": 2000}]
    assert [m.payload["text"] for m in store.messages_after(engine, sender_id)] == ["hei", "ok"]
