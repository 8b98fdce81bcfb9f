"""Russian, Estonian, Somali, Arabic and Ukrainian are native: with no translation
package installed, a resident who writes one of them gets a clinic answer, a whole
triage and a nurse in that language, over the web chat (in a browser, Arabic right to
left on a 320 px phone) and over SMS, with no language picker and no translation notice.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, select

from bot.sms.encoding import GSM7, UCS2, smart_encode
from bot.storage import sms as store
from bot.triage.guidance import default_guidance
from tests.conftest import Responses, variation
from tests.e2e.browser import ARTIFACTS, bot_messages, new_page, open_chat, say
from tests.e2e.conftest import Server
from tests.e2e.console import Console, add_nurse
from tests.e2e.gateway import Gateway, Phone, converse, pseudonym, random_number, webhook_url

pytestmark = pytest.mark.e2e

SORE_THROAT = default_guidance()["sore_throat"]

#: What a resident of each language types: a clinic question, a sore throat, "no",
#: three days, and a wish to talk to a nurse; and the country code of their phone.
RESIDENTS: dict[str, dict[str, str]] = {
    "ru": {"clinic": "Когда открыта поликлиника Малми?", "symptom": "у меня болит горло",
           "no": "нет", "duration": "3 дня", "nurse": "хочу поговорить с медсестрой",
           "phone": "+7916"},
    "et": {"clinic": "Millal on Malmi tervisekeskus avatud?", "symptom": "mul on kurk valus",
           "no": "ei", "duration": "kolm päeva", "nurse": "tahan rääkida meditsiiniõega",
           "phone": "+3725"},
    "so": {"clinic": "Goorma ayay furan tahay xarunta caafimaadka Malmi?",
           "symptom": "cunaha ayaa i xanuunaya", "no": "maya", "duration": "saddex maalmood",
           "nurse": "waxaan rabaa inaan la hadlo kalkaaliye caafimaad", "phone": "+25261"},
    "ar": {"clinic": "متى يفتح المركز الصحي في مالمي؟", "symptom": "عندي ألم في الحلق",
           "no": "لا", "duration": "ثلاثة أيام", "nurse": "أريد التحدث مع ممرضة",
           "phone": "+96477"},
    "uk": {"clinic": "Коли працює медичний центр Малмі?", "symptom": "у мене болить горло",
           "no": "ні", "duration": "3 дні", "nurse": "хочу поговорити з медсестрою",
           "phone": "+38067"},
}
LANGUAGES = sorted(RESIDENTS)


def template(responses: Responses, name: str, language: str) -> re.Pattern[str]:
    """A response of `language` as a pattern: its placeholders match any value."""
    parts = re.split(r"\{\w+\}", variation(responses, name, language))
    return re.compile(".+".join(re.escape(part) for part in parts), re.S)


def said(responses: Responses, name: str, language: str, text: str) -> bool:
    return template(responses, name, language).fullmatch(text) is not None


def texted(responses: Responses, name: str, language: str, text: str) -> bool:
    """`said`, for an SMS: typographic dashes and quotes travel as their plain forms."""
    parts = re.split(r"\{\w+\}", smart_encode(variation(responses, name, language)))
    return re.fullmatch(".+".join(re.escape(part) for part in parts), text, re.S) is not None


def triage_replies(responses: Responses, language: str) -> list[str]:
    """Every question of the sore-throat topic, then the duration, in order."""
    return [*(question.text[language] for question in SORE_THROAT.questions),
            variation(responses, "utter_ask_triage_duration", language)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_clinic_question_a_triage_and_a_nurse_in_the_residents_language(
        server: Server, responses: Responses, language: str) -> None:
    resident = RESIDENTS[language]
    chat = server.chat()
    who, *hours = chat.texts(resident["clinic"])
    assert chat.slot("language") == language
    assert said(responses, "utter_clinic_unit", language, who), who
    assert "Malmin terveysasema" in who  # the name on the door
    assert any(said(responses, name, language, text) for text in hours
               for name in ("utter_clinic_open_now", "utter_clinic_closed_now")), hours

    first = chat.texts(resident["symptom"])
    questions = triage_replies(responses, language)
    assert first == [variation(responses, "utter_triage_disclaimer", language), questions[0]]
    for expected in questions[1:]:
        assert chat.texts(resident["no"]) == [expected]
    assert chat.texts(resident["duration"]) == [
        variation(responses, "utter_triage_level_self_care", language),
        SORE_THROAT.advice[language],
        SORE_THROAT.seek_care_if[language],
        variation(responses, "utter_triage_offer_nurse", language),
    ]
    assert chat.slot("last_triage")["level"] == "self_care"

    (queued,) = chat.texts(resident["nurse"])
    assert said(responses, "utter_handoff_queued", language, queued), queued
    events = chat.tracker()["events"]
    assert not [e for e in events if e["event"] == "bot" and (
        (e.get("metadata") or {}).get("translation")
        or e["text"] == variation(responses, "utter_ask_language", language))]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_same_over_sms_counted_in_the_right_segments(
        server: Server, gateway: Gateway, responses: Responses, language: str) -> None:
    resident = RESIDENTS[language]
    phone = Phone(webhook_url(server.rasa_port), random_number(resident["phone"]),
                  server.database_url)
    first = "\n".join(converse(phone, gateway, resident["symptom"]))
    assert smart_encode(SORE_THROAT.questions[0].text[language]) in first
    for _ in SORE_THROAT.questions:
        converse(phone, gateway, "2")  # the numbered option for "no"
    level = "\n".join(converse(phone, gateway, "2"))  # 1–3 days
    assert smart_encode(variation(responses, "utter_triage_level_self_care", language)) in level
    (queued, *_) = converse(phone, gateway, resident["nurse"])
    assert texted(responses, "utter_handoff_queued", language, queued), queued
    engine = create_engine(server.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(store.sms_outbox)
                            .where(store.sms_outbox.c.pseudonym == pseudonym(phone.number)))
        sent = [dict(row._mapping) for row in rows]
    engine.dispose()
    assert len(sent) >= 8 and all(row["status"] == "sent" for row in sent)
    for row in sent:
        assert (row["encoding"], row["segments"]) == segments(row["body"]), row
    if language in ("ru", "uk", "ar"):
        assert {row["encoding"] for row in sent} == {UCS2}


#: GSM 03.38: the basic set (one septet each) and the extension (two septets each).
_GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
              "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = "^{}\\[~]|€\f"


def segments(body: str) -> tuple[str, int]:
    """How an operator bills `body`, counted here independently of bot/sms: GSM-7 when
    every character is in its sets (160 septets, or 153 per part), else UCS-2 in UTF-16
    units (70, or 67 per part)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in body):
        units = len(body) + sum(ch in _GSM_EXTENSION for ch in body)
        return GSM7, 1 if units <= 160 else math.ceil(units / 153)
    units = len(body.encode("utf-16-le")) // 2
    return UCS2, 1 if units <= 70 else math.ceil(units / 67)


