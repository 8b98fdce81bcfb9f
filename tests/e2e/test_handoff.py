"""Nurse handoff end to end: a resident asks for a nurse on the widget, by SMS or over
REST; the ticket appears in the console; a nurse claims, replies and closes; the
resident gets the reply on their channel and the bot back. Plus the console's locks:
login, CSRF, rate limit, and only the claiming nurse may act."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine

from bot.storage import handoff as store
from tests.e2e.browser import (
    ARTIFACTS,
    bot_messages,
    new_page,
    open_chat,
    say,
    serious_violations,
)
from tests.e2e.conftest import Server
from tests.e2e.console import PASSWORD, Console, add_nurse
from tests.e2e.gateway import Gateway, Phone, converse, pseudonym, random_number, webhook_url

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nurses(server: Server) -> dict[str, str]:
    emails = {"anna": "anna@hel.fi", "bert": "bert@hel.fi"}
    for email in emails.values():
        add_nurse(server, email)
    return emails


@pytest.fixture
def console(server: Server, nurses: dict[str, str]) -> Callable[[str], Console]:
    def signed_in(name: str) -> Console:
        session = Console(server)
        assert session.login(nurses[name]).status_code == 303
        return session
    return signed_in


def test_every_console_route_needs_a_signed_in_nurse(server: Server) -> None:
    base = f"{server.url}/webhooks/console"
    for page in ("/", "/tickets/1"):
        reply = requests.get(base + page, allow_redirects=False, timeout=30)
        assert reply.status_code == 303 and reply.headers["Location"].endswith("/login")
    for api in ("/api/queue", "/api/tickets/1"):
        assert requests.get(base + api, timeout=30).status_code == 401
    for action in ("/logout", "/tickets/1/claim", "/tickets/1/reply", "/tickets/1/close"):
        assert requests.post(base + action, data={"text": "x"}, timeout=30).status_code == 401
    forged = {"hb_nurse": "stolen-or-made-up.signature"}
    assert requests.get(base + "/api/queue", cookies=forged, timeout=30).status_code == 401
    login = requests.get(base + "/login", timeout=30)
    assert login.status_code == 200 and "Content-Security-Policy" in login.headers
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_logins_need_the_form_token_and_are_rate_limited(server: Server,
                                                          nurses: dict[str, str]) -> None:
    base = f"{server.url}/webhooks/console"
    stranger = requests.post(f"{base}/login", data={"email": nurses["bert"],
                                                    "password": PASSWORD}, timeout=30)
    assert stranger.status_code == 403  # no login form was ever loaded: CSRF
    add_nurse(server, "carl@hel.fi")
    guesser = Console(server)
    for _ in range(3):
        assert guesser.login("carl@hel.fi", "wrong password!!").status_code == 401
    refused = guesser.login("carl@hel.fi")  # even the right password, for 2 seconds
    assert refused.status_code == 429 and "Too many failed attempts" in refused.text
    assert Console(server).login(nurses["bert"]).status_code == 303  # others still can
    assert guesser.login("x" * 5000 + "@hel.fi", "p" * 100_000).status_code == 401


def test_only_the_claiming_nurse_replies_and_a_wrong_csrf_token_is_refused(
        server: Server, console: Callable[[str], Console]) -> None:
    chat = server.chat()
    chat.texts("Minulla on kova kurkkukipu")
    [queued] = chat.texts("Haluan puhua hoitajalle")
    assert queued.startswith("Siirsin keskustelun hoitajalle. Olet jonossa sijalla")
    anna, bert = console("anna"), console("bert")
    ticket = anna.ticket_of(chat.sender)
    assert ticket["status"] == "waiting" and ticket["channel"] == "rest"
    # Finnish, the nurse's own language: quoted as written, with no translation
    assert ticket["summary"]["said"][0] == {"text": "Minulla on kova kurkkukipu", "language": "fi"}
    assert anna.act(ticket["id"], "claim", csrf="forged").status_code == 403
    assert anna.act(ticket["id"], "claim").status_code == 303
    assert bert.act(ticket["id"], "claim").status_code == 409
    assert bert.act(ticket["id"], "reply", text="Hei, olen Bert").status_code == 403
    assert bert.act(ticket["id"], "close").status_code == 403
    assert anna.act(ticket["id"], "reply", text="Hei, olen hoitaja Anna.").status_code == 303
    # While paused, the resident's messages go to the ticket, and a red flag gets 112.
    assert chat.texts("Kurkku on edelleen kipeä") == []
    [emergency] = chat.texts("Nyt en saa henkeä, huulet sinertää")
    assert "112" in emergency
    transcript = [(m["author"], m["text"]) for m in anna.ticket(ticket["id"])["messages"]]
    assert transcript == [("nurse", "Hei, olen hoitaja Anna."),
                          ("resident", "Kurkku on edelleen kipeä"),
                          ("resident", "Nyt en saa henkeä, huulet sinertää")]
    bot_said = [(e["text"], (e.get("metadata") or {}).get("author"))
                for e in chat.tracker()["events"] if e["event"] == "bot"]
    assert ("Hei, olen hoitaja Anna.", "nurse") in bot_said
    assert anna.act(ticket["id"], "close").status_code == 303
    assert chat.slot("handoff_ticket") is None
    assert chat.texts("hei")  # the bot answers again
    audit = [(row["action"], row["nurse_id"] is not None)
             for row in store.audit_entries(create_engine(server.database_url), ticket["id"])]
    assert [action for action, _ in audit] == ["view", "claim", "reply", "view", "close"]


def test_a_handoff_by_sms_and_back(server: Server, gateway: Gateway,
                                   console: Callable[[str], Console]) -> None:
    resident = Phone(webhook_url(server.rasa_port), random_number(), server.database_url)
    (queued,) = converse(resident, gateway, "Haluan puhua hoitajalle")
    assert queued.startswith("Siirsin keskustelun hoitajalle")
    anna = console("anna")
    ticket = anna.ticket_of(pseudonym(resident.number))
    assert ticket["channel"] == "sms" and ticket["language"] == "fi"
    anna.act(ticket["id"], "claim")
    before = len(gateway.delivered(resident.number))
    assert anna.act(ticket["id"], "reply", text="Hei, olen hoitaja. Mikä vaivaa?").status_code \
        == 303
    assert gateway.wait_for(resident.number, before + 1)[-1] == \
        "Hei, olen hoitaja. Mikä vaivaa?"
    resident.send("Selkä on jumissa")
    deadline = time.monotonic() + 30
    while len(anna.ticket(ticket["id"])["messages"]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert len(gateway.delivered(resident.number)) == before + 1  # the bot stays quiet
    anna.act(ticket["id"], "close")
    assert gateway.wait_for(resident.number, before + 2)[-1].startswith("Hoitaja päätti")
    (greeting,) = converse(resident, gateway, "hei")
    assert greeting.startswith("Hei!")


def press(page: Page, selector: str) -> None:
    page.locator(selector).focus()
    page.keyboard.press("Enter")


@pytest.fixture
def nurse_page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, height=900, bypass_csp=True) as opened:
        yield opened


def test_a_widget_conversation_goes_to_the_console_and_back(
        server: Server, page: Page, nurse_page: Page, nurses: dict[str, str]) -> None:
    open_chat(page, server)
    say(page, "Haluan puhua hoitajalle")
    expect(bot_messages(page).last).to_contain_text("Olet jonossa sijalla")
    console = f"{server.url}/webhooks/console"
    nurse_page.goto(console + "/")
    expect(nurse_page).to_have_url(re.compile(r"/login$"))
    nurse_page.get_by_label("E-mail address").fill(nurses["anna"])
    nurse_page.get_by_label("Password").fill(PASSWORD)
    nurse_page.get_by_label("Password").press("Enter")
    expect(nurse_page.locator("#queue-status")).to_contain_text("waiting")
    tickets = nurse_page.locator("#queue tbody a")
    expect(tickets.first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    nurse_page.screenshot(path=str(ARTIFACTS / "console-queue.png"), full_page=True)
    newest = max(tickets.all(), key=lambda link: int(link.inner_text().split()[-1]))
    newest.click()
    expect(nurse_page.locator("#transcript")).to_be_visible()
    press(nurse_page, "#claim")  # the console works from the keyboard
    nurse_page.locator(".canned-reply").first.click()
    reply = nurse_page.get_by_label("Reply to the resident")
    expect(reply).to_have_value(re.compile("sairaanhoitaja"))
    reply.fill("Hei, olen hoitaja Anna. Miten voin auttaa?")
    press(nurse_page, "#send")
    expect(nurse_page.locator("#transcript .from-nurse")).to_contain_text("olen hoitaja Anna")
    nurse_page.screenshot(path=str(ARTIFACTS / "console-ticket.png"), full_page=True)
    assert serious_violations(nurse_page) == []
    nurse_message = page.locator(".hb-log .hb-nurse")
    expect(nurse_message).to_contain_text("Hei, olen hoitaja Anna. Miten voin auttaa?")
    say(page, "Minulla on ollut kuumetta kolme päivää")
    expect(nurse_page.locator("#transcript .from-resident")).to_contain_text("kuumetta")
    # The resident leaves the page; a reply sent meanwhile waits for their return.
    page.goto("about:blank")
    nurse_page.get_by_label("Reply to the resident").fill("Juo runsaasti ja lepää.")
    press(nurse_page, "#send")
    expect(nurse_page.locator("#transcript .from-nurse").last).to_contain_text("lepää")
    open_chat(page, server)
    expect(page.locator(".hb-log .hb-nurse").last).to_contain_text("Juo runsaasti ja lepää.")
    press(nurse_page, "#close")
    expect(bot_messages(page).last).to_contain_text("Hoitaja päätti keskustelun")
    say(page, "Milloin Malmin terveysasema on auki?")  # the bot answers again
    expect(bot_messages(page).last).to_contain_text("Tänään auki")
    expect(page.locator(".hb-log")).to_contain_text("Malmin terveysasema, Talvelantie 4")
    page.screenshot(path=str(ARTIFACTS / "widget-after-nurse.png"))
    ticket_id = int(nurse_page.url.rsplit("/", 1)[-1])
    audit = store.audit_entries(create_engine(server.database_url), ticket_id)
    assert {"view", "claim", "reply", "close"} <= {row["action"] for row in audit}
    assert all(row["nurse_id"] is not None and row["at"] for row in audit)
    nurse_page.get_by_role("button", name="Sign out").click()
    expect(nurse_page).to_have_url(re.compile(r"/login$"))
    nurse_page.goto(console + "/")  # the old session is gone
    expect(nurse_page).to_have_url(re.compile(r"/login$"))
