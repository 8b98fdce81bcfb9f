"""Console sign-in throttling on a real database: the delay schedule, concurrent attempts
(SQLite and PostgreSQL), other people's failures, the per-client budget and resets."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.handoff import signin
from bot.handoff.accounts import add_nurse
from bot.storage import handoff as store

ANNA = "anna@hel.fi"
PASSWORD = "correct horse battery"
HOME, ATTACKER = "198.51.100.7", "203.0.113.5"
#: The start of a client window (they are 15 minutes long, counted from the epoch).
MORNING = datetime(2026, 12, 14, 8, 0, tzinfo=timezone.utc)


def attempt(email: str = ANNA, client: str = HOME, now: datetime = MORNING) -> signin.Attempt:
    return signin.Attempt.of(email, client, now)


def fail(engine: Engine, times: int, email: str = ANNA, client: str = HOME,
         now: datetime = MORNING) -> datetime:
    """Failed attempts, each as soon as the pair may try again; the time of the last."""
    for _ in range(times):
        while wait := signin.begin(engine, attempt(email, client, now), now):
            now += timedelta(seconds=wait)
        last = now
    return last


def counter(engine: Engine, key: str) -> store.Throttle | None:
    with engine.connect() as conn:
        row = conn.execute(select(store.login_throttle)
                           .where(store.login_throttle.c.key == key)).first()
    return store.Throttle(row.failures, row.last_failure_at, row.blocked_until) if row else None


def test_three_attempts_are_free_then_the_delay_doubles_up_to_fifteen_minutes() -> None:
    seconds = [signin.delay(failures).total_seconds() for failures in range(14)]
    assert seconds == [0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert signin.delay(10**9) == signin.MAX_DELAY


def test_attempts_during_the_delay_are_refused_unchecked_and_not_counted(engine: Engine) -> None:
    last = fail(engine, 3)
    assert last == MORNING  # three free attempts at once
    assert signin.begin(engine, attempt(), last) == 2
    soon = last + timedelta(seconds=1)
    assert signin.begin(engine, attempt(now=soon), soon) == 1
    later = last + timedelta(seconds=2)
    assert signin.begin(engine, attempt(now=later), later) == 0  # the 4th is checked
    assert signin.begin(engine, attempt(now=later), later) == 4  # and counts: 4 s now


def test_of_ten_concurrent_attempts_for_one_pair_three_go_ahead(any_engine: Engine) -> None:
    """On a SQLite file and on the real PostgreSQL (`any_engine`, tests/unit/conftest.py)."""
    start = threading.Barrier(10)
    waits: list[int] = []

    def try_once() -> None:
        start.wait()
        waits.append(signin.begin(any_engine, attempt(), MORNING))

    threads = [threading.Thread(target=try_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(waits) == [0] * 3 + [2] * 7
    assert counter(any_engine, attempt().pair).failures == 3
    assert counter(any_engine, attempt().client).failures == 3  # refusals are not counted


def test_other_clients_failures_never_delay_a_pair(engine: Engine) -> None:
    last = fail(engine, 8, client=ATTACKER)
    assert signin.begin(engine, attempt(client=ATTACKER, now=last), last) > 0
    assert signin.begin(engine, attempt(now=last), last) == 0  # anna at home, at once


def test_a_client_waits_for_the_next_window_after_fifty_failures(engine: Engine) -> None:
    for number in range(signin.CLIENT_LIMIT):
        assert signin.begin(engine, attempt(f"n{number}@hel.fi"), MORNING) == 0
    assert signin.begin(engine, attempt(), MORNING) == 15 * 60
    almost = MORNING + timedelta(minutes=14, seconds=59)
    assert signin.begin(engine, attempt(now=almost), almost) == 1
    assert signin.begin(engine, attempt(client=ATTACKER), MORNING) == 0  # only that client
    window = MORNING + signin.CLIENT_WINDOW
    assert signin.begin(engine, attempt(now=window), window) == 0


def test_successes_do_not_spend_the_clients_budget(engine: Engine) -> None:
    """A ward behind one proxy: every sign-in counts as a failure until it succeeds."""
    for number in range(signin.CLIENT_LIMIT + 10):
        signed_in = attempt(f"n{number}@hel.fi")
        assert signin.begin(engine, signed_in, MORNING) == 0
        signin.succeeded(engine, signed_in)
    assert counter(engine, attempt().client) is None
    assert counter(engine, attempt("n0@hel.fi").pair) is None


def test_a_success_starts_the_pair_over(engine: Engine) -> None:
    add_nurse(engine, ANNA, PASSWORD)
    for _ in range(3):
        assert signin.sign_in(engine, ANNA, "wrong password", HOME, MORNING) == signin.Outcome()
    refused = signin.sign_in(engine, ANNA, PASSWORD, HOME, MORNING)
    assert (refused.nurse, refused.wait, refused.wait_text) == (None, 2, "2 seconds")
    later = MORNING + timedelta(seconds=2)
    assert signin.sign_in(engine, " Anna@HEL.fi ", PASSWORD, HOME, later).nurse.email == ANNA
    assert counter(engine, attempt().pair) is None
    assert fail(engine, 3, now=later) == later  # three free attempts again
    actions = [entry["action"] for entry in store.audit_entries(engine)]
    assert actions == ["login_failed"] * 3 + ["login"]  # a refusal is not an attempt


def test_an_hour_without_failures_starts_the_pair_over(engine: Engine) -> None:
    last = fail(engine, 6)
    assert signin.begin(engine, attempt(now=last), last) == 16
    almost = last + timedelta(minutes=59)
    assert signin.begin(engine, attempt(now=almost), almost) == 0
    assert counter(engine, attempt().pair).failures == 7  # 59 minutes: still counted
    hour = almost + signin.FORGET_AFTER
    assert fail(engine, 3, now=hour) == hour  # three free attempts again
    assert counter(engine, attempt().pair).failures == 3


def test_unknown_addresses_and_oversized_input_are_answered_like_a_wrong_password(
        engine: Engine) -> None:
    add_nurse(engine, ANNA, PASSWORD)
    for email, password in (("nobody@hel.fi", PASSWORD), (ANNA, PASSWORD + "x" * 2000),
                            ("x" * 5000 + "@hel.fi", "p" * 100_000), ("", "")):
        assert signin.sign_in(engine, email, password, HOME, MORNING) == signin.Outcome()
    assert signin.Outcome(wait=900).wait_text == "15 minutes"
