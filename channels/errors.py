"""One error body for every channel: `{"error": code, "reason": text}`, with the HTTP
status that fits, raised as named exceptions and answered by Sanic's blueprint
exception handler (`handle_errors(blueprint)`), not by wrappers around each route.

The reason is left out where the code says it all and clients read only the code
(the web chat's `unknown_session`, `message_too_long`, `rate_limited`); details such
as `retry_after` or `max_chars` go beside the code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import ratelimit

Finish = Callable[[HTTPResponse], HTTPResponse]


def _unchanged(resp: HTTPResponse) -> HTTPResponse:
    return resp


class ChannelError(Exception):
    """A request a channel refuses; `details` go into the body beside code and reason."""

    status = 400
    code = "bad_request"

    def __init__(self, reason: str = "", code: str | None = None, **details: Any) -> None:
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

    def __init__(self, retry_after: int, reason: str = "") -> None:
        super().__init__(reason, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(ChannelError):
    status = 503
    code = "unavailable"


def check_limit(limiter: ratelimit.RateLimiter, key: str,
                exempt: Callable[[], bool] = lambda: False) -> None:
    """`limiter.check`, refusing with RateLimited (429 and Retry-After) past the limit."""
    try:
        limiter.check(key, exempt)
    except ratelimit.RateLimited as exc:
        raise RateLimited(exc.retry_after) from exc


def error_body(error: ChannelError) -> dict[str, Any]:
    """Also a websocket's error frame, so a socket and HTTP refuse alike."""
    reason = {"reason": error.reason} if error.reason else {}
    return {"error": error.code, **reason, **error.details}


def error_response(error: ChannelError, finish: Finish = _unchanged) -> HTTPResponse:
    """The answer to `error`; `finish` adds the channel's own headers."""
    return finish(response.json(error_body(error), status=error.status,
                                headers=error.headers()))


def handle_errors(blueprint: Blueprint, finish: Finish = _unchanged) -> Blueprint:
    """Answer every ChannelError a route of `blueprint` raises with the one error body.
    Sanic applies a blueprint's handler to that blueprint's routes only, so channels
    mounted side by side (each with its own `finish`) do not answer for each other."""

    @blueprint.exception(ChannelError)
    async def refused(request: Request, error: ChannelError) -> HTTPResponse:
        return error_response(error, finish)

    return blueprint
