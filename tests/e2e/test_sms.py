"""SMS end to end: signed webhooks into the real Rasa and action servers, replies out
through the outbox to a loopback gateway that speaks Twilio's Messages API."""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from bot.sms.encoding import UCS2
from bot.storage import sms as store
from tests.e2e.conftest import Server, http_json
from tests.e2e.gateway import (
    AUTH_TOKEN,
    Gateway,
    Phone,
    converse,
    post_form,
    pseudonym,
    random_number,
    webhook_url,
)

pytestmark = pytest.mark.e2e

@pytest.fixture
def phone(server: Server) -> Callable[..., Phone]:
    def make(prefix: str = "+35840") -> Phone:
        return Phone(webhook_url(server.rasa_port), random_number(prefix), server.database_url)
    return make


@pytest.fixture(scope="module")
def database(server: Server) -> Engine:
    return create_engine(server.database_url)


def outbox(database: Engine, number: str) -> list[dict]:
    with database.connect() as conn:
        rows = conn.execute(select(store.sms_outbox)
                            .where(store.sms_outbox.c.pseudonym == pseudonym(number))
                            .order_by(store.sms_outbox.c.id))
        return [dict(row._mapping) for row in rows]


def test_a_signed_finnish_message_gets_a_finnish_reply_and_no_number_is_kept(
        server: Server, gateway: Gateway, phone: Callable[..., Phone],
        database: Engine) -> None:
    resident = phone()
    (reply,) = converse(resident, gateway, "Milloin Malmin terveysasema on auki?")
    assert "Malmin terveysasema" in reply and "Talvelantie 4" in reply
    assert "auki" in reply
    tracker = http_json(server.api(f"/conversations/{pseudonym(resident.number)}/tracker"))
    assert tracker["slots"]["language"] == "fi"
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == \
        ["Milloin Malmin terveysasema on auki?"]
    digits = resident.number.lstrip("+")
    assert digits not in json.dumps(tracker)
    assert digits not in server.log.read_text(errors="replace")
    with database.connect() as conn:
        (number_row,) = conn.execute(select(store.sms_numbers).where(
            store.sms_numbers.c.pseudonym == pseudonym(resident.number))).all()
        inbound = conn.execute(select(store.sms_inbound.c.body).where(
            store.sms_inbound.c.pseudonym == pseudonym(resident.number))).scalars().all()
    assert digits not in number_row.number_encrypted
    assert inbound == [""]  # the text is erased from the queue once processed


@pytest.mark.parametrize("signature", ["", "bogus", "wrong-token"])
def test_a_missing_or_wrong_signature_gets_403_and_nothing_happens(
        server: Server, gateway: Gateway, phone: Callable[..., Phone], signature: str) -> None:
    resident = phone()
    if signature == "wrong-token":
        resident.token, signature = "not-the-auth-token", None  # signed, with the wrong key
    status, _ = resident.send("Hei, rintaan sattuu kovasti", signature=signature)
    assert status == 403
    assert not resident.received()  # dropped before it was stored: nothing can follow
    assert gateway.to(resident.number) == []
    tracker = http_json(server.api(f"/conversations/{pseudonym(resident.number)}/tracker"))
    assert not [e for e in tracker["events"] if e["event"] == "user"]


def test_a_retried_webhook_is_answered_once(gateway: Gateway,
                                            phone: Callable[..., Phone]) -> None:
    resident = phone()
    statuses = [resident.send("hei", message_sid="SM" + "d" * 32)[0] for _ in range(3)]
    assert statuses == [200, 200, 200]  # Twilio stops retrying on 200
    resident.settle()
    assert len(gateway.to(resident.number)) == 1


def test_a_gateway_error_is_retried_until_delivered(
        gateway: Gateway, phone: Callable[..., Phone], database: Engine) -> None:
    resident = phone()
    gateway.fail_next(resident.number, 2, status=500)
    (reply,) = converse(resident, gateway, "hei")
    assert reply.startswith("Hei! Olen Helsingin terveysneuvonnan botti")
    attempts = gateway.to(resident.number)
    assert [a.status for a in attempts] == [500, 500, 201]
    assert {a.body for a in attempts} == {reply}
    (row,) = outbox(database, resident.number)
    assert (row["status"], row["attempts"]) == ("sent", 3)


def test_a_refused_message_is_not_retried(gateway: Gateway, phone: Callable[..., Phone],
                                          database: Engine) -> None:
    resident = phone()
    gateway.fail_next(resident.number, 1, status=400)
    resident.send("hei")
    deadline = time.monotonic() + 60
    while not outbox(database, resident.number) or \
            outbox(database, resident.number)[0]["status"] != "failed":
        assert time.monotonic() < deadline, outbox(database, resident.number)
        time.sleep(0.3)
    resident.settle()  # failed is final: no attempt after it
    assert [a.status for a in gateway.to(resident.number)] == [400]
    assert "HTTP 400 code 21211" in outbox(database, resident.number)[0]["last_error"]


