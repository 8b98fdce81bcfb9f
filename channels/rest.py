"""Rasa's REST channel (`POST /webhooks/rest/webhook`), refusing what it would crash on.

Rasa's own channel reads `request.json.get(...)` and answers a JSON array, a number
or `{"message": []}` with a 500; here such a body gets a 400 that says what is wrong,
and a good body goes to Rasa's channel unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import rest
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

#: Longer messages are refused (the web chat and SMS limits are far lower).
MAX_MESSAGE_CHARS = 5000
_OPTIONAL_TEXT = ("sender", "input_channel")


def problem(request: Request) -> str | None:
    """What is wrong with a webhook body, or None."""
    try:
        body = request.json
    except InvalidUsage:
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    message = body.get("message")
    if not isinstance(message, str):
        return "message must be a string"
    if len(message) > MAX_MESSAGE_CHARS:
        return f"message has more than {MAX_MESSAGE_CHARS} characters"
    for key in _OPTIONAL_TEXT:
        if key in body and not isinstance(body[key], str):
            return f"{key} must be a string"
    if "metadata" in body and not isinstance(body["metadata"], dict):
        return "metadata must be an object"
    return None


class RestInput(rest.RestInput):
    """The same channel name, route and answers as Rasa's; bad bodies get a 400."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            reason = problem(request)
            return response.json({"error": reason}, status=400) if reason else None

        return blueprint
