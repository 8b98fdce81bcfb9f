"""Scale-out and crash safety on the production pieces: two `healthbot run` instances
on one PostgreSQL database and one Redis lock store (one of them with two Sanic
workers) serve the same conversations; a Rasa server killed with SIGKILL in the
middle of a triage form comes back where it was, and nothing queued is lost."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy
from cryptography.fernet import Fernet

from bot.triage.guidance import default_guidance
from tests.e2e.conftest import Chat, Server, free_port, start_server
from tests.e2e.gateway import Gateway, Phone, random_number, sms_environment, webhook_url

pytestmark = pytest.mark.e2e

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/7"
FEVER = default_guidance()["fever_adult"]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own on the real PostgreSQL, dropped afterwards."""
    name = f"hb_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    url = sqlalchemy.engine.make_url(POSTGRES).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="module")
def instances(model: Path, gateway: Gateway, database: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    shared = {"DATABASE_URL": database, "REDIS_URL": REDIS_URL,
              "HEALTHBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
              "HEALTHBOT_SESSION_KEY": "shared-console-key"}
    started = []
    try:
        for workers, level in (("2", "DEBUG"), ("1", "INFO")):
            ports = (free_port(), free_port())
            env = {**sms_environment(gateway, ports[0]), **shared, "SANIC_WORKERS": workers,
                   "LOG_LEVEL": level}
            started.append(start_server(tmp_path_factory.mktemp(f"instance{len(started)}"),
                                        model, ports=ports, extra_env=env))
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def turns(tracker: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The events, cut at each user message."""
    cut: list[list[dict[str, Any]]] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            cut.append([])
        if cut:
            cut[-1].append(event)
    return cut


def test_two_instances_serve_one_conversation_and_its_tracker_stays_whole(
        instances: tuple[Server, Server]) -> None:
    a, b = instances
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    said = ["Hei", "Milloin Malmin terveysasema on auki?", "Kiitos",
            "Missä on Kallion terveysasema?", "Hej, när har Malms hälsostation öppet?"]
    for index, text in enumerate(said):
        replies = Chat(a if index % 2 == 0 else b, sender).send(text)
        assert replies, f"no answer to {text!r}"
    # two messages of one conversation at the same moment, one to each instance
    together = ["Milloin Vuosaaren terveysasema on auki?", "Onko Malmin terveysasema auki?"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda pair: Chat(pair[0], sender).send(pair[1]),
                                zip((a, b), together, strict=True)))
    assert all(answers)
    tracker = Chat(a, sender).tracker()
    assert Chat(b, sender).tracker()["events"] == tracker["events"]
    cut = turns(tracker)
    texts = [turn[0]["text"] for turn in cut]
    assert texts[:len(said)] == said and sorted(texts[len(said):]) == sorted(together)
    for turn in cut:  # every turn answered and finished before the next began
        assert any(event["event"] == "bot" for event in turn), turn[0]["text"]
        assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen"
    stamps = [event["timestamp"] for event in tracker["events"]]
    assert stamps == sorted(stamps)


def test_logs_are_json_and_personal_data_is_redacted_even_at_debug(
        instances: tuple[Server, Server]) -> None:
    a, _ = instances  # logging at DEBUG, where Rasa writes what residents say
    Chat(a, f"log-{uuid.uuid4().hex[:8]}").send(
        "Soita minulle 040 765 4321 tai maija.virtanen@example.fi, hetu 131052-308T")
    log = a.log.read_text(encoding="utf-8")
    assert "Soita minulle" in log  # DEBUG does carry the words...
    for secret in ("040 765 4321", "765 4321", "maija.virtanen", "131052-308T"):
        assert secret not in log  # ...but not these
    assert "[phone]" in log and "[email]" in log and "[hetu]" in log
    lines = [line for line in log.splitlines() if line.strip()]
    assert all(line.startswith("{") and json.loads(line) for line in lines), \
        [line for line in lines if not line.startswith("{")][:5]


def rasa_pid(server: Server) -> int:
    return int(re.findall(r"started rasa server \(pid (\d+)\)", server.log.read_text())[-1])


def test_sigkill_in_a_triage_form_loses_nothing(instances: tuple[Server, Server],
                                                database: str, gateway: Gateway) -> None:
    _, b = instances
    engine = sqlalchemy.create_engine(database)
    resident = Chat(b, f"crash-{uuid.uuid4().hex[:8]}")
    assert resident.texts("minulla on ollut kuumetta")[-1] == FEVER.question("breathing").text["fi"]
    form = resident.active_loop()
    assert form is not None
    asked = [e["text"] for e in resident.tracker()["events"] if e["event"] == "bot"]
    # a ticket, a web chat delivery and an SMS that the gateway keeps refusing
    waiting = Chat(b, f"crash-nurse-{uuid.uuid4().hex[:8]}")
    waiting.send("Haluan puhua hoitajalle")
    web = requests.post(f"{b.url}/webhooks/webchat/session", timeout=30).json()["token"]
    bearer = {"Authorization": f"Bearer {web}"}
    assert requests.post(f"{b.url}/webhooks/webchat/message", timeout=60, headers=bearer,
                         json={"text": "Hei"}).status_code == 202
    history = requests.get(f"{b.url}/webhooks/webchat/history", headers=bearer,
                           timeout=30).json()
    assert [m["author"] for m in history["messages"]][:2] == ["resident", "bot"]
    number = random_number()
    gateway.fail_next(number, 5)  # retried for ~10 s, then delivered
    status, _ = Phone(webhook_url(b.rasa_port), number).send("Hei")
    assert status == 200

    def rows(table: str) -> int:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(f"SELECT count(*) FROM {table}")).scalar_one()

    deadline = time.monotonic() + 60
    while rows("sms_outbox") == 0:
        assert time.monotonic() < deadline, "the SMS reply was never queued"
        time.sleep(0.2)
    before = {table: rows(table) for table in ("tickets", "webchat_messages", "sms_outbox")}

    old = rasa_pid(b)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 300
    while rasa_pid(b) == old or not _ready(b):
        assert time.monotonic() < deadline, "the Rasa server did not come back"
        time.sleep(1)

    assert {table: rows(table) for table in before} == before
    assert resident.active_loop() == form
    assert [e["text"] for e in resident.tracker()["events"] if e["event"] == "bot"] == asked
    # the answer to the question it was asking brings the next one, not a new start
    assert resident.texts("ei") == [FEVER.question("confusion_or_neck").text["fi"]]
    assert requests.get(f"{b.url}/webhooks/webchat/history", headers=bearer,
                        timeout=30).json() == history
    waiting.send("Olen yhä täällä")
    with engine.connect() as conn:
        relayed = conn.execute(sqlalchemy.text(
            "SELECT text FROM ticket_messages WHERE text = 'Olen yhä täällä'")).all()
    assert len(relayed) == 1
    assert len(gateway.wait_for(number, 1, timeout=120)) == 1  # the queued SMS still went
    engine.dispose()


def _ready(server: Server) -> bool:
    try:
        return requests.get(f"{server.url}/webhooks/ops/ready", timeout=5).status_code == 200
    except requests.RequestException:
        return False
