"""The operator's endpoints, under `/webhooks/ops/`: Prometheus metrics.

Not for residents: only addresses in `OPS_ALLOW` (default loopback) get an answer,
so a reverse proxy that forwards `/webhooks/` does not publish them by mistake.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import StoreBacked


class OpsChannel(StoreBacked, InputChannel):
    """Metrics for Prometheus (the registry of this server process)."""

    @classmethod
    def name(cls) -> str:
        return "ops"

    def _allowed(self, request: Request) -> bool:
        try:
            address = ipaddress.ip_address(request.ip)
        except ValueError:
            return False
        return any(address in network for network in self.settings.ops_allow)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = Blueprint("ops", __name__)

        @ops.route("/metrics", methods=["GET"])
        async def metrics(request: Request) -> HTTPResponse:
            if not self._allowed(request):
                return response.text("forbidden\n", status=403)
            return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

        return ops
