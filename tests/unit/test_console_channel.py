"""The nurse console's routes in process (Sanic's ASGI test client, no model): who may
do what, and how a refusal is answered (JSON for the live views and form posts, the
login form for a page)."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy.engine import Engine

from bot.handoff.accounts import add_nurse
from bot.handoff.console import MAX_REPLY_CHARS
from bot.storage import handoff as store
from channels.console import NurseConsole
from tests.unit.conftest import settings_for

PREFIX = "/webhooks/console"
PASSWORD = "correct horse battery"


async def no_messages(message: UserMessage) -> None:
    raise AssertionError("the console takes no resident messages")


class Browser:
    """One nurse's browser: the console mounted as Rasa mounts it, with its cookies."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        send = getattr(self.app.asgi_client, method)
        _, response = asyncio.run(send(PREFIX + path, cookies=self.cookies, **kwargs))
        for name, value in response.cookies.items():
            self.cookies[name] = value
        return response

    def login(self, email: str) -> None:
        form = self.call("get", "/login")
        signed_in = self.call("post", "/login", data={
            "email": email, "password": PASSWORD, "csrf_token": _csrf(form.text)})
        assert signed_in.status == 303, signed_in.text
        self.csrf = _csrf(self.call("get", "/").text)

    def act(self, ticket_id: int, action: str, **form: str) -> Any:
        return self.call("post", f"/tickets/{ticket_id}/{action}",
                         data={"csrf_token": self.csrf, **form})


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def app(engine: Engine, tmp_path: Path) -> Sanic:
    settings = replace(settings_for(tmp_path), session_key="test-session-key")
    app = Sanic(f"console_{uuid.uuid4().hex[:12]}")
    app.ctx.agent = None  # no route below reaches the resident
    app.blueprint(NurseConsole(settings, engine).blueprint(no_messages), url_prefix=PREFIX)
    return app


@pytest.fixture
def nurses(engine: Engine, app: Sanic) -> dict[str, Browser]:
    browsers = {}
    for name in ("anna", "bert"):
        add_nurse(engine, f"{name}@hel.fi", PASSWORD)
        browsers[name] = Browser(app)
        browsers[name].login(f"{name}@hel.fi")
    return browsers


@pytest.fixture
def ticket(engine: Engine) -> store.Ticket:
    return store.open_ticket(engine, "resident-1", "rest", "fi", "sore_throat", "routine",
                             {"said": ["kurkku on kipeä"], "triage": {}})


def test_a_stranger_is_sent_to_the_login_form_from_a_page_and_refused_elsewhere(
        app: Sanic, ticket: store.Ticket) -> None:
    stranger = Browser(app)
    for page in ("/", f"/tickets/{ticket.id}"):
        sent = stranger.call("get", page)
        assert sent.status == 303 and sent.headers["location"] == f"{PREFIX}/login"
        assert sent.headers["cache-control"] == "no-store"
    for method, path in (("get", "/api/queue"), ("get", f"/api/tickets/{ticket.id}"),
                         ("post", f"/tickets/{ticket.id}/claim"), ("post", "/logout")):
        refused = stranger.call(method, path)
        assert refused.status == 401, path
        assert refused.json == {"error": "unauthorized", "reason": "login required"}
        assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]


def test_a_form_post_needs_the_sessions_csrf_token(nurses: dict[str, Browser],
                                                   ticket: store.Ticket) -> None:
    refused = nurses["anna"].act(ticket.id, "claim", csrf_token="forged")
    assert refused.status == 403
    assert refused.json == {"error": "forbidden", "reason": "wrong or missing CSRF token"}
    assert nurses["anna"].act(ticket.id, "claim").status == 303


def test_only_the_nurse_who_claimed_a_ticket_works_it(
        nurses: dict[str, Browser], ticket: store.Ticket, engine: Engine) -> None:
    anna, bert = nurses["anna"], nurses["bert"]
    assert anna.act(ticket.id, "claim").status == 303
    refusals = [
        (bert.act(ticket.id, "claim"), 409, "conflict", "the ticket is not waiting any more"),
        (bert.act(ticket.id, "reply", text="Hei"), 403, "forbidden",
         "only the nurse who claimed the ticket replies to it"),
        (bert.act(ticket.id, "close"), 403, "forbidden",
         "only the nurse who claimed the ticket closes it"),
        (anna.act(ticket.id, "reply", text="   "), 400, "bad_request", "the reply is empty"),
        (anna.act(ticket.id, "reply", text="x" * (MAX_REPLY_CHARS + 1)), 413, "too_large",
         f"a reply has at most {MAX_REPLY_CHARS} characters"),
        (anna.act(ticket.id + 1, "claim"), 404, "not_found", "no such ticket"),
        (anna.call("get", f"/tickets/{ticket.id + 1}"), 404, "not_found", "no such ticket"),
    ]
    for refused, status, code, reason in refusals:
        assert (refused.status, refused.json) == (status, {"error": code, "reason": reason})
    stored = store.get_ticket(engine, ticket.id)
    assert stored is not None and stored.status == "claimed" and stored.messages == []


def test_the_queue_is_read_by_a_nurse_and_audited(nurses: dict[str, Browser],
                                                  ticket: store.Ticket,
                                                  engine: Engine) -> None:
    queue = nurses["bert"].call("get", "/api/queue")
    assert queue.status == 200
    assert [t["id"] for t in queue.json["tickets"]] == [ticket.id]
    assert queue.json["tickets"][0]["mine"] is False
    assert "view_queue" in {entry["action"] for entry in store.audit_entries(engine)}
