"""Debian's Chromium driven by Playwright, and the widget as a resident uses it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
TIMEOUT_MS = 60_000
AXE = ROOT / "tests" / "e2e" / "widget" / "node_modules" / "axe-core" / "axe.min.js"


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium chromium-driver")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"],
        )
        yield launched
        launched.close()


@contextmanager
def new_page(browser: Browser, width: int = 1280, height: int = 800,
             bypass_csp: bool = False) -> Iterator[Page]:
    """`bypass_csp` lets a test inject axe-core, which the pages' policy would block."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  bypass_csp=bypass_csp)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


class Served(Protocol):
    url: str


def demo(server: Served) -> str:
    return f"{server.url}/webhooks/webchat/demo"


def open_chat(page: Page, server: Served) -> None:
    page.goto(demo(server))
    page.locator(".hb-launcher").click()
    notice = page.locator(".hb-notice-ok")
    if notice.is_visible():
        notice.click()


def say(page: Page, text: str) -> None:
    page.locator("#hb-input").fill(text)
    page.locator("#hb-input").press("Enter")


def webchat_call(server: Served, method: str, path: str, body: bytes | None = None,
                 token: str | None = None) -> tuple[int, Any]:
    """The web chat's HTTP API as the widget calls it: (status, JSON body or None)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{server.url}/webhooks/webchat{path}", data=body,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def bot_messages(page: Page) -> Locator:
    return page.locator(".hb-log .hb-bot")


def serious_violations(page: Page) -> list[tuple[str, str, int]]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]
