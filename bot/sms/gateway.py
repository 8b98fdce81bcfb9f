"""The Messages resource of Twilio's REST API, which SMS gateways copy: one POST per
SMS, and an error that says whether trying again can help."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

import aiohttp

from bot.settings import Settings

#: A gateway that has not answered by then may still send: the retry decides.
GATEWAY_TIMEOUT = aiohttp.ClientTimeout(total=15)


class GatewayError(Exception):
    """The gateway did not take the message; `retry` when the fault may pass (5xx,
    429, a timeout), not when the message itself was refused (a wrong number)."""

    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


class Gateway(Protocol):
    """What the outbox needs of a gateway (a stand-in in tests)."""

    async def send(self, to: str, body: str) -> str:
        """Post one message; its provider id, or GatewayError."""


class TwilioClient:
    """Twilio's Messages API at TWILIO_API_BASE, with the account's basic auth."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._url = (f"{settings.twilio_api_base}/2010-04-01/Accounts/"
                     f"{settings.twilio_account_sid}/Messages.json")
        self._auth = aiohttp.BasicAuth(settings.twilio_account_sid, settings.twilio_auth_token)
        self._from = settings.twilio_from_number
        self._session = session

    async def send(self, to: str, body: str) -> str:
        """Post one message; its provider id, or GatewayError saying whether to retry."""
        form = {"To": to, "From": self._from, "Body": body}
        try:
            async with self._session.post(self._url, data=form, auth=self._auth) as reply:
                text = await reply.text()
                if 200 <= reply.status < 300:
                    return str(_json_or_empty(text).get("sid") or "")
                details = _json_or_empty(text)
                reason = f"HTTP {reply.status} code {details.get('code')}: {details.get('message')}"
                raise GatewayError(reason, retry=reply.status == 429 or reply.status >= 500)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}", retry=True) from exc


def _json_or_empty(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # the gateway's error body is only a courtesy
        return {}
    return value if isinstance(value, dict) else {}
