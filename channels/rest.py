"""Rasa's REST channel (`POST /webhooks/rest/webhook`), refusing what it would crash on.

Rasa's own channel reads `request.json.get(...)` and answers a JSON array, a number
or `{"message": []}` with a 500; here such a body gets a 400 with the one error body
of our channels (`{"error": "bad_request", "reason": ...}`, channels/errors.py) that
says what is wrong, and a good body goes to Rasa's channel unchanged. Its message is
machine-translated first, off the event loop, as the web chat and SMS do: Rasa's NLU
runs on the loop and then finds the translation cached (README: Machine translation).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import rest
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.translation.component import pretranslate
from channels.errors import BadRequest, handle_errors

#: Longer messages are refused (the web chat and SMS limits are far lower).
MAX_MESSAGE_CHARS = 5000
_OPTIONAL_TEXT = ("sender", "input_channel")


def checked_message(request: Request) -> str:
    """The webhook body's message; BadRequest says what is wrong with the body."""
    try:
        body = request.json
    except InvalidUsage as exc:
        raise BadRequest("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    message = body.get("message")
    if not isinstance(message, str):
        raise BadRequest("message must be a string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadRequest(f"message has more than {MAX_MESSAGE_CHARS} characters")
    for key in _OPTIONAL_TEXT:
        if key in body and not isinstance(body[key], str):
            raise BadRequest(f"{key} must be a string")
    if "metadata" in body and not isinstance(body["metadata"], dict):
        raise BadRequest("metadata must be an object")
    return message


class RestInput(rest.RestInput):
    """The same channel name, route and answers as Rasa's; bad bodies get a 400."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = handle_errors(super().blueprint(on_new_message))

        @blueprint.middleware("request")
        async def check(request: Request) -> None:
            if request.method == "POST":
                await pretranslate(checked_message(request))

        return blueprint
