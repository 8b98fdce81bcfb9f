"""Running it: retention purge, JSON logs with personal data redacted, metrics, and the
supervisor's daily job."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from bot.handoff import signin
from bot.logs import JsonFormatter, configure, redact
from bot.metrics import StoreCollector, count_event, exposition
from bot.storage import handoff, sms, webchat
from bot.storage.db import utcnow
from bot.storage.retention import parse_period, purge
from bot.supervisor import PeriodicJob, Supervisor
from tests.conftest import Healthbot

# ------------------------------------------------------------------ retention


@pytest.mark.parametrize(("text", "period"), [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), (" 90m ", timedelta(minutes=90)),
])
def test_periods(text: str, period: timedelta) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["30", "0d", "-1d", "30 days", "d", ""])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        parse_period(text)


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_purge_deletes_what_is_old_and_keeps_what_is_recent(engine: Engine) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    now = utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    events = SQLTrackerStore.SQLEvent.__table__
    events.create(engine)
    with engine.begin() as conn:
        for sender, stamps in (("old-chat", [old, old]), ("live-chat", [old, recent])):
            for stamp in stamps:
                conn.execute(insert(events).values(sender_id=sender, type_name="user",
                                                   timestamp=stamp.timestamp(), data="{}"))
    # tickets: one closed long ago, one old but with a recent message, one recent
    gone = handoff.open_ticket(engine, "old-chat", "rest", "fi", None, None, {})
    kept = handoff.open_ticket(engine, "live-chat", "rest", "fi", None, None, {})
    fresh = handoff.open_ticket(engine, "new-chat", "rest", "fi", None, None, {})
    handoff.add_message(engine, gone.id, "resident", "vanha", "fi")
    handoff.audit(engine, None, "view", gone.id)
    with engine.begin() as conn:
        conn.execute(update(handoff.tickets).where(handoff.tickets.c.id.in_([gone.id, kept.id]))
                     .values(created_at=old, status="closed", closed_at=old))
        conn.execute(update(handoff.ticket_messages).values(created_at=old))
    handoff.add_message(engine, kept.id, "resident", "vielä täällä", "fi")
    # web chat, SMS and console leftovers
    webchat.append(engine, "old-chat", "resident", {"text": "vanha"})
    webchat.append(engine, "live-chat", "resident", {"text": "uusi"})
    with engine.begin() as conn:
        conn.execute(update(webchat.webchat_messages)
                     .where(webchat.webchat_messages.c.sender_id == "old-chat")
                     .values(created_at=old))
    sms.remember_number(engine, "sms-old", "x", old)
    sms.remember_number(engine, "sms-stopped", "x", old)
    sms.update_number(engine, "sms-stopped", old, opted_out=True)
    sms.remember_number(engine, "sms-new", "x", recent)
    sms.receive(engine, "SM-old", "sms-old", "hei", 0, old)
    sms.receive(engine, "SM-new", "sms-new", "hei", 0, recent)
    sms.enqueue(engine, "sms-old", [("vastaus", 1, "GSM-7")], old)
    sms.enqueue(engine, "sms-new", [("vastaus", 1, "GSM-7")], recent)
    for client, moment in (("192.0.2.1", old), ("192.0.2.2", recent)):
        # a failed sign-in is counted under its pair and its client: two rows each
        signin.begin(engine, signin.Attempt.of("x@hel.fi", client, moment), moment)

    deleted = purge(engine, timedelta(days=30), now)

    assert deleted["trackers"] == 2  # both events of the quiet conversation, none of the other
    with engine.connect() as conn:
        assert {row.sender_id for row in conn.execute(select(events.c.sender_id))} == {"live-chat"}
    assert [t.id for t in handoff.queue(engine)] == [fresh.id]
    assert handoff.get_ticket(engine, gone.id) is None
    assert handoff.get_ticket(engine, kept.id) is not None
    assert deleted["tickets"] == 1 and deleted["ticket_messages"] == 1
    assert [entry["ticket_id"] for entry in handoff.audit_entries(engine)] == [None]
    assert [m.seq for m in webchat.messages_after(engine, "old-chat")] == []
    assert len(webchat.messages_after(engine, "live-chat")) == 1
    assert sms.number_state(engine, "sms-old") is None
    assert sms.number_state(engine, "sms-stopped").opted_out  # a STOP is kept
    assert sms.number_state(engine, "sms-new") is not None
    assert _count(engine, sms.sms_inbound) == 1 and _count(engine, sms.sms_outbox) == 1
    assert deleted["login_throttle"] == 2 and _count(engine, handoff.login_throttle) == 2
    assert purge(engine, timedelta(days=30), now)["tickets"] == 0  # nothing twice


def test_purge_command(tmp_path: Path, healthbot: Healthbot,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    done = healthbot("purge", "--older-than", "30d", env={"HEALTHBOT_VAR_DIR": str(tmp_path)})
    assert done.code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["older_than"] == "30d" and report["deleted"]["tickets"] == 0
    bad = healthbot("purge", "--older-than", "soon")
    assert bad.code == 2 and "not a period" in bad.stderr


def test_the_supervisor_runs_its_jobs_at_start_then_on_schedule(
        caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def flaky() -> dict[str, int]:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("database away")
        return {"tickets": len(runs)}

    job = PeriodicJob("retention purge", 3600, flaky)
    supervisor = Supervisor([], jobs=[job])
    caplog.set_level("INFO")
    supervisor._run_due_jobs()
    supervisor._run_due_jobs()  # not due yet
    assert len(runs) == 1
    assert "retention purge: {'tickets': 1}" in caplog.text
    job.due = 0
    supervisor._run_due_jobs()  # fails, is logged, and stays scheduled
    assert "retention purge failed" in caplog.text and job.due > 0


# ------------------------------------------------------------------ logs


@pytest.mark.parametrize(("text", "expected"), [
    ("call me on +358 40 123 4567 please", "call me on [phone] please"),
    ("numero 040 1234567.", "numero [phone]."),
    ("09 310 12345 on vaihde", "[phone] on vaihde"),
    ("from 00358401234567", "from [phone]"),
    ("write to maija.meikalainen@example.fi now", "write to [email] now"),
    ("hetu 131052-308T ja 010199A123B", "hetu [hetu] ja [hetu]"),
    ("Rasa server is up on port 5005 in 0.5 s", "Rasa server is up on port 5005 in 0.5 s"),
    ("2026-11-29 ticket 123456 sms-3f0c1234567890ab",
     "2026-11-29 ticket 123456 sms-3f0c1234567890ab"),
    ("112 and 116 117", "112 and 116 117"),
])
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_log_lines_are_json_with_personal_data_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel("INFO")
    try:
        logger.info("resident wrote %s", "soita 040 123 4567, maija@example.fi")
        try:
            raise ValueError("bad hetu 131052-308T")
        except ValueError:
            logger.exception("failed for %s", "+358401234567")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "resident wrote soita [phone], [email]"
    assert first["level"] == "INFO" and first["logger"] == "tests.logs"
    assert second["message"] == "failed for [phone]"
    assert "[hetu]" in second["exc"] and "131052" not in second["exc"]


def test_configure_sends_every_logger_through_one_json_handler() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure("DEBUG")
        assert len(root.handlers) == 1
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.DEBUG
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


# ------------------------------------------------------------------ metrics


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_messages_fallbacks_and_red_flags_are_counted_from_tracker_events() -> None:
    before = (_value("healthbot_messages_total", channel="sms", language="sv"),
              _value("healthbot_nlu_fallbacks_total", language="sv"),
              _value("healthbot_red_flags_total", kind="crisis"))
    count_event({"event": "user", "input_channel": "sms", "parse_data": {
        "intent": {"name": "nlu_fallback"}, "language": {"code": "sv"}}})
    count_event({"event": "user", "input_channel": "sms", "parse_data": {
        "intent": {"name": "emergency"}, "language": {"code": "sv"},
        "red_flag": {"kinds": ["crisis"]}}})
    count_event({"event": "bot", "text": "hej"})
    assert _value("healthbot_messages_total", channel="sms", language="sv") == before[0] + 2
    assert _value("healthbot_nlu_fallbacks_total", language="sv") == before[1] + 1
    assert _value("healthbot_red_flags_total", kind="crisis") == before[2] + 1


def test_queue_and_outbox_figures_come_from_the_database(engine: Engine) -> None:
    handoff.open_ticket(engine, "a", "rest", "fi", None, "urgent", {})
    handoff.open_ticket(engine, "b", "rest", "fi", None, None, {})
    sms.enqueue(engine, "sms-x", [("hei", 1, "GSM-7")], utcnow())
    later = utcnow() + timedelta(minutes=5)
    text = exposition(StoreCollector(engine, lambda: later)).decode()
    assert 'healthbot_handoff_queue{status="waiting"} 2.0' in text
    assert 'healthbot_sms_outbox{status="pending"} 1.0' in text
    wait = next(line for line in text.splitlines()
                if line.startswith("healthbot_handoff_longest_wait_seconds "))
    assert 299 <= float(wait.split()[1]) <= 301


def test_the_benchmark_reads_cpu_time_of_a_process_tree_from_proc() -> None:
    import os
    import time

    from bot.bench import tree_cpu_seconds

    before = tree_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert tree_cpu_seconds(os.getpid()) - before >= 0.25


@pytest.mark.integration
def test_the_benchmark_finds_each_server_part_by_its_topmost_process() -> None:
    """Rasa's CPU is counted from the process that runs `channels.rasa_server`, with
    its forked Sanic workers under it, not from one worker."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from bot.bench import _tree, server_parts

    forking = "import os, time; os.fork(); time.sleep(30)"
    rasa = subprocess.Popen([sys.executable, "-c", forking, "-m", "channels.rasa_server"],
                            start_new_session=True)
    actions = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                                "-m", "channels.action_server"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(_tree(rasa.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_tree(rasa.pid)) == 2
        assert server_parts(os.getpid()) == {"rasa": rasa.pid, "action_server": actions.pid}
    finally:
        for process in (rasa, actions):
            os.killpg(process.pid, signal.SIGKILL)  # the forked child too
            process.wait()
