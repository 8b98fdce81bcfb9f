"""A bounded, seeded fuzz run against every public endpoint: malformed JSON, wrong
types, huge bodies, invalid UTF-8, wrong methods and content types. Nothing may
answer with a 5xx, and the server must keep answering residents afterwards."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SEED = 20261129
RUNS_PER_ENDPOINT = 40
#: (method, path, body kind): the routes a resident's browser or phone, the SMS operator
#: or a nurse's browser can reach. (Rasa's HTTP API, /model/parse and /conversations, is
#: the local operator's: Rasa's own server answers a malformed body there with a 500.)
ENDPOINTS = [
    ("POST", "/webhooks/rest/webhook", "json"),
    ("POST", "/webhooks/webchat/session", "json"),
    ("POST", "/webhooks/webchat/message", "json"),
    ("GET", "/webhooks/webchat/history", "query"),
    ("GET", "/webhooks/webchat/messages", "query"),
    ("DELETE", "/webhooks/webchat/session", "query"),
    ("POST", "/webhooks/sms/webhook", "form"),
    ("POST", "/webhooks/console/login", "form"),
]
_WEIRD_VALUES = [None, 0, -1, 1e308, True, "", " ", "🚨" * 50, "\u0000", "\ud800x", "a" * 100_000,
                 [], {}, [1, [2, [3]]], {"text": {"text": "x"}}, "<script>alert(1)</script>",
                 "'; DROP TABLE tickets; --", "../../etc/passwd", "%00%ff"]
_KEYS = ["message", "sender", "text", "token", "metadata", "input_channel", "title", "after",
         "From", "Body", "MessageSid", "NumMedia", "email", "password", "csrf_token"]


def _value(rng: random.Random) -> object:
    return rng.choice(_WEIRD_VALUES)


def _json_body(rng: random.Random) -> tuple[bytes, str]:
    kind = rng.randrange(7)
    if kind == 0:
        return b'{"message": "hei", "sender":', "application/json"  # cut short
    if kind == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))), "application/json"
    if kind == 2:
        return b"[" * 5000 + b"]" * 5000, "application/json"  # deep nesting
    if kind == 3:
        return json.dumps(_value(rng)).encode(), "application/json"
    if kind == 4:
        return b'{"message": "\xff\xfe hei"}', "application/json"  # invalid UTF-8 in JSON
    if kind == 5:
        body = {key: _value(rng) for key in rng.sample(_KEYS, rng.randrange(1, 5))}
        # a lone surrogate, unescaped, is invalid UTF-8 on the wire
        return json.dumps(body, ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass"), \
            rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])
    return b"x" * (3 * 1024 * 1024), "application/json"  # 3 MB


def _form_body(rng: random.Random) -> tuple[bytes, str]:
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))), \
            "application/x-www-form-urlencoded"
    if kind == 1:
        pairs = [f"{rng.choice(_KEYS)}={rng.choice(['', '%ff%fe', '%00', 'a' * 5000, '1'])}"
                 for _ in range(rng.randrange(1, 8))]
        return "&".join(pairs).encode(), "application/x-www-form-urlencoded"
    if kind == 2:
        return json.dumps({"Body": "hei"}).encode(), "application/json"
    return b"Body=" + b"a" * (3 * 1024 * 1024), "application/x-www-form-urlencoded"


def _cases(rng: random.Random) -> Iterator[tuple[str, str, dict]]:
    for method, path, kind in ENDPOINTS:
        for _ in range(RUNS_PER_ENDPOINT):
            if rng.random() < 0.15:  # the wrong method
                yield rng.choice(["PUT", "DELETE", "PATCH", "GET", "POST"]), path, {}
                continue
            if kind == "query":  # percent-encoded bytes: may be invalid UTF-8
                query = "&".join(
                    f"{key}={quote(str(_value(rng))[:2000].encode('utf-8', 'surrogatepass'))}"
                    for key in rng.sample(_KEYS, 3))
                yield method, f"{path}?{query}", {}
                continue
            body, content_type = (_json_body if kind == "json" else _form_body)(rng)
            yield method, path, {"data": body, "headers": {"Content-Type": content_type}}


def test_no_endpoint_answers_bad_input_with_a_server_error(server: Server) -> None:
    rng = random.Random(SEED)
    failures = []
    count = 0
    for method, path, options in _cases(rng):
        count += 1
        try:
            reply = requests.request(method, server.url + path, timeout=120, **options)
        except requests.ConnectionError as exc:  # a crash shows as a dropped connection
            failures.append((method, path, repr(options)[:200], f"connection: {exc}"))
            continue
        if reply.status_code >= 500:
            failures.append((method, path, repr(options)[:200], reply.status_code))
    assert count == len(ENDPOINTS) * RUNS_PER_ENDPOINT
    assert failures == []
    # and the server still serves residents, and logs none of their words at INFO
    assert server.chat().texts("Milloinkahan Malmin terveysasema aukeaa?")
    assert "Milloinkahan" not in server.log.read_text(encoding="utf-8", errors="replace")

