"""The console's sign-in throttle and audit over real HTTP: concurrent guesses, a nurse
never kept out by someone else's failures, clients told apart behind a trusted proxy
(the shared server trusts loopback), and every read in the audit log."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import create_engine, select

from bot.handoff import signin
from bot.storage import handoff as store
from tests.e2e.conftest import Server
from tests.e2e.console import Console, add_nurse

pytestmark = pytest.mark.e2e

ANNA = "anna.virtanen@hel.fi"
ATTACKER, HOME = "203.0.113.5", "198.51.100.7"


@pytest.fixture(scope="module")
def anna(server: Server) -> str:
    add_nurse(server, ANNA)
    return ANNA


def from_client(server: Server, address: str) -> Console:
    """A browser at `address`, as the trusted proxy (loopback) forwards it."""
    console = Console(server)
    console.http.headers["X-Forwarded-For"] = address
    return console


def throttle_keys(server: Server) -> set[str]:
    with create_engine(server.database_url).connect() as conn:
        return set(conn.scalars(select(store.login_throttle.c.key)))


def test_behind_the_trusted_proxy_the_client_is_the_address_it_forwards(
        server: Server) -> None:
    spoofed = from_client(server, "6.6.6.6, 192.0.2.44")  # the client wrote the first hop
    assert spoofed.login("nobody@hel.fi", "wrong password!!").status_code == 401
    now = datetime.now(timezone.utc)
    assert signin.Attempt.of("nobody@hel.fi", "192.0.2.44", now).pair in throttle_keys(server)
    assert signin.Attempt.of("nobody@hel.fi", "6.6.6.6", now).pair not in throttle_keys(server)


def test_of_ten_concurrent_guesses_at_most_three_are_checked(server: Server, anna: str) -> None:
    guessers = [from_client(server, "192.0.2.10") for _ in range(10)]
    tokens = [guesser.login_form() for guesser in guessers]
    start = threading.Barrier(len(guessers))

    def guess(number: int) -> requests.Response:
        start.wait()
        return guessers[number].login(anna, "wrong password!!", tokens[number])

    with ThreadPoolExecutor(len(guessers)) as pool:
        replies = list(pool.map(guess, range(len(guessers))))
    statuses = sorted(reply.status_code for reply in replies)
    assert 1 <= statuses.count(401) <= 3 and statuses.count(429) == 10 - statuses.count(401)
    for reply in replies:
        if reply.status_code == 429:
            assert int(reply.headers["Retry-After"]) >= 1
            assert "Too many failed attempts" in reply.text


def test_an_attackers_failures_never_keep_the_nurse_out(server: Server, anna: str) -> None:
    attacker = from_client(server, ATTACKER)
    statuses = [attacker.login(anna, f"guess number {n}").status_code for n in range(8)]
    assert statuses == [401] * 3 + [429] * 5
    refused = attacker.login(anna)  # the right password, from the attacker's client
    assert refused.status_code == 429 and refused.headers["Retry-After"].isdigit()
    assert from_client(server, HOME).login(anna).status_code == 303  # anna, at once


def test_every_read_is_in_the_audit_log(server: Server, anna: str) -> None:
    nurse = from_client(server, "192.0.2.20")
    assert nurse.login(anna).status_code == 303
    chat = server.chat()
    chat.send("/request_nurse")
    ticket = nurse.ticket_of(chat.sender)  # GET /api/tickets/<id>
    assert any(entry["id"] == ticket["id"] for entry in nurse.queue())  # GET /api/queue
    database = create_engine(server.database_url)
    nurse_id = store.nurse_by_email(database, anna).id
    reads = {(entry["action"], entry["ticket_id"], entry["detail"])
             for entry in store.audit_entries(database) if entry["nurse_id"] == nurse_id}
    assert {("view", ticket["id"], "json"), ("view_queue", None, "")} <= reads
