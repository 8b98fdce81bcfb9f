"""Opening hours as a resident meets them: weekdays, holidays, DST nights, exceptions, typos."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.clinics.hours import (
    DatedException,
    HoursSyntaxError,
    Interval,
    OpeningCalendar,
    WeeklyHours,
)
from bot.settings import TIMEZONE

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / "data" / "clinics" / "helsinki-health-services.csv"

STATION = OpeningCalendar(WeeklyHours.parse("Mon-Fri 08:00-16:00"), closed_on_holidays=True)
KALASATAMA = OpeningCalendar(
    WeeklyHours.parse("Mon-Thu 08:00-20:00; Fri 08:00-16:00"), closed_on_holidays=True
)
#: closed_on_holidays is set on purpose: a 24/7 unit must stay open anyway.
EMERGENCY = OpeningCalendar(WeeklyHours.parse("24/7"), closed_on_holidays=True)
DENTAL_EMERGENCY = OpeningCalendar(
    WeeklyHours.parse("Mon-Fri 14:00-21:00; Sat-Sun and public holidays 08:00-21:00"),
    closed_on_holidays=False,
)
LUNCH_BREAK = OpeningCalendar(
    WeeklyHours.parse("Mon-Fri 08:00-12:00, 13:00-16:00"), closed_on_holidays=True
)
LATE_FRIDAY = OpeningCalendar(
    WeeklyHours.parse("Fri 20:00-24:00; Sat 00:00-02:00"), closed_on_holidays=False
)
WITH_EXCEPTIONS = OpeningCalendar(
    STATION.weekly,
    closed_on_holidays=True,
    exceptions=(
        DatedException(date(2026, 11, 10), (), note="Closed for staff training"),
        DatedException(date(2026, 11, 14), (Interval(600, 720),), note="Flu vaccinations"),
        DatedException(date(2026, 12, 24), (Interval(600, 720),), note="Christmas Eve clinic"),
    ),
)


def hel(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TIMEZONE, fold=fold)


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        # Tuesday 10 Nov 2026, an ordinary weekday
        (STATION, hel(2026, 11, 10, 7, 59), False),
        (STATION, hel(2026, 11, 10, 8, 0), True),
        (STATION, hel(2026, 11, 10, 15, 59), True),
        (STATION, hel(2026, 11, 10, 16, 0), False),
        (STATION, hel(2026, 11, 10, 20, 0), False),
        # the same instant given in UTC
        (STATION, datetime(2026, 11, 10, 6, 30, tzinfo=timezone.utc), True),
        # weekend
        (STATION, hel(2026, 11, 14, 10, 0), False),
        (STATION, hel(2026, 11, 15, 10, 0), False),
        # Christmas 2026 (Thu-Sat), Epiphany 2027 (Wed), Midsummer 2027 (Fri-Sat)
        (STATION, hel(2026, 12, 23, 10, 0), True),
        (STATION, hel(2026, 12, 24, 10, 0), False),
        (STATION, hel(2026, 12, 25, 10, 0), False),
        (STATION, hel(2026, 12, 26, 10, 0), False),
        (STATION, hel(2026, 12, 28, 10, 0), True),
        (STATION, hel(2027, 1, 6, 10, 0), False),
        (STATION, hel(2027, 1, 7, 10, 0), True),
        (STATION, hel(2027, 6, 24, 10, 0), True),
        (STATION, hel(2027, 6, 25, 10, 0), False),
        (STATION, hel(2027, 6, 26, 10, 0), False),
        # evening hours Mon-Thu only
        (KALASATAMA, hel(2026, 11, 12, 19, 30), True),
        (KALASATAMA, hel(2026, 11, 12, 20, 0), False),
        (KALASATAMA, hel(2026, 11, 13, 15, 30), True),
        (KALASATAMA, hel(2026, 11, 13, 17, 0), False),
        # 24/7 never closes, not even on Christmas night
        (EMERGENCY, hel(2026, 12, 25, 3, 0), True),
        (EMERGENCY, hel(2026, 12, 24, 23, 59), True),
        # emergency dentist: weekend hours on public holidays, afternoons on weekdays
        (DENTAL_EMERGENCY, hel(2026, 12, 25, 9, 0), True),
        (DENTAL_EMERGENCY, hel(2026, 12, 23, 9, 0), False),
        (DENTAL_EMERGENCY, hel(2026, 12, 23, 15, 0), True),
        # lunch break
        (LUNCH_BREAK, hel(2026, 11, 10, 12, 30), False),
        (LUNCH_BREAK, hel(2026, 11, 10, 13, 0), True),
    ],
)
def test_is_open(calendar: OpeningCalendar, at: datetime, expected: bool) -> None:
    assert calendar.is_open(at) is expected


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (STATION, hel(2026, 11, 10, 10, 0), "2026-11-10T16:00:00+02:00"),
        (STATION, hel(2026, 11, 10, 17, 0), None),
        (STATION, hel(2026, 12, 25, 10, 0), None),
        (KALASATAMA, hel(2026, 11, 12, 19, 30), "2026-11-12T20:00:00+02:00"),
        (KALASATAMA, hel(2026, 11, 13, 9, 0), "2026-11-13T16:00:00+02:00"),
        (EMERGENCY, hel(2026, 12, 25, 3, 0), None),
        (DENTAL_EMERGENCY, hel(2026, 12, 25, 9, 0), "2026-12-25T21:00:00+02:00"),
        (LUNCH_BREAK, hel(2026, 11, 10, 9, 0), "2026-11-10T12:00:00+02:00"),
        # open past midnight: the resident is told 02:00, not "24:00"
        (LATE_FRIDAY, hel(2026, 11, 13, 23, 0), "2026-11-14T02:00:00+02:00"),
    ],
)
def test_closes_at(calendar: OpeningCalendar, at: datetime, expected: str | None) -> None:
    closing = calendar.closes_at(at)
    assert (closing.isoformat() if closing else None) == expected


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (STATION, hel(2026, 11, 10, 7, 0), "2026-11-10T08:00:00+02:00"),
        (STATION, hel(2026, 11, 10, 10, 0), "2026-11-11T08:00:00+02:00"),
        (STATION, hel(2026, 11, 13, 16, 0), "2026-11-16T08:00:00+02:00"),
        (STATION, hel(2026, 11, 14, 10, 0), "2026-11-16T08:00:00+02:00"),
        (STATION, hel(2026, 12, 23, 17, 0), "2026-12-28T08:00:00+02:00"),
        (STATION, hel(2026, 12, 24, 10, 0), "2026-12-28T08:00:00+02:00"),
        (STATION, hel(2026, 12, 25, 10, 0), "2026-12-28T08:00:00+02:00"),
        (STATION, hel(2026, 12, 26, 10, 0), "2026-12-28T08:00:00+02:00"),
        (STATION, hel(2027, 1, 5, 17, 0), "2027-01-07T08:00:00+02:00"),
        (STATION, hel(2027, 6, 24, 17, 0), "2027-06-28T08:00:00+03:00"),
        (KALASATAMA, hel(2026, 11, 12, 19, 30), "2026-11-13T08:00:00+02:00"),
        (LUNCH_BREAK, hel(2026, 11, 10, 12, 15), "2026-11-10T13:00:00+02:00"),
        (LATE_FRIDAY, hel(2026, 11, 13, 23, 0), "2026-11-20T20:00:00+02:00"),
        (EMERGENCY, hel(2026, 12, 25, 3, 0), None),
    ],
)
def test_next_opening(calendar: OpeningCalendar, at: datetime, expected: str | None) -> None:
    opening = calendar.next_opening(at)
    assert (opening.isoformat() if opening else None) == expected


def test_next_opening_gives_up_after_the_horizon() -> None:
    friday_evening = hel(2026, 11, 13, 17, 0)
    assert STATION.next_opening(friday_evening, horizon_days=2) is None
    assert STATION.next_opening(friday_evening, horizon_days=3) == hel(2026, 11, 16, 8, 0)


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (STATION, date(2026, 12, 24), "Christmas Eve"),
        (STATION, date(2026, 12, 25), "Christmas Day"),
        (STATION, date(2026, 12, 26), "Second Day of Christmas"),
        (STATION, date(2027, 1, 6), "Epiphany"),
        (STATION, date(2027, 6, 25), "Midsummer Eve"),
        (STATION, date(2027, 6, 26), "Midsummer Day"),
        (STATION, date(2026, 11, 10), None),
        (STATION, date(2026, 11, 14), None),  # an ordinary Saturday needs no explanation
        (EMERGENCY, date(2026, 12, 25), None),
        (DENTAL_EMERGENCY, date(2026, 12, 25), None),
        (WITH_EXCEPTIONS, date(2026, 11, 10), "Closed for staff training"),
        (WITH_EXCEPTIONS, date(2026, 11, 14), None),
        (WITH_EXCEPTIONS, date(2026, 12, 24), None),
    ],
)
def test_closure_reason(calendar: OpeningCalendar, day: date, expected: str | None) -> None:
    assert calendar.closure_reason(day) == expected


def test_holiday_names_do_not_follow_the_server_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "fi_FI.UTF-8")
    assert STATION.closure_reason(date(2028, 6, 23)) == "Midsummer Eve"


def test_dated_exceptions_win_over_the_week_and_holidays() -> None:
    assert not WITH_EXCEPTIONS.is_open(hel(2026, 11, 10, 10, 0))
    assert WITH_EXCEPTIONS.next_opening(hel(2026, 11, 10, 10, 0)) == hel(2026, 11, 11, 8, 0)
    assert WITH_EXCEPTIONS.is_open(hel(2026, 11, 14, 11, 0))
    assert not WITH_EXCEPTIONS.is_open(hel(2026, 11, 14, 12, 0))
    assert WITH_EXCEPTIONS.closes_at(hel(2026, 11, 14, 11, 0)) == hel(2026, 11, 14, 12, 0)
    assert WITH_EXCEPTIONS.next_opening(hel(2026, 11, 14, 9, 0)) == hel(2026, 11, 14, 10, 0)
    assert WITH_EXCEPTIONS.is_open(hel(2026, 12, 24, 11, 0))
    assert WITH_EXCEPTIONS.next_opening(hel(2026, 12, 24, 13, 0)) == hel(2026, 12, 28, 8, 0)


def test_two_exceptions_for_one_day_are_refused() -> None:
    with pytest.raises(ValueError, match="2026-11-10"):
        OpeningCalendar(STATION.weekly, True, (DatedException(date(2026, 11, 10), ()),) * 2)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone aware"):
        STATION.is_open(datetime(2026, 11, 10, 10, 0))


def every_half_hour(day: date) -> list[datetime]:
    """All real instants of a Helsinki day, including both passes through a repeated hour."""
    start = hel(day.year, day.month, day.day, 0).astimezone(timezone.utc)
    end = hel(day.year, day.month, day.day, 23, 59).astimezone(timezone.utc)
    steps = int((end - start) / timedelta(minutes=30)) + 1
    return [start + step * timedelta(minutes=30) for step in range(steps)]


@pytest.mark.parametrize(
    ("sunday", "instants"),
    [(date(2026, 3, 29), 46), (date(2026, 10, 25), 50)],
    ids=["spring-forward", "fall-back"],
)
def test_dst_sunday_night(sunday: date, instants: int) -> None:
    moments = every_half_hour(sunday)
    assert len(moments) == instants  # 23 h and 25 h days
    assert all(EMERGENCY.is_open(moment) for moment in moments)
    assert not any(STATION.is_open(moment) for moment in moments)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime.fromisoformat("2026-10-25T02:30:00+03:00"), "2026-10-26T08:00:00+02:00"),
        (hel(2026, 10, 25, 3, 30, fold=0), "2026-10-26T08:00:00+02:00"),
        (hel(2026, 10, 25, 3, 30, fold=1), "2026-10-26T08:00:00+02:00"),
        (datetime.fromisoformat("2026-03-29T02:30:00+02:00"), "2026-03-30T08:00:00+03:00"),
        (datetime.fromisoformat("2026-10-23T16:30:00+03:00"), "2026-10-26T08:00:00+02:00"),
    ],
)
def test_next_opening_across_dst(at: datetime, expected: str) -> None:
    opening = STATION.next_opening(at)
    assert opening is not None and opening.isoformat() == expected


def test_night_opening_across_fall_back_lasts_an_extra_hour() -> None:
    night = OpeningCalendar(
        STATION.weekly, True, (DatedException(date(2026, 10, 25), (Interval(120, 300),)),)
    )
    for at in (hel(2026, 10, 25, 3, 30, fold=0), hel(2026, 10, 25, 3, 30, fold=1)):
        assert night.is_open(at)
        closing = night.closes_at(at)
        assert closing is not None and closing.isoformat() == "2026-10-25T05:00:00+02:00"
    opening = night.next_opening(hel(2026, 10, 25, 1, 0))
    assert opening is not None and opening.isoformat() == "2026-10-25T02:00:00+03:00"
    # subtracting two Helsinki datetimes would compare wall clocks and say 3 h
    assert closing.astimezone(timezone.utc) - opening.astimezone(timezone.utc) == timedelta(hours=4)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (hel(2026, 10, 25, 3, 30, fold=0), "2026-10-25T03:45:00+03:00"),
        # the second 03:30 comes after the only 03:45 of the night: no past time is offered
        (hel(2026, 10, 25, 3, 30, fold=1), "2026-10-26T08:00:00+02:00"),
    ],
)
def test_repeated_hour_is_told_apart(at: datetime, expected: str) -> None:
    calendar = OpeningCalendar(
        STATION.weekly, True, (DatedException(date(2026, 10, 25), (Interval(225, 240),)),)
    )
    opening = calendar.next_opening(at)
    assert opening is not None and opening.isoformat() == expected


def directory_rows() -> list[dict[str, str]]:
    with DIRECTORY.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("row", directory_rows(), ids=lambda row: row["id"])
def test_every_directory_entry_parses(row: dict[str, str]) -> None:
    weekly = WeeklyHours.parse(row["weekly_hours"])
    assert weekly.always_open or any(weekly.days), row["weekly_hours"]


def labels(weekly: WeeklyHours) -> list[tuple[str, ...]]:
    return [tuple(interval.label() for interval in day) for day in weekly.days]


NINE_TO_FIVE = ("09:00\u201317:00",)


@pytest.mark.parametrize(
    ("text", "week", "note"),
    [
        ("Mon-Fri 08:00-16:00", [("08:00\u201316:00",)] * 5 + [()] * 2, ""),
        (
            "Mon-Thu 08:00-20:00; Fri 08:00-16:00",
            [("08:00\u201320:00",)] * 4 + [("08:00\u201316:00",), (), ()],
            "",
        ),
        (
            "Mon-Thu 07:00-18:00; Fri 07:00-15:00 (urgent dental weekdays 07:00-14:00)",
            [("07:00\u201318:00",)] * 4 + [("07:00\u201315:00",), (), ()],
            "urgent dental weekdays 07:00-14:00",
        ),
        ("Sat,Sun 09:00-17:00", [()] * 5 + [NINE_TO_FIVE] * 2, ""),
        ("Sat, Sun 09:00-17:00", [()] * 5 + [NINE_TO_FIVE] * 2, ""),
        ("Mon, Wed-Thu 09:00-17:00", [NINE_TO_FIVE, (), NINE_TO_FIVE, NINE_TO_FIVE] + [()] * 3, ""),
        (
            "Mon-Fri 13:00-16:00, 08:00-12:00",
            [("08:00\u201312:00", "13:00\u201316:00")] * 5 + [()] * 2,
            "",
        ),
        ("Sun 20:00-24:00", [()] * 6 + [("20:00\u201324:00",)], ""),
        ("24/7", [("00:00\u201324:00",)] * 7, ""),
    ],
)
def test_parse(text: str, week: list[tuple[str, ...]], note: str) -> None:
    weekly = WeeklyHours.parse(text)
    assert labels(weekly) == week
    assert weekly.note == note
    assert weekly.always_open is (text == "24/7")


def test_public_holidays_in_the_notation_get_their_own_hours() -> None:
    weekly = DENTAL_EMERGENCY.weekly
    assert weekly.holiday_hours == (Interval(480, 1260),)
    assert labels(weekly)[5:] == [("08:00\u201321:00",)] * 2
    assert STATION.weekly.holiday_hours is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon-Fri 8-16", "'8-16'"),
        ("Funday 08:00-16:00", "unknown day 'Funday'"),
        ("Mon-Fri 16:00-08:00", "closing time must be after opening time in '16:00-08:00'"),
        ("", "empty"),
        ("   ", "empty"),
        ("Mon-Fri 08:00-25:00", "'25:00' is not a time of day"),
        ("Mon-Fri 08:60-16:00", "'08:60' is not a time of day"),
        ("Mon-Fri", "got 'Mon-Fri'"),
        ("Fri-Mon 08:00-16:00", "'Fri-Mon' runs backwards"),
        ("Mon-Fri 08:00-16:00; Fri 10:00-12:00", "Fri is given twice"),
        ("Mon-Fri 08:00-12:00, 11:00-16:00", "overlap"),
        ("Mon-Fri 24:00-24:00", "24:00 can only end"),
        ("(closed for renovation)", "no opening hours"),
        ("Mon-Fri (mornings) 08:00-12:00", "only come last"),
    ],
)
def test_syntax_errors_quote_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(HoursSyntaxError) as caught:
        WeeklyHours.parse(text)
    assert message in str(caught.value)
