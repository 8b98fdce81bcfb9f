"""A loopback SMS gateway that speaks the Messages resource of Twilio's REST API and
records what it gets, and a phone that writes to the bot through the signed webhook.

It stands in for the city's operator, which cannot exist here; the bot talks to it
over real HTTP exactly as it would to api.twilio.com.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from bot.sms.identity import PhoneIdentity
from bot.storage import sms

ACCOUNT_SID = "AC" + "0" * 30 + "42"
AUTH_TOKEN = "loopback-gateway-auth-token"
FROM_NUMBER = "+358401234567"
PSEUDONYM_KEY = "e2e-pseudonym-key"
#: What the webhook answers: empty TwiML (the reply goes out through the REST API).
EMPTY_TWIML_MARK = "<Response></Response>"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


@dataclass
class Received:
    """One POST to the Messages resource, answered (status) or refused."""

    to: str
    sender: str
    body: str
    status: int


@dataclass
class Gateway:
    """The gateway's memory: every request, and failures to play on a number's next ones."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, number: str, count: int, status: int = 500) -> None:
        with self.lock:
            self.failures.setdefault(number, []).extend([status] * count)

    def to(self, number: str) -> list[Received]:
        with self.lock:
            return [request for request in self.requests if request.to == number]

    def delivered(self, number: str) -> list[str]:
        return [request.body for request in self.to(number) if request.status == 201]

    def wait_for(self, number: str, count: int, timeout: float = 90.0) -> list[str]:
        """The bodies delivered to a number, once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = self.delivered(number)
            if len(bodies) >= count:
                return bodies
            time.sleep(0.2)
        raise AssertionError(f"{number} got {self.delivered(number)}, wanted {count} SMS")

    def answer(self, account: str, authorization: str, form: dict[str, str]) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if account != ACCOUNT_SID or authorization != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        to = form.get("To", "")
        with self.lock:
            planned = self.failures.get(to)
            status = planned.pop(0) if planned else 201
            self.requests.append(Received(form.get("To", ""), form.get("From", ""),
                                          form.get("Body", ""), status))
        if status >= 500:
            return status, {"code": 20500, "message": "Internal Server Error", "status": status}
        if status != 201:
            return status, {"code": 21211, "message": "The 'To' number is not a valid phone "
                            "number.", "status": status}
        return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": to,
                     "from": form.get("From"), "body": form.get("Body")}


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            match = _MESSAGES.match(self.path)
            if not match:
                self._reply(404, {"code": 20404, "message": "Not found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
            self._reply(*gateway.answer(match["sid"], self.headers.get("Authorization", ""),
                                        form))

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            """Quiet: pytest shows the test's own output."""

    return Handler


def start_gateway() -> tuple[Gateway, Callable[[], None]]:
    gateway = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    gateway.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return gateway, server.shutdown


def sms_environment(gateway: Gateway, rasa_port: int) -> dict[str, str]:
    """What the operator configures: the webhook's public URL and the gateway account."""
    return {
        "SMS_PUBLIC_URL": webhook_url(rasa_port),
        "TWILIO_API_BASE": gateway.api_base,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "SMS_RETRY_SECONDS": "0.3",
        "HEALTHBOT_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "HEALTHBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }


def webhook_url(rasa_port: int) -> str:
    return f"http://127.0.0.1:{rasa_port}/webhooks/sms/webhook"


@dataclass
class Phone:
    """A resident's phone: each text goes to the webhook as the operator sends it,
    signed with Twilio's own RequestValidator. With the server's database it can also
    wait until the server has done everything a message set off (`settle`)."""

    url: str
    number: str
    database_url: str = ""
    token: str = AUTH_TOKEN
    last_sid: str = ""

    def send(self, text: str, message_sid: str | None = None, num_media: int = 0,
             signature: str | None = None) -> tuple[int, str]:
        """Deliver one SMS to the webhook: (HTTP status, response body)."""
        self.last_sid = message_sid or "SM" + uuid.uuid4().hex
        form = {"From": self.number, "To": FROM_NUMBER, "Body": text,
                "MessageSid": self.last_sid, "NumMedia": str(num_media),
                "AccountSid": ACCOUNT_SID}
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(self.url, form)
        return post_form(self.url, form, {"X-Twilio-Signature": signature} if signature else {})

    def received(self) -> bool:
        """Whether the server stored the last message sent (a refused one it did not)."""
        with self._database().connect() as conn:
            return conn.execute(select(sms.sms_inbound.c.message_sid).where(
                sms.sms_inbound.c.message_sid == self.last_sid)).first() is not None

    def settle(self, timeout: float = 90.0) -> None:
        """Wait until the server has processed the last message sent and every SMS it
        queued for this number has left (sent, or failed for good)."""
        inbound, outbox = sms.sms_inbound.c, sms.sms_outbox.c
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._database().connect() as conn:
                processed = conn.execute(select(inbound.processed_at).where(
                    inbound.message_sid == self.last_sid)).scalar_one_or_none()
                waiting = conn.execute(select(func.count()).where(
                    outbox.pseudonym == pseudonym(self.number),
                    outbox.status.in_(("pending", "sending")))).scalar_one()
            if processed is not None and not waiting:
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.last_sid} not processed and sent in {timeout} s")

    def _database(self) -> Engine:
        assert self.database_url, "this phone does not know the server's database"
        return _engine(self.database_url)


@cache
def _engine(url: str) -> Engine:
    return create_engine(url)


def post_form(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def random_number(prefix: str = "+35840") -> str:
    return prefix + "".join(random.choice("0123456789") for _ in range(7))


def pseudonym(number: str) -> str:
    """The conversation id the server gives a number (the test knows the HMAC key)."""
    return PhoneIdentity(PSEUDONYM_KEY, Fernet.generate_key().decode()).pseudonym(number)


def converse(phone: Phone, gateway: Gateway, text: str) -> list[str]:
    """Send a text and return the SMS it brings back (all of this turn's)."""
    before = len(gateway.delivered(phone.number))
    status, body = phone.send(text)
    assert status == 200 and EMPTY_TWIML_MARK in body
    phone.settle()
    return gateway.delivered(phone.number)[before:]
