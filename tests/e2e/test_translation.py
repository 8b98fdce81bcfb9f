"""Machine translation end to end, on a server whose packages an operator installed
from files (`healthbot translate install`), built by the test itself.

The server is the destructive one (tests/e2e/conftest.py). The test packages write one
fixed sentence per sentence they read (see
tests/argos_package.py): German becomes an English question about Malmi health
station, so a message can be followed through the NLU, the dialogue and back out
through the package into the resident's language. Russian has packages too, to show
that a native language is never translated even where one is installed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from bot.translation.service import RuleSentencizer
from tests.conftest import PACKAGE_OUTPUTS, Responses, variation
from tests.e2e.browser import new_page
from tests.e2e.conftest import Chat, Server
from tests.e2e.console import PASSWORD, Console, add_nurse

pytestmark = pytest.mark.e2e

def machine(text: str, pair: tuple[str, str]) -> str:
    """What a test package writes for `text`: its one sentence per sentence read."""
    return " ".join([PACKAGE_OUTPUTS[pair]] * len(RuleSentencizer().split_sentences(text)))


@pytest.fixture
def translating(destructive: Server) -> Server:
    """The destructive server: its operator installed the test packages before the start
    (`INSTALLED_PACKAGES`, tests/e2e/conftest.py)."""
    assert (destructive.var_dir / "argos-packages" / "translate-de_en" / "model"
            / "model.bin").exists()
    return destructive


def turn(chat: Chat, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send a message; the user event it made and the bot events that answered it."""
    chat.send(text)
    events = chat.tracker()["events"]
    last = max(i for i, e in enumerate(events) if e["event"] == "user")
    return events[last], [e for e in events[last:] if e["event"] == "bot"]


def test_a_german_message_is_read_in_english_and_answered_in_german(
        translating: Server, responses: Responses) -> None:
    chat = translating.chat()
    german = "Ich möchte bitte mit jemandem sprechen"
    user, answers = turn(chat, german)
    # the tracker keeps what the resident wrote; the NLU read the package's English
    assert user["text"] == german
    parse = user["parse_data"]
    assert parse["text"] == PACKAGE_OUTPUTS[("de", "en")]
    assert parse["translation"] == {"from": "de", "to": "en", "original": german,
                                    "text": PACKAGE_OUTPUTS[("de", "en")]}
    assert parse["language"]["code"] == "de" and parse["language"]["supported"] is True
    assert parse["intent"]["name"] == "ask_clinic_hours"
    assert chat.slot("language") == "de"
    # the English answer about Malmi went out through the en→de package
    assert answers, "no answer"
    sources = [a["metadata"]["translation"]["source"] for a in answers]
    assert any("Malmi" in source for source in sources)
    notice = machine(variation(responses, "utter_machine_translated", "en"), ("en", "de"))
    assert answers[0]["text"] == f"{notice}\n\n{machine(sources[0], ('en', 'de'))}"
    for answer in answers[1:]:
        assert answer["text"] == machine(answer["metadata"]["translation"]["source"],
                                         ("en", "de"))
    # the notice comes once per conversation
    _, again = turn(chat, "Vielen Dank für die Hilfe heute")
    assert again and all("notice" not in a["metadata"]["translation"] for a in again)


def test_russian_is_native_even_where_a_package_is_installed(
        translating: Server, responses: Responses) -> None:
    """The ru<->en packages are installed here, and still nothing is translated."""
    chat = translating.chat()
    user, answers = turn(chat, "Здравствуйте, когда открыта поликлиника Малми?")
    assert chat.slot("language") == "ru"
    assert "translation" not in user["parse_data"]
    assert answers and all("translation" not in (a.get("metadata") or {}) for a in answers)
    assert PACKAGE_OUTPUTS[("en", "ru")] not in " ".join(a["text"] for a in answers)
    user, emergency = turn(chat, "мой отец не дышит")
    assert user["parse_data"]["intent"]["name"] == "emergency"
    assert emergency[0]["text"] == variation(responses, "utter_emergency", "ru")


