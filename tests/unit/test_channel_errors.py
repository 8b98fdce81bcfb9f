"""One error body for every channel (channels/errors.py), answered by Sanic's blueprint
exception handler: tested in process on the REST channel (which also translates a
message before Rasa reads it) and on a blueprint of its own."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import rest
from channels.errors import BadRequest, RateLimited, handle_errors

WEBHOOK = "/webhooks/rest/webhook"


def _app() -> Sanic:
    return Sanic(f"errors_{uuid.uuid4().hex[:12]}")


def _call(app: Sanic, method: str, path: str, **kwargs: Any) -> Any:
    _, reply = asyncio.run(getattr(app.asgi_client, method)(path, **kwargs))
    return reply


async def answer_ok(message: UserMessage) -> None:
    """Stands for Rasa: every message gets one answer."""
    await message.output_channel.send_text_message(message.sender_id, "ok")


@pytest.fixture
def rest_app() -> Sanic:
    app = _app()
    app.blueprint(rest.RestInput().blueprint(answer_ok), url_prefix="/webhooks/rest")
    return app


@pytest.mark.parametrize(("body", "reason"), [
    (b"[]", "the body must be a JSON object"),
    (b'{"sender": "x", "message": 5}', "message must be a string"),
    (b'{"sender": 5, "message": "hei"}', "sender must be a string"),
    (b'{"message": "hei", "metadata": []}', "metadata must be an object"),
    (b'{"message": "' + b"a" * 6000 + b'"}', "message has more than 5000 characters"),
    (b"{", "the body is not JSON"),
])
def test_the_rest_webhook_refuses_a_bad_body_with_the_one_error_body(
        rest_app: Sanic, body: bytes, reason: str) -> None:
    refused = _call(rest_app, "post", WEBHOOK, content=body,
                    headers={"Content-Type": "application/json"})
    assert (refused.status, refused.json) == (400, {"error": "bad_request", "reason": reason})


def test_a_good_rest_body_reaches_rasas_channel(rest_app: Sanic) -> None:
    answered = _call(rest_app, "post", WEBHOOK, json={"sender": "a", "message": "hei"})
    assert answered.status == 200
    assert answered.json == [{"recipient_id": "a", "text": "ok"}]
    assert _call(rest_app, "get", "/webhooks/rest/").status == 200


def test_a_rest_message_is_translated_off_the_loop_before_rasa_reads_it(
        rest_app: Sanic, monkeypatch: pytest.MonkeyPatch) -> None:
    happened: list[tuple[str, str]] = []

    async def pretranslate(text: str) -> None:
        happened.append(("pretranslate", text))

    async def rasa(message: UserMessage) -> None:
        happened.append(("rasa", message.text))

    monkeypatch.setattr(rest, "pretranslate", pretranslate)
    app = _app()
    app.blueprint(rest.RestInput().blueprint(rasa), url_prefix="/webhooks/rest")
    assert _call(app, "post", WEBHOOK, json={"message": "Где поликлиника?"}).status == 200
    assert _call(app, "post", WEBHOOK, content=b"[]").status == 400
    assert happened == [("pretranslate", "Где поликлиника?"), ("rasa", "Где поликлиника?")]


def test_a_blueprints_handler_answers_for_its_own_routes_only() -> None:
    def refusing(name: str) -> Blueprint:
        blueprint = Blueprint(name, url_prefix=f"/{name}")

        @blueprint.get("/")
        async def refuse(request: Request) -> HTTPResponse:
            raise RateLimited(7)

        return blueprint

    def marked(resp: HTTPResponse) -> HTTPResponse:
        resp.headers["X-Channel"] = "handled"
        return resp

    app = _app()
    app.blueprint(handle_errors(refusing("handled"), marked))
    app.blueprint(refusing("bare"))

    @app.get("/app")
    async def app_route(request: Request) -> HTTPResponse:
        raise BadRequest("not ours")

    handled = _call(app, "get", "/handled/")
    assert (handled.status, handled.json) == (429, {"error": "rate_limited", "retry_after": 7})
    assert handled.headers["retry-after"] == "7"
    assert handled.headers["x-channel"] == "handled"
    for path in ("/bare/", "/app"):
        assert _call(app, "get", path).status == 500, path

