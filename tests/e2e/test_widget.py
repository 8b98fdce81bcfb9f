"""The web chat widget in Debian's Chromium, driven by Playwright, against the real
servers: languages and right-to-left, reload, a server restart, keyboard only,
escaping, long messages, and an axe-core accessibility check. Screenshots go to
`artifacts/`."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import (
    ARTIFACTS,
    TIMEOUT_MS,
    bot_messages,
    demo,
    new_page,
    open_chat,
    say,
    serious_violations,
    webchat_call,
)
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

def test_finnish_chat_with_privacy_notice_and_lang(page: Page, server: Server) -> None:
    page.goto(demo(server))
    page.locator(".hb-launcher").click()
    expect(page.locator(".hb-notice-text")).to_contain_text("112")
    page.locator(".hb-notice-ok").click()
    say(page, "Milloin Malmin terveysasema on auki?")
    answer = bot_messages(page).first
    expect(answer).to_contain_text("Malmin terveysasema, Talvelantie 4")
    expect(answer).to_have_attribute("lang", "fi")
    expect(page.locator(".hb-log .hb-resident")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))
    page.set_viewport_size({"width": 320, "height": 640})
    expect(page.locator("#hb-input")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(ARTIFACTS / "widget-320px.png"))


def test_arabic_is_right_to_left(page: Page, server: Server) -> None:
    open_chat(page, server)
    say(page, "أمي فقدت الوعي")  # "my mother has lost consciousness": a red flag
    answer = bot_messages(page).first
    expect(answer).to_contain_text("112")
    expect(answer).to_have_attribute("lang", "ar")
    assert answer.evaluate("node => getComputedStyle(node).direction") == "rtl"
    # the widget's own texts follow the conversation into Arabic
    expect(page.locator(".hb-send")).to_have_text("إرسال")
    assert page.locator(".hb-panel").evaluate("n => getComputedStyle(n).direction") == "rtl"


def test_the_language_picker_wins_over_detection(page: Page, server: Server) -> None:
    open_chat(page, server)
    page.locator("#hb-lang").select_option("en")
    expect(page.locator(".hb-send")).to_have_text("Send")
    say(page, "moi, milloin Malmin terveysasema on auki")
    expect(bot_messages(page).first).to_have_attribute("lang", "en")
    expect(bot_messages(page).first).to_contain_text("Malmi Health Station")


def test_reload_keeps_the_conversation_and_buttons_work(page: Page, server: Server) -> None:
    open_chat(page, server)
    say(page, "mikä terveysasema on postinumerossa 00940")
    expect(page.locator(".hb-reply")).to_have_count(2)
    page.locator(".hb-reply", has_text="Kontulan terveysasema").click()
    kontula = bot_messages(page).filter(has_text="Kontulan terveysasema, Ostoskuja 3")
    expect(kontula).to_have_count(1)
    expect(bot_messages(page).last).to_contain_text("Auki nyt")
    shown = page.locator(".hb-log .hb-msg").all_inner_texts()
    page.reload()
    page.locator(".hb-launcher").click()
    expect(page.locator(".hb-log .hb-msg")).to_have_count(len(shown))
    assert page.locator(".hb-log .hb-msg").all_inner_texts() == shown


def test_messages_are_text_never_html(page: Page, server: Server) -> None:
    open_chat(page, server)
    say(page, '<img src=x onerror="document.title=\'owned\'"><script>alert(1)</script>')
    expect(page.locator(".hb-log .hb-resident")).to_contain_text("<img src=x")
    expect(bot_messages(page).first).to_be_visible()
    assert page.locator(".hb-log img, .hb-log script").count() == 0
    assert page.title() != "owned"


def test_too_long_message_is_refused_and_kept(page: Page, server: Server) -> None:
    open_chat(page, server)
    long_text = "a" * 2001
    say(page, long_text)
    expect(page.locator(".hb-status")).to_contain_text("2 000")
    assert page.locator("#hb-input").input_value() == long_text
    expect(page.locator(".hb-log .hb-msg")).to_have_count(0)


def test_keyboard_only(page: Page, server: Server) -> None:
    page.goto(demo(server))
    for _ in range(10):  # tab through the page until the launcher has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.className") == "hb-launcher":
            break
    assert page.evaluate("document.activeElement.className") == "hb-launcher"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.className") == "hb-notice-ok"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "hb-input"
    page.keyboard.type("hej")
    page.keyboard.press("Enter")
    expect(bot_messages(page).first).to_have_attribute("lang", "sv")
    page.keyboard.press("Escape")
    expect(page.locator(".hb-panel")).to_be_hidden()
    assert page.evaluate("document.activeElement.className") == "hb-launcher"


def test_no_serious_accessibility_violations(browser: Browser, server: Server) -> None:
    with new_page(browser, bypass_csp=True) as page:
        open_chat(page, server)
        say(page, "hei")
        expect(bot_messages(page).first).to_be_visible()
        assert serious_violations(page) == []


def test_the_demo_page_carries_a_content_security_policy(page: Page, server: Server) -> None:
    response = page.goto(demo(server))
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy


def test_server_restart_under_an_open_page(page: Page, destructive: Server) -> None:
    open_chat(page, destructive)
    say(page, "hej")
    expect(bot_messages(page)).to_have_count(1)
    assert destructive.stop() == 0
    expect(page.locator(".hb-status")).not_to_be_empty()
    destructive.start()  # the same database and ports
    # the widget reconnects by itself (backoff) and the conversation goes on
    expect(page.locator(".hb-status")).to_be_empty(timeout=TIMEOUT_MS)
    say(page, "tack")
    expect(bot_messages(page)).to_have_count(2)
    assert page.locator(".hb-log .hb-resident").count() == 2
    assert bot_messages(page).last.get_attribute("lang") == "sv"


def post(server: Server, path: str, body: bytes, token: str | None = None) -> tuple[int, dict]:
    return webchat_call(server, "POST", path, body, token)


@pytest.mark.parametrize(
    ("body", "token", "status", "error"),
    [
        (b"{not json", None, 400, "bad_request"),
        (b"\xff\xfe\x00", None, 400, "bad_request"),
        (b"[1, 2]", None, 400, "bad_request"),
        (b'{"token": 5, "text": "hi"}', None, 400, "bad_request"),
        (b'{"text": "hi"}', None, 400, "bad_request"),
        (b'{"text": "hi"}', "forged-token", 403, "unknown_session"),
    ],
)
def test_bad_requests_get_a_clear_error(server: Server, body: bytes, token: str | None,
                                        status: int, error: str) -> None:
    assert post(server, "/message", body, token)[:1] == (status,)
    assert post(server, "/message", body, token)[1]["error"] == error


def test_empty_and_huge_messages_are_refused_and_nothing_is_stored(server: Server) -> None:
    status, session = post(server, "/session", b"")
    assert status == 201
    token = session["token"]
    for text, code in (("", 400), ("   ", 400), ("x" * 2001, 413)):
        body = json.dumps({"text": text}).encode()
        assert post(server, "/message", body, token)[0] == code
    assert webchat_call(server, "GET", "/history", token=token) == (200, {"messages": []})
    # the same session still works afterwards
    body = json.dumps({"text": "🙂"}).encode()
    assert post(server, "/message", body, token) == (202, {"seq": 1})
