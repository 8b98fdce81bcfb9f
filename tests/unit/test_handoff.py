"""Tickets, the queue, nurse hours and accounts, on a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.handoff.accounts import AccountError, add_nurse, authenticate
from bot.handoff.service import HandoffRequest, relay, start
from bot.settings import TIMEZONE, load_settings
from bot.storage import handoff as store
from bot.storage.db import make_engine
from tests.conftest import Healthbot

PASSWORD = "correct horse battery"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(TIMEZONE)


def request(sender: str, level: str | None = None, language: str = "fi") -> HandoffRequest:
    triage = {"topic": "sore_throat", "level": level, "answers": {"fever": "yes"}}
    if level is None:
        triage = None
    return HandoffRequest(sender, "webchat", language, ["kurkku on kipeä", "apua"], triage)


def test_the_queue_puts_the_most_urgent_first_then_the_longest_waiting(engine: Engine) -> None:
    settings = load_settings()
    monday = at("2026-12-14T10:00+02:00")
    first, reply = start(engine, settings, request("a"), monday)
    assert (reply.response, reply.values) == ("utter_handoff_queued", {"position": "1"})
    second, _ = start(engine, settings, request("b", "self_care"), monday)
    urgent, reply = start(engine, settings, request("c", "urgent"), monday)
    assert reply.values == {"position": "1"}  # an urgent case goes before the others
    assert [t.sender_id for t in store.queue(engine)] == ["c", "a", "b"]
    again, reply = start(engine, settings, request("a"), monday)  # asking twice: one ticket
    assert again.id == first.id and reply.values == {"position": "2"}
    assert first.summary["said"] == ["kurkku on kipeä", "apua"]


@pytest.mark.parametrize(("now", "language", "next_open"), [
    ("2026-12-14T17:30+02:00", "fi", "tiistaina 15.12. klo 8.00"),
    ("2026-12-24T10:00+02:00", "sv", "måndag 28.12 kl. 8.00"),  # Christmas: holidays
    ("2026-12-19T10:00+02:00", "en", "Monday 21 December at 08:00"),
])
def test_outside_nurse_hours_the_resident_learns_when_a_nurse_answers(
        engine: Engine, now: str, language: str, next_open: str) -> None:
    _, reply = start(engine, load_settings(), request("a", language=language), at(now))
    assert reply.response == "utter_handoff_after_hours"
    assert reply.values["next_open"] == next_open


def test_nurse_hours_come_from_the_environment(engine: Engine) -> None:
    settings = replace(load_settings(), nurse_hours="Mon-Sun 00:00-24:00")
    _, reply = start(engine, settings, request("a"), at("2026-12-24T22:00+02:00"))
    assert reply.response == "utter_handoff_after_hours"  # still closed on a holiday
    _, reply = start(engine, settings, request("b"), at("2026-12-20T22:00+02:00"))
    assert reply.response == "utter_handoff_queued"


def test_only_the_claiming_nurse_replies_and_closes(engine: Engine) -> None:
    ticket, _ = start(engine, load_settings(), request("a"), at("2026-12-14T10:00+02:00"))
    anna = add_nurse(engine, "anna@hel.fi", PASSWORD)
    bert = add_nurse(engine, "bert@hel.fi", PASSWORD)
    assert store.claim(engine, ticket.id, anna)
    assert not store.claim(engine, ticket.id, bert)
    assert not store.close(engine, ticket.id, bert)
    assert relay(engine, ticket.id, "vieläkin sattuu", "fi")
    assert store.close(engine, ticket.id, anna)
    assert not relay(engine, ticket.id, "haloo?", "fi")  # closed: the bot answers again
    assert [m.text for m in store.get_ticket(engine, ticket.id).messages] == ["vieläkin sattuu"]
    assert store.queue(engine) == []


def test_passwords_are_hashed_and_checked(engine: Engine) -> None:
    add_nurse(engine, "Anna@Hel.fi", PASSWORD)
    stored = store.nurse_by_email(engine, "anna@hel.fi")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert authenticate(engine, "ANNA@hel.fi", PASSWORD).email == "anna@hel.fi"
    assert authenticate(engine, "anna@hel.fi", PASSWORD + "!") is None
    assert authenticate(engine, "nobody@hel.fi", PASSWORD) is None
    with pytest.raises(AccountError, match="already exists"):
        add_nurse(engine, "anna@hel.fi", PASSWORD)
    with pytest.raises(AccountError, match="12 characters"):
        add_nurse(engine, "bert@hel.fi", "short")
    with pytest.raises(AccountError, match="e-mail"):
        add_nurse(engine, "bert", PASSWORD)


def test_nurse_add_reads_the_password_from_standard_input(tmp_path: Path,
                                                          healthbot: Healthbot) -> None:
    env = {"HEALTHBOT_VAR_DIR": str(tmp_path)}
    done = healthbot("nurse", "add", "cli@hel.fi", env=env, stdin=PASSWORD + "\n")
    assert done.code == 0, done.stderr
    assert "nurse cli@hel.fi added" in done.stdout and PASSWORD not in done.stdout
    for password, reason in (("short\n", "12 characters"), (PASSWORD, "already exists")):
        refused = healthbot("nurse", "add", "cli@hel.fi", env=env, stdin=password)
        assert refused.code == 2 and reason in refused.stderr
    engine = make_engine(replace(load_settings(), var_dir=tmp_path, database_url=""))
    assert authenticate(engine, "cli@hel.fi", PASSWORD).language == "fi"
    done = healthbot("nurse", "language", "cli@hel.fi", "sv", env=env)
    assert done.code == 0, done.stderr
    assert authenticate(engine, "cli@hel.fi", PASSWORD).language == "sv"
    for args, reason in ((["cli@hel.fi", "xx"], "unknown language"),
                         (["nobody@hel.fi", "fi"], "no nurse account")):
        refused = healthbot("nurse", "language", *args, env=env)
        assert refused.code == 2 and reason in refused.stderr


def test_run_refuses_nurse_hours_it_cannot_read(tmp_path: Path, healthbot: Healthbot) -> None:
    done = healthbot("run", env={"HEALTHBOT_VAR_DIR": str(tmp_path),
                                 "NURSE_HOURS": "weekdays 8-16"})
    assert done.code == 2
    assert "NURSE_HOURS 'weekdays 8-16'" in done.stderr + done.stdout
