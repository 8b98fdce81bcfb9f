"""The widget's session security in Chromium against the real servers: ending a
conversation deletes it on both sides, the token never appears in a URL, a session
the server no longer knows is replaced without a word, and a rate-limited message is
kept for the resident."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.e2e.browser import bot_messages, open_chat, say, webchat_call
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

TOKEN_KEY = "hb-webchat-token"


def stored_token(page: Page) -> str | None:
    return page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')")


def test_ending_the_conversation_deletes_it(page: Page, server: Server) -> None:
    open_chat(page, server)  # the demo page is Finnish
    say(page, "Milloin Malmin terveysasema on auki?")
    expect(bot_messages(page).first).to_contain_text("Malmin terveysasema")
    token = stored_token(page)
    assert token and webchat_call(server, "GET", "/history", token=token)[0] == 200

    page.get_by_role("button", name="Lopeta keskustelu").click()
    expect(page.locator(".hb-confirm-no")).to_be_focused()  # the safe choice first
    page.keyboard.press("Escape")  # not now: the conversation stays
    expect(page.locator(".hb-confirm")).to_be_hidden()
    expect(page.locator(".hb-panel")).to_be_visible()
    expect(page.locator(".hb-end")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Lopeta", exact=True).click()

    expect(page.locator(".hb-note")).to_have_text(
        "Keskustelu on lopetettu ja sen viestit poistettu.")
    expect(page.locator(".hb-log .hb-msg")).to_have_count(0)
    assert stored_token(page) is None
    assert webchat_call(server, "GET", "/history", token=token) == (
        403, {"error": "unknown_session"})
    page.reload()
    page.locator(".hb-launcher").click()
    expect(page.locator(".hb-log .hb-msg")).to_have_count(0)
    # the next message starts a new conversation
    say(page, "hej")
    expect(bot_messages(page)).to_have_count(1)
    assert stored_token(page) not in (None, token)


def test_the_token_never_travels_in_a_url(page: Page, server: Server) -> None:
    requests: list[Request] = []
    page.on("request", lambda sent: requests.append(sent))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    open_chat(page, server)
    say(page, "hej")
    expect(bot_messages(page)).to_have_count(1)
    page.reload()  # the history comes over HTTP
    page.locator(".hb-launcher").click()
    expect(bot_messages(page)).to_have_count(1)
    say(page, "tack")
    expect(bot_messages(page)).to_have_count(2)
    token = stored_token(page)
    assert token
    page.get_by_role("button", name="Avsluta samtalet").click()  # the UI followed into Swedish
    page.locator(".hb-confirm-yes").click()
    expect(page.locator(".hb-note")).to_be_visible()

    api = [r for r in requests if "/webhooks/webchat/" in r.url
           and r.url.rsplit("/", 1)[-1] not in ("demo", "demo.css", "widget.js", "widget.css")]
    assert {(r.method, r.url.split("?")[0].rsplit("/", 1)[-1]) for r in api} >= {
        ("POST", "session"), ("POST", "message"), ("GET", "history"), ("DELETE", "session")}
    for url in [r.url for r in requests] + sockets:
        assert token not in url
    for sent in api:
        if not sent.url.endswith("/session") or sent.method == "DELETE":
            assert sent.all_headers().get("authorization") == f"Bearer {token}", sent.url


def test_the_control_is_labelled_in_finnish_and_arabic(page: Page, server: Server) -> None:
    open_chat(page, server)
    end = page.locator(".hb-end")
    expect(end).to_have_accessible_name("Lopeta keskustelu")
    expect(end).to_have_attribute("title", "Lopeta keskustelu")
    page.locator("#hb-lang").select_option("ar")
    expect(end).to_have_accessible_name("إنهاء المحادثة")
    expect(end).to_have_attribute("title", "إنهاء المحادثة")
    end.click()
    expect(page.locator(".hb-confirm-yes")).to_have_text("إنهاء")
    page.set_viewport_size({"width": 320, "height": 640})
    expect(end).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    title, end_box, close = (page.locator(selector).bounding_box()
                             for selector in (".hb-title", ".hb-end", ".hb-close"))
    assert title and end_box and close
    assert abs(end_box["y"] - close["y"]) < 8  # the two buttons share the title's row
    assert end_box["y"] < title["y"] + title["height"]


def test_a_session_the_server_forgot_is_replaced_without_a_word(page: Page,
                                                                 server: Server) -> None:
    open_chat(page, server)
    say(page, "hej")
    expect(bot_messages(page)).to_have_count(1)
    token = stored_token(page)
    assert token
    assert webchat_call(server, "DELETE", "/session", token=token) == (204, None)
    say(page, "tack")  # over the open socket, which learns the session is over
    expect(page.locator(".hb-log .hb-resident .hb-text")).to_have_text(["tack"])
    expect(bot_messages(page)).to_have_count(1)
    expect(page.locator(".hb-status")).to_be_empty()
    assert stored_token(page) not in (None, token)


def test_a_rate_limited_message_is_kept_with_a_notice(page: Page, server: Server) -> None:
    def too_many(route: Route) -> None:
        route.fulfill(status=429, headers={"Retry-After": "2"}, content_type="application/json",
                      body=json.dumps({"error": "rate_limited", "retry_after": 2}))

    page.route("**/webhooks/webchat/message", too_many)  # the first message goes over HTTP
    open_chat(page, server)
    say(page, "Milloin Malmin terveysasema on auki?")
    expect(page.locator(".hb-status")).to_have_text(
        "Liian monta viestiä. Odota hetki ja lähetä sitten uudelleen.")
    expect(page.locator("#hb-input")).to_have_value("Milloin Malmin terveysasema on auki?")
    expect(page.locator(".hb-log .hb-msg")).to_have_count(0)
    expect(page.locator(".hb-typing")).to_be_hidden()
    page.unroute("**/webhooks/webchat/message")
    page.locator("#hb-input").press("Enter")  # sent again, as it was
    expect(bot_messages(page).first).to_contain_text("Malmin terveysasema")
    expect(page.locator(".hb-status")).to_be_empty()
