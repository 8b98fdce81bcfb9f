"""Token buckets kept in process memory, one per key (a client address, a conversation).

A bucket holds up to `burst` tokens and gains one every `refill_seconds`; each request
spends one. Limits are therefore per server process: with several processes a client
gets that many times the allowance, which is still a limit, and needs no shared store.
A bucket untouched long enough to be full again is the same as no bucket, so it is
dropped: memory follows the clients of the last few minutes, not all clients ever.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


class RateLimited(Exception):
    """Over a limit: `retry_after` is the whole seconds to wait (for `Retry-After`)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """`burst` requests at once, then one more every `refill_seconds`."""

    burst: int
    refill_seconds: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.refill_seconds <= 0:
            raise ValueError(f"a limit needs burst >= 1 and refill_seconds > 0, got {self}")

    @property
    def full_after(self) -> float:
        """Seconds in which an empty bucket fills up again."""
        return self.burst * self.refill_seconds


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Per-key token buckets with an injectable clock (monotonic seconds) and at most
    `max_keys` buckets; past that the least recently used is forgotten, which only ever
    errs towards letting a request through."""

    def __init__(self, limit: Limit, clock: Clock = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> int:
        """Spend one of `key`'s tokens: 0 when it had one, else the whole seconds until
        it will have one (at least 1, for a `Retry-After` header)."""
        now = self._clock()
        self._evict_idle(now)
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.limit.burst), now)
        bucket.tokens = min(float(self.limit.burst),
                            bucket.tokens + (now - bucket.updated) / self.limit.refill_seconds)
        bucket.updated = now
        self._buckets[key] = bucket  # the most recently used go last
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        wait = (1.0 - bucket.tokens) * self.limit.refill_seconds
        return max(1, math.ceil(round(wait, 6)))  # no 3 s for 2.0000000001 s

    def check(self, key: str, exempt: Callable[[], bool] = lambda: False) -> None:
        """`take`, raising RateLimited past the limit unless `exempt()` says this request
        must go on all the same (asked only then, so it may be costly)."""
        wait = self.take(key)
        if wait and not exempt():
            raise RateLimited(wait)

    def _evict_idle(self, now: float) -> None:
        """Drop buckets untouched long enough to be full; they are in least recently
        used order, so the sweep stops at the first one still in use."""
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if now - oldest.updated < self.limit.full_after:
                return
            del self._buckets[key]