def test_a_russian_emergency_answer_travels_whole_in_ucs2_segments(
        gateway: Gateway, phone: Callable[..., Phone], database: Engine) -> None:
    resident = phone("+7916")
    (reply,) = converse(resident, gateway, "У отца сильная боль в груди, он не может дышать")
    assert "112" in reply and re.search("[а-я]", reply)
    (row,) = outbox(database, resident.number)
    assert row["encoding"] == UCS2
    assert row["segments"] == math.ceil(len(reply) / 67) > 4  # over the budget, never split


def test_numbered_options_map_back_to_the_buttons(
        server: Server, gateway: Gateway, phone: Callable[..., Phone]) -> None:
    resident = phone()
    # the topic's own button payload: plumbing is tested, not how the NLU reads a sentence
    replies = converse(resident, gateway, '/report_symptom{"symptom":"topic:sore_throat"}')
    question = replies[-1]
    options = dict(re.findall(r"(\d+) = ([^,\n]+)", question))
    assert options.get("1") == "Kyllä" and options.get("2") == "Ei", question
    after = converse(resident, gateway, "2")
    assert after and after[-1] != question
    tracker = http_json(server.api(f"/conversations/{pseudonym(resident.number)}/tracker"))
    said = [e for e in tracker["events"] if e["event"] == "user"]
    assert said[-1]["parse_data"]["intent"]["name"] == "deny"


def test_stop_ends_messages_until_start_but_an_emergency_is_still_answered(
        gateway: Gateway, phone: Callable[..., Phone]) -> None:
    resident = phone()
    (stopped,) = converse(resident, gateway, "LOPETA")
    assert stopped.startswith("Et saa enää viestejä") and "ALOITA" in stopped
    count = len(gateway.to(resident.number))
    resident.send("hei")
    resident.settle()
    assert len(gateway.to(resident.number)) == count
    (emergency,) = converse(resident, gateway, "Isäni ei hengitä")
    assert emergency.startswith("Soita heti 112")
    (started,) = converse(resident, gateway, "Aloita")
    assert started.startswith("Viestit ovat taas käytössä")
    (greeting,) = converse(resident, gateway, "hei")
    assert greeting.startswith("Hei!")


def test_help_and_pictures_get_short_answers_in_the_residents_language(
        gateway: Gateway, phone: Callable[..., Phone]) -> None:
    swede = phone("+4670")
    (help_text,) = converse(swede, gateway, "HJÄLP")
    assert help_text.startswith("Helsingfors hälsoassistent") and "112" in help_text
    finn = phone()
    before = len(gateway.delivered(finn.number))
    status, _ = finn.send("", num_media=1)
    assert status == 200
    (text_only,) = gateway.wait_for(finn.number, before + 1)
    assert text_only.startswith("Voin lukea vain tekstiä")


def test_the_language_sticks_to_the_number_across_conversations(
        server: Server, gateway: Gateway, phone: Callable[..., Phone]) -> None:
    resident = phone()  # a Finnish number, writing in Swedish
    (reply,) = converse(resident, gateway, "När har Malms hälsostation öppet i dag?")
    assert "Malms hälsostation" in reply
    conversation = server.api(f"/conversations/{pseudonym(resident.number)}/tracker/events")
    _replace_events(conversation)  # the old conversation is gone (e.g. purged)
    converse(resident, gateway, "ok")
    tracker = http_json(server.api(f"/conversations/{pseudonym(resident.number)}/tracker"))
    assert tracker["slots"]["language"] == "sv"


def _replace_events(url: str) -> None:
    request = urllib.request.Request(url, data=b"[]", method="PUT",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200


def test_bad_webhooks_get_clear_errors_and_the_channel_keeps_working(
        server: Server, gateway: Gateway, phone: Callable[..., Phone]) -> None:
    url = webhook_url(server.rasa_port)
    resident = phone()

    def signed(form: dict[str, str]) -> tuple[int, str]:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        return post_form(url, form, {"X-Twilio-Signature": signature})

    good = {"From": resident.number, "Body": "hei", "MessageSid": "SM" + "e" * 32}
    assert signed({**good, "MessageSid": ""})[0] == 400
    assert signed({**good, "MessageSid": "SM../../etc"})[0] == 400
    assert signed({**good, "From": "not a number"})[0] == 400
    assert signed({**good, "NumMedia": "many"})[0] == 400
    assert signed({**good, "Body": "x" * 5000})[0] == 413
    request = urllib.request.Request(url, data=b'{"Body": "hei"}', method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    request = urllib.request.Request(url, data=b"Body=\xff\xfe", method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert gateway.to(resident.number) == []
    (reply,) = converse(resident, gateway, "😀")  # emoji only: still an answer, in Finnish
    assert reply
    status = http_json(f"{server.url}/webhooks/sms/")
    assert status["configured"] is True and status["outbox"]["failed"] >= 0
