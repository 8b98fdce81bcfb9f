"""The operator's endpoints, under `/webhooks/ops/`:

    GET /health    liveness: the process answers
    GET /ready     readiness: database, action server and model (503 until all are up)
    GET /metrics   Prometheus metrics (bot/metrics.py)

Not for residents: only peer addresses in `OPS_ALLOW` (default loopback) get an
answer. Forwarded headers are not trusted, so a reverse proxy on the same host
reaches them as 127.0.0.1: such a proxy must not forward `/webhooks/ops/`.

The channel also does two things for the whole server: it times every request
(`healthbot_request_seconds`), and it refuses every route outside `/webhooks/` (Rasa's
HTTP API, including `/` and `/version`, which Rasa leaves open) without the operator's
`?token=` (`RASA_API_TOKEN`), compared in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.logs import adopt
from bot.metrics import REQUEST_SECONDS, StoreCollector, exposition
from channels.common import StoreBacked, ops_allowed

READY_TIMEOUT = 3.0
_STARTED = "healthbot_started"


CHANNEL_PREFIX = "/webhooks/"


class _AppWideBlueprint(Blueprint):
    """Registers, with its routes, middleware on the whole app (Sanic applies blueprint
    middleware to the blueprint's own routes only), once the app exists."""

    def __init__(self, name: str, api_token: str) -> None:
        super().__init__(name)
        self.ctx.api_token = api_token

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        app.register_middleware(_start_clock, "request")
        app.register_middleware(self._api_guard, "request")
        app.register_middleware(_observe, "response")
        adopt("sanic.root", "sanic.error", "sanic.access")  # their lines become JSON too

    async def _api_guard(self, request: Request) -> HTTPResponse | None:
        """Rasa's own routes answer only with the token (Rasa checks it again)."""
        if request.path.startswith(CHANNEL_PREFIX):
            return None
        sent = request.args.get("token") or ""
        token = self.ctx.api_token
        if token and hmac.compare_digest(sent.encode(), token.encode()):
            return None
        return response.json({"error": "unauthorized",
                              "reason": "Rasa's HTTP API needs ?token= (healthbot api-token)"},
                             status=401)


async def _start_clock(request: Request) -> None:
    setattr(request.ctx, _STARTED, time.perf_counter())


async def _observe(request: Request, resp: HTTPResponse) -> None:
    started = getattr(request.ctx, _STARTED, None)
    if started is None or request.route is None:
        return
    parts = request.route.path.strip("/").split("/")
    channel = parts[1] if parts[0] == "webhooks" and len(parts) > 1 else "api"
    REQUEST_SECONDS.labels(channel=channel, route="/" + request.route.path).observe(
        time.perf_counter() - started)


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


class OpsChannel(StoreBacked, InputChannel):
    """Health, readiness and metrics of this server process."""

    @classmethod
    def name(cls) -> str:
        return "ops"

    async def _checks(self, app: Sanic) -> dict[str, str]:
        checks = {"model": "ok" if app.ctx.agent and app.ctx.agent.is_ready()
                  else "not loaded"}
        try:
            await asyncio.wait_for(self._db(_ping), READY_TIMEOUT)
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready", with its reason
            checks["database"] = f"error: {type(exc).__name__}"
        health = self.settings.action_url.rsplit("/", 1)[0] + "/health"
        try:
            timeout = aiohttp.ClientTimeout(total=READY_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.get(health) as reply:
                checks["action_server"] = "ok" if reply.status == 200 else f"HTTP {reply.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            checks["action_server"] = f"error: {type(exc).__name__}"
        return checks

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = _AppWideBlueprint("ops", self.settings.rasa_api_token
                                if self.settings.rasa_api_enabled else "")

        @ops.middleware("request")
        async def only_operators(request: Request) -> HTTPResponse | None:
            if not ops_allowed(request, self.settings):
                return response.text("forbidden\n", status=403)
            return None

        @ops.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ops.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            checks = await self._checks(request.app)
            ok = all(value == "ok" for value in checks.values())
            return response.json({"ready": ok, "checks": checks}, status=200 if ok else 503)

        @ops.route("/metrics", methods=["GET"])
        async def metrics(request: Request) -> HTTPResponse:
            store = StoreCollector(self.engine, self.settings.now)
            body = await asyncio.to_thread(exposition, store)
            return response.raw(body, content_type=CONTENT_TYPE_LATEST)

        return ops
