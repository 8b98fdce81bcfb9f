"""Signing in to the nurse console, and how failed attempts slow down the next ones.

Failures are counted per pair of e-mail address and client address, so a nurse is
never kept out by other people's failures: three attempts are free, then each failure
doubles the wait before the pair's next attempt is checked (2 s, 4 s, 8 s ... at most
15 minutes); an hour without a failure, or a success, starts the pair over. A client
address also has a budget: after 50 failures in a 15-minute window it waits for the
next window. An attempt is counted as a failure before its password is checked, in
the same transaction that checks the counters, so concurrent attempts cannot all pass
on one count; a success takes its failure back.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine

from bot.handoff.accounts import authenticate
from bot.storage import handoff as store
from bot.storage.db import utcnow

logger = logging.getLogger(__name__)

FREE_ATTEMPTS = 3
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)
#: A pair's failures are forgotten after this long without one.
FORGET_AFTER = timedelta(hours=1)
#: Failures one client address may have in one window (a whole ward may share it).
CLIENT_LIMIT = 50
CLIENT_WINDOW = timedelta(minutes=15)
MAX_EMAIL_CHARS = 254
#: Hashing megabytes of password would be work for an attacker: longer ones fail.
MAX_PASSWORD_CHARS = 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def delay(failures: int) -> timedelta:
    """How long a pair waits after this many failures before its next attempt is checked."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    # past this many doublings the cap holds anyway: no huge powers of two
    doublings = min(failures - FREE_ATTEMPTS, (MAX_DELAY // FIRST_DELAY).bit_length())
    return min(FIRST_DELAY * 2 ** doublings, MAX_DELAY)


def _digest(*parts: str) -> str:
    """Keys hold no e-mail or IP address in clear, and are short whatever a proxy forwards."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """The counters one sign-in attempt is checked and counted under."""

    pair: str
    client: str
    #: When the client's window ends: its counter is the window's.
    window_end: datetime

    @classmethod
    def of(cls, email: str, client: str, now: datetime) -> Attempt:
        window = (now - _EPOCH) // CLIENT_WINDOW
        return cls(f"pair:{_digest(email, client)}", f"client:{_digest(client)}:{window}",
                   _EPOCH + (window + 1) * CLIENT_WINDOW)

    @property
    def keys(self) -> tuple[str, str]:
        return self.pair, self.client


def admit(counters: dict[str, store.Throttle], attempt: Attempt,
          now: datetime) -> tuple[int, dict[str, store.Throttle]]:
    """Seconds the attempt must wait (0: check the password), and the counters to store:
    an attempt that goes ahead is already counted as a failure."""
    pair, client = counters[attempt.pair], counters[attempt.client]
    if pair.last_failure_at is None or now - pair.last_failure_at >= FORGET_AFTER:
        pair = store.Throttle()
    blocked = [c.blocked_until for c in (pair, client) if c.blocked_until and c.blocked_until > now]
    if blocked:
        return math.ceil((max(blocked) - now).total_seconds()), {}
    pair_failures, client_failures = pair.failures + 1, client.failures + 1
    pair_wait = delay(pair_failures)
    return 0, {
        attempt.pair: store.Throttle(pair_failures, now, now + pair_wait if pair_wait else None),
        attempt.client: store.Throttle(client_failures, now, attempt.window_end
                                       if client_failures >= CLIENT_LIMIT else None),
    }


def take_back(counters: dict[str, store.Throttle],
              attempt: Attempt) -> tuple[None, dict[str, store.Throttle]]:
    """After a success the pair starts over, and the client loses the failure counted in
    advance (with the block, when that failure was the one that reached the limit)."""
    client = counters[attempt.client]
    failures = max(client.failures - 1, 0)
    return None, {attempt.pair: store.Throttle(), attempt.client: replace(
        client, failures=failures,
        blocked_until=client.blocked_until if failures >= CLIENT_LIMIT else None)}


def begin(engine: Engine, attempt: Attempt, now: datetime) -> int:
    """Check and count an attempt as one atomic step: seconds to wait, or 0 to go ahead."""
    return store.decide_throttles(engine, attempt.keys,
                                  lambda counters: admit(counters, attempt, now))


def succeeded(engine: Engine, attempt: Attempt) -> None:
    store.decide_throttles(engine, attempt.keys, lambda counters: take_back(counters, attempt))


@dataclass(frozen=True)
class Outcome:
    """The nurse signed in, or None; `wait` seconds when the attempt was not checked."""

    nurse: store.Nurse | None = None
    wait: int = 0

    @property
    def wait_text(self) -> str:
        """"2 seconds" or "15 minutes", as the sign-in page says it."""
        if self.wait < 120:
            return f"{self.wait} second{'' if self.wait == 1 else 's'}"
        return f"{math.ceil(self.wait / 60)} minutes"


def sign_in(engine: Engine, email: str, password: str, client: str,
            now: datetime | None = None) -> Outcome:
    """Check the credentials unless the pair or the client must wait; audited. An
    unknown address is answered like a wrong password, after the same hashing work."""
    email = email.strip().lower()[:MAX_EMAIL_CHARS]
    if len(password) > MAX_PASSWORD_CHARS:
        password = ""
    now = now or utcnow()
    attempt = Attempt.of(email, client, now)
    wait = begin(engine, attempt, now)
    if wait:
        logger.warning("console sign-in refused for %d s: too many failed attempts", wait)
        return Outcome(wait=wait)
    nurse = authenticate(engine, email, password) if email and password else None
    if nurse is None:
        store.audit(engine, None, "login_failed")
        return Outcome()
    succeeded(engine, attempt)
    store.audit(engine, nurse.id, "login")
    return Outcome(nurse)