def test_arabic_on_a_phone_right_to_left_from_triage_to_a_nurse(
        server: Server, browser: Any, responses: Responses) -> None:
    resident = RESIDENTS["ar"]
    add_nurse(server, "layla@hel.fi")
    with new_page(browser, width=320, height=640) as page:
        open_chat(page, server)
        panel = page.locator(".hb-panel")
        say(page, resident["symptom"])
        expect(bot_messages(page).last).to_contain_text(SORE_THROAT.questions[0].text["ar"])
        for _ in SORE_THROAT.questions:
            page.locator(".hb-replies .hb-reply").last.click()  # «لا», the second button
        page.locator(".hb-replies .hb-reply").nth(1).click()  # 1–3 days
        level = variation(responses, "utter_triage_level_self_care", "ar")
        expect(page.locator(".hb-log .hb-bot", has_text=level)).to_have_count(1)
        expect(panel).to_have_attribute("dir", "rtl")
        for message in bot_messages(page).all():
            assert message.get_attribute("lang") == "ar"
            assert message.get_attribute("dir") == "rtl"
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        say(page, resident["nurse"])
        expect(bot_messages(page).last).to_contain_text("112")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-arabic-320px.png"))
        console = Console(server)
        assert console.login("layla@hel.fi").status_code == 303
        ticket = _newest_ticket(console, "ar")
        assert console.act(ticket["id"], "claim").status_code == 303
        reply = "مرحبًا، أنا الممرضة ليلى. كيف حالك الآن؟"
        assert console.act(ticket["id"], "reply", text=reply).status_code == 303
        nurse = page.locator(".hb-log .hb-nurse")
        expect(nurse).to_contain_text(reply)
        assert nurse.get_attribute("lang") == "ar"


def _newest_ticket(console: Console, language: str,
                   timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        waiting = [t for t in console.queue() if t["language"] == language
                   and t["status"] == "waiting"]
        if waiting:
            return max(waiting, key=lambda ticket: ticket["id"])
        assert time.monotonic() < deadline, "no ticket reached the queue"
        time.sleep(0.3)


def test_a_language_we_do_not_serve_is_offered_the_eight_once(
        server: Server, responses: Responses) -> None:
    chat = server.chat()
    first = chat.send("Bonjour, je voudrais parler avec une infirmière aujourd'hui")
    assert [m["text"] for m in first] == [variation(responses, "utter_language_unsupported", "en")]
    assert len(first[0]["buttons"]) == 8
    again = chat.texts("Merci, mais je ne comprends pas bien le finnois")
    assert variation(responses, "utter_language_unsupported", "en") not in again
    (chosen,) = chat.texts(first[0]["buttons"][6]["payload"])  # العربية
    assert chosen == variation(responses, "utter_language_changed", "ar")

