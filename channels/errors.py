"""One error body for every channel: `{"error": code, "reason": text}`, with the HTTP
status that fits, raised as named exceptions and answered by Sanic's blueprint
exception handler (`handle_errors(blueprint)`), not by wrappers around each route."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class ChannelError(Exception):
    """A request a channel refuses; `details` go into the body beside code and reason."""

    status = 400
    code = "bad_request"

    def __init__(self, reason: str, code: str | None = None, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code or self.code
        self.details = details

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ChannelError):
    """Malformed: not JSON, a missing or wrong field."""


class Unauthorized(ChannelError):
    status = 401
    code = "unauthorized"


class Forbidden(ChannelError):
    status = 403
    code = "forbidden"


class NotFound(ChannelError):
    status = 404
    code = "not_found"


class Conflict(ChannelError):
    status = 409
    code = "conflict"


class TooLarge(ChannelError):
    status = 413
    code = "too_large"


class RateLimited(ChannelError):
    """Too many requests; the client may try again after `retry_after` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, reason: str = "too many requests") -> None:
        super().__init__(reason, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(ChannelError):
    status = 503
    code = "unavailable"


def error_body(error: ChannelError) -> dict[str, Any]:
    return {"error": error.code, "reason": error.reason, **error.details}


def error_response(error: ChannelError) -> HTTPResponse:
    return response.json(error_body(error), status=error.status, headers=error.headers())


def handle_errors(blueprint: Blueprint) -> Blueprint:
    """Answer every ChannelError a route of `blueprint` raises with the one error body."""

    @blueprint.exception(ChannelError)
    async def refused(request: Request, error: ChannelError) -> HTTPResponse:
        return error_response(error)

    return blueprint
