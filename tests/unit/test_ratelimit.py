"""The in-memory token buckets behind the web chat's rate limits, on a fake clock."""

from __future__ import annotations

import pytest

from bot.ratelimit import Limit, RateLimited, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_burst_then_one_per_refill(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=3, refill_seconds=2.0), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 2
    clock.now += 1.5
    assert limiter.take("a") == 1  # half a second to go, rounded up to a whole one
    clock.now += 0.5
    assert limiter.take("a") == 0
    assert limiter.take("a") == 2


def test_a_refused_request_spends_nothing(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=1, refill_seconds=10.0), clock=clock)
    assert limiter.take("a") == 0
    for _ in range(5):
        assert limiter.take("a") == 10
    clock.now += 10
    assert limiter.take("a") == 0


def test_the_bucket_never_holds_more_than_the_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=2, refill_seconds=1.0), clock=clock)
    limiter.take("a")
    clock.now += 3600  # a long pause earns no more than a full bucket
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 1]


def test_keys_are_counted_apart(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=2, refill_seconds=60.0), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 60]
    assert [limiter.take("b") for _ in range(2)] == [0, 0]
    assert limiter.take("a") == 60


def test_retry_after_is_a_whole_number_of_seconds(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=30, refill_seconds=600 / 30), clock=clock)
    for _ in range(30):
        assert limiter.take("client") == 0
    wait = limiter.take("client")
    assert wait == 20 and isinstance(wait, int)
    clock.now += 19.2
    assert limiter.take("client") == 1


def test_idle_buckets_are_dropped(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=2, refill_seconds=5.0), clock=clock)
    limiter.take("old")
    clock.now += 6
    limiter.take("recent")
    assert len(limiter) == 2
    clock.now += 4  # "old" untouched for 10 s: full again, so forgotten
    limiter.take("new")
    assert len(limiter) == 2
    clock.now += 10
    limiter.take("new")
    assert len(limiter) == 1


def test_memory_is_bounded_by_max_keys(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=1, refill_seconds=3600.0), clock=clock, max_keys=3)
    for key in "abcde":
        limiter.take(key)
    assert len(limiter) == 3
    assert limiter.take("e") == 3600  # the most recent are kept
    assert limiter.take("a") == 0  # the least recently used was forgotten


def test_check_raises_unless_exempt(clock: FakeClock) -> None:
    limiter = RateLimiter(Limit(burst=1, refill_seconds=4.0), clock=clock)
    asked: list[str] = []

    def exempt() -> bool:
        asked.append("asked")
        return True

    limiter.check("a", exempt=exempt)
    assert asked == []  # within the limit the exemption costs nothing
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 4
    limiter.check("a", exempt=exempt)
    assert asked == ["asked"]


@pytest.mark.parametrize(("burst", "refill"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_a_limit_must_allow_something(burst: int, refill: float) -> None:
    with pytest.raises(ValueError):
        Limit(burst, refill)