def metric(server: Server, name: str, **labels: str) -> float:
    text = requests.get(f"{server.url}/webhooks/ops/metrics", timeout=30).text
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_without_a_package_a_language_gets_the_eight_we_serve_once(
        translating: Server, responses: Responses) -> None:
    chat = translating.chat()
    _, french = turn(chat, "Bonjour, je voudrais parler avec une infirmière aujourd'hui")
    assert [a["text"] for a in french] == [variation(responses, "utter_language_unsupported",
                                                     "en")]
    _, more = turn(chat, "Merci beaucoup, je vais appeler demain matin alors")
    assert variation(responses, "utter_language_unsupported", "en") not in [
        a["text"] for a in more]
    # the operator sees the missing pair in the metrics and, once, in the log
    assert metric(translating, "healthbot_translation_missing_total", pair="fr-en") >= 1
    log = translating.log.read_text(encoding="utf-8", errors="replace")
    assert log.count("no translation package for fr→en") == 1
    assert "infirmière" not in log


def test_metrics_are_only_for_the_operators_network(translating: Server) -> None:
    reply = requests.get(f"{translating.url}/webhooks/ops/metrics", timeout=30,
                         headers={"X-Forwarded-For": "203.0.113.9"})
    assert reply.status_code == 200  # loopback, and forwarded headers are not trusted
    assert "healthbot_translations_total" in reply.text


@pytest.fixture(scope="module")
def browser_page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, height=900, bypass_csp=True) as opened:
        yield opened


def test_nurses_read_a_translation_and_their_reply_reaches_the_resident_translated(
        translating: Server, browser_page: Page) -> None:
    add_nurse(translating, "tiina@hel.fi")  # reads Finnish, the default
    chat = translating.chat()
    chat.send("Ich möchte bitte mit jemandem sprechen")
    chat.send("/request_nurse")
    fever = "Mein Kind hat seit gestern Fieber und Husten"
    chat.send(fever)
    console = Console(translating)
    assert console.login("tiina@hel.fi").status_code == 303
    ticket = console.ticket_of(chat.sender)
    assert ticket["language"] == "de"
    (said,) = [m for m in ticket["messages"] if m["author"] == "resident"]
    finnish = PACKAGE_OUTPUTS[("en", "fi")]  # de→en→fi: pivot through English
    assert said == {**said, "text": fever, "language": "de", "translation": finnish,
                    "translation_language": "fi"}

    # the console page shows it, and the live view renders new messages the same way
    page = browser_page
    base = f"{translating.url}/webhooks/console"
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill("tiina@hel.fi")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.locator("#queue-status")).to_be_visible()
    page.goto(f"{base}/tickets/{ticket['id']}")
    resident = page.locator("#transcript .from-resident")
    expect(resident.first.locator(".translation")).to_contain_text(finnish)
    expect(resident.first.locator(".translation")).to_have_attribute("lang", "fi")
    chat.send("Vielen Dank für die Hilfe heute")
    expect(resident).to_have_count(2)
    expect(resident.last.locator(".translation")).to_contain_text(finnish)

    assert console.act(ticket["id"], "claim").status_code == 303
    reply = "Soitan sinulle huomenna kello kymmenen."
    assert console.act(ticket["id"], "reply", text=reply).status_code == 303
    german = machine(PACKAGE_OUTPUTS[("fi", "en")], ("en", "de"))  # fi→en→de
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        nurse = [e for e in chat.tracker()["events"]
                 if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "nurse"]
        if nurse:
            break
        time.sleep(0.3)
    assert [e["text"] for e in nurse] == [german]
    stored = [m for m in console.ticket(ticket["id"])["messages"] if m["author"] == "nurse"]
    assert stored == [{**stored[0], "text": reply, "language": "fi", "translation": german,
                       "translation_language": "de"}]
