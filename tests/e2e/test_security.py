"""The running system tried as an attacker on the same host would, with nothing but
HTTP: Rasa's API and the action server answer only the project, files under var/ are
private, an ended or idle web chat session opens nothing, and a captured SMS webhook
cannot be replayed, not even after the purge. (The console's sign-in and audit:
test_console_security.py; the widget's side of web chat: test_webchat_security.py.)"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from bot.storage import sms as store
from bot.storage import webchat
from bot.storage.db import utcnow
from bot.storage.retention import purge
from tests.e2e.browser import webchat_call
from tests.e2e.conftest import API_TOKEN, Server, http_json
from tests.e2e.gateway import (
    EMPTY_TWIML_MARK,
    Gateway,
    Phone,
    pseudonym,
    random_number,
    webhook_url,
)

pytestmark = pytest.mark.e2e

def status_of(url: str, method: str = "GET", body: bytes | None = None,
              headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


FAKE_NURSE = json.dumps([{"event": "bot", "text": "Nurse here: send me your card number",
                          "metadata": {"author": "nurse"}}]).encode()


@pytest.mark.parametrize(("method", "path", "body", "headers"), [
    ("GET", "/conversations/{sender}/tracker", None, {}),
    ("POST", "/conversations/{sender}/tracker/events", FAKE_NURSE,
     {"Content-Type": "application/json"}),
    # what a foreign web page can send without a CORS preflight
    ("POST", "/conversations/{sender}/tracker/events", FAKE_NURSE,
     {"Content-Type": "text/plain", "Origin": "https://evil.example"}),
    ("PUT", "/model", b'{"model_file": "/tmp/x.tar.gz"}', {"Content-Type": "application/json"}),
    ("POST", "/model/train", b"{}", {"Content-Type": "application/json"}),
    ("GET", "/domain", None, {}),
    ("POST", "/model/parse", b'{"text": "hei"}', {"Content-Type": "application/json"}),
    ("GET", "/status", None, {}),
    ("GET", "/version", None, {}),
    ("GET", "/", None, {}),
])
def test_rasas_api_refuses_every_request_without_the_token(
        server: Server, method: str, path: str, body: bytes | None,
        headers: dict[str, str]) -> None:
    chat = server.chat()
    chat.send("hei")
    url = server.url + path.format(sender=chat.sender)
    for suffix in ("", "?token=", "?token=guess"):
        assert status_of(url + suffix, method, body, headers) in (401, 403), suffix
    bots = [e["text"] for e in chat.tracker()["events"] if e["event"] == "bot"]
    assert "Nurse here: send me your card number" not in bots


def test_with_the_operators_token_the_tracker_and_parse_answer(server: Server) -> None:
    chat = server.chat()
    chat.send("Milloin Malmin terveysasema on auki?")
    tracker = http_json(server.api(f"/conversations/{chat.sender}/tracker"))
    assert tracker["sender_id"] == chat.sender
    parsed = http_json(server.api("/model/parse"), {"text": "kiitos paljon"})
    assert parsed["language"]["code"] == "fi"


def test_the_api_token_is_in_no_process_list(server: Server) -> None:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert API_TOKEN.encode() not in cmdline.read_bytes(), cmdline
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # a process that ended meanwhile


def _listening(port: int) -> list[str]:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()]


def test_the_action_server_listens_on_loopback_and_answers_only_rasa(server: Server) -> None:
    assert _listening(server.action_port) == ["127.0.0.1"]
    base = f"http://127.0.0.1:{server.action_port}"
    forged = json.dumps({"next_action": "action_handoff_relay", "sender_id": "victim",
                         "version": "3.6.21",
                         "tracker": {"sender_id": "victim", "slots": {"handoff_ticket": 1},
                                     "latest_message": {"text": "forged"}, "events": []},
                         "domain": {}}).encode()
    for headers in ({}, {"Authorization": "Bearer guess"}):
        assert status_of(f"{base}/webhook", "POST", forged,
                         {"Content-Type": "application/json", **headers}) == 401
        assert status_of(f"{base}/actions", headers=headers) == 401
    assert status_of(f"{base}/health") == 200
    assert server.chat().texts("Milloin Malmin terveysasema on auki?")  # Rasa still gets in


def test_nothing_under_var_is_readable_by_others_and_endpoints_hold_no_secret(
        server: Server) -> None:
    var = server.var_dir
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    files = [path for path in var.rglob("*") if not path.is_symlink()]
    assert any(path.name == "healthbot.db" for path in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    secrets = dict(line.split("=", 1) for line in (var / "secrets.env").read_text().splitlines())
    endpoints = (var / "endpoints.yml").read_text()
    assert secrets["HEALTHBOT_ACTION_TOKEN"] not in endpoints
    assert "${HEALTHBOT_ACTION_TOKEN}" in endpoints


def test_a_webhook_replayed_after_the_purge_is_not_processed_again(
        server: Server, gateway: Gateway) -> None:
    resident = Phone(webhook_url(server.rasa_port), random_number(), server.database_url)
    message_sid = "SM" + os.urandom(16).hex()
    status, body = resident.send("Milloin Malmin terveysasema on auki?", message_sid=message_sid)
    assert status == 200 and EMPTY_TWIML_MARK in body
    resident.settle()
    assert len(gateway.delivered(resident.number)) == 1
    database = create_engine(server.database_url)
    long_ago = utcnow() - timedelta(days=400)
    with database.begin() as conn:  # this message and this number are from long ago
        conn.execute(update(store.sms_inbound).where(
            store.sms_inbound.c.message_sid == message_sid).values(received_at=long_ago))
        conn.execute(update(store.sms_numbers).where(
            store.sms_numbers.c.pseudonym == pseudonym(resident.number)).values(
            updated_at=long_ago))
    assert purge(database, timedelta(days=30))["sms_inbound"] >= 1
    user_turns = _user_turns(server, resident.number)

    status, body = resident.send("Milloin Malmin terveysasema on auki?", message_sid=message_sid)
    assert status == 200 and EMPTY_TWIML_MARK in body  # the gateway need not retry
    assert not resident.received()  # not stored again: nothing can follow
    assert len(gateway.delivered(resident.number)) == 1
    assert _user_turns(server, resident.number) == user_turns
    with database.connect() as conn:
        assert conn.execute(select(store.sms_inbound).where(
            store.sms_inbound.c.message_sid == message_sid)).first() is None
        assert conn.execute(select(store.sms_numbers).where(
            store.sms_numbers.c.pseudonym == pseudonym(resident.number))).first() is None
    database.dispose()


def _user_turns(server: Server, number: str) -> int:
    tracker = http_json(server.api(f"/conversations/{pseudonym(number)}/tracker"))
    return sum(1 for event in tracker["events"] if event["event"] == "user")


def _webchat_session(server: Server) -> tuple[str, str]:
    """A web chat session with one exchange: (token, the conversation's sender id)."""
    status, created = webchat_call(server, "POST", "/session", b"{}")
    assert status == 201
    token = created["token"]
    status, _ = webchat_call(server, "POST", "/message", json.dumps({"text": "hei"}).encode(),
                             token=token)
    assert status == 202
    status, history = webchat_call(server, "GET", "/history", token=token)
    assert status == 200 and [m["author"] for m in history["messages"]][:1] == ["resident"]
    sender_id = webchat.sender_for(create_engine(server.database_url), token,
                                   timedelta(hours=24))
    assert sender_id is not None
    return token, sender_id


def _webchat_gone(server: Server, token: str, sender_id: str) -> None:
    """The token opens nothing any more, and nothing of the conversation is stored."""
    for method, path, body in (("GET", "/history", None), ("GET", "/messages?after=0", None),
                               ("POST", "/message", json.dumps({"text": "hei"}).encode()),
                               ("DELETE", "/session", None)):
        status, refused = webchat_call(server, method, path, body, token=token)
        assert (status, refused["error"]) == (403, "unknown_session"), path
    with create_engine(server.database_url).connect() as conn:
        for table in (webchat.webchat_sessions, webchat.webchat_messages):
            assert conn.execute(select(table).where(
                table.c.sender_id == sender_id)).first() is None


def test_an_ended_web_chat_session_is_deleted(server: Server) -> None:
    token, sender_id = _webchat_session(server)
    assert webchat_call(server, "DELETE", "/session", token=token) == (204, None)
    _webchat_gone(server, token, sender_id)


def test_an_idle_web_chat_session_expires(server: Server) -> None:
    token, sender_id = _webchat_session(server)
    database = create_engine(server.database_url)
    with database.begin() as conn:  # the resident left it 25 hours ago (WEBCHAT_IDLE_HOURS 24)
        conn.execute(update(webchat.webchat_sessions).where(
            webchat.webchat_sessions.c.sender_id == sender_id).values(
            last_active_at=utcnow() - timedelta(hours=25)))
    _webchat_gone(server, token, sender_id)
