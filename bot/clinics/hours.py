"""Opening hours of Helsinki health services, with Finnish public holidays and DST.

The weekly notation is the one used in `data/clinics/helsinki-health-services.csv`
("Mon-Thu 08:00-20:00; Fri 08:00-16:00", "24/7", ...). Times are wall-clock times
in Helsinki; every instant comparison is done in UTC, because Python compares two
datetimes that share a tzinfo by wall clock and would get the DST nights wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache

import holidays
import yaml

from bot.settings import PROJECT_ROOT, TIMEZONE

MINUTES_PER_DAY = 1440
DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALWAYS_OPEN_TEXT = "24/7"
#: Words that put a weekly rule on public holidays too ("Sat-Sun and public holidays").
PUBLIC_HOLIDAYS_TEXT = "public holidays"
#: How far `closes_at` follows back-to-back intervals before calling a unit always open.
_CLOSING_SEARCH_DAYS = 21

_DASH = r"\s*[-\u2013]\s*"
_NOTE = re.compile(r"^(?P<body>[^()]*?)\s*\((?P<note>[^()]*)\)\s*$")
_SEGMENT = re.compile(r"^(?P<days>[^\d]+?)\s+(?P<times>\d.*)$")
_DAY_RANGE = re.compile(rf"^(?P<first>[A-Za-z]+){_DASH}(?P<last>[A-Za-z]+)$")
_TIME_RANGE = re.compile(rf"^(?P<start>\S+?){_DASH}(?P<end>\S+)$")
_CLOCK = re.compile(r"^(?P<hour>\d{2}):(?P<minute>\d{2})$")


class HoursSyntaxError(ValueError):
    """Opening hours text that does not follow the notation; the message quotes the bad part."""


@dataclass(frozen=True)
class Interval:
    """One opening on one day, in minutes since local midnight; `end` may be 1440 (24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"invalid interval {self.start}-{self.end} (minutes since midnight)")

    def contains(self, minute: int) -> bool:
        """Closing time itself is outside: a unit closing at 16:00 is closed at 16:00."""
        return self.start <= minute < self.end

    def label(self) -> str:
        """As shown to a resident: "08:00–16:00"."""
        return f"{_clock(self.start)}\u2013{_clock(self.end)}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _check_day(intervals: tuple[Interval, ...]) -> None:
    """Sorted, non-overlapping intervals keep `hours_on` and the searches simple."""
    for before, after in zip(intervals, intervals[1:], strict=False):
        if after.start < before.end:
            raise ValueError(f"intervals {before.label()} and {after.label()} are out of "
                             "order or overlap")


@dataclass(frozen=True)
class WeeklyHours:
    """The regular week; `holiday_hours` is set only when the text names public holidays."""

    days: tuple[tuple[Interval, ...], ...]
    always_open: bool = False
    note: str = ""
    holiday_hours: tuple[Interval, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.days) != len(DAY_NAMES):
            raise ValueError(f"weekly hours need 7 days, got {len(self.days)}")
        for intervals in self.days:
            _check_day(intervals)
        if self.holiday_hours is not None:
            _check_day(self.holiday_hours)

    @classmethod
    def parse(cls, text: str) -> WeeklyHours:
        """Read the directory notation; anything unexpected fails loudly rather than guessing."""
        body, note = _split_note(text)
        if body == ALWAYS_OPEN_TEXT:
            return cls(days=((Interval(0, MINUTES_PER_DAY),),) * 7, always_open=True, note=note)
        week: list[tuple[Interval, ...] | None] = [None] * 7
        holiday_hours: tuple[Interval, ...] | None = None
        for segment in (part.strip() for part in body.split(";")):
            match = _SEGMENT.match(segment)
            if match is None:
                raise HoursSyntaxError("expected days followed by times like "
                                       f"'Mon-Fri 08:00-16:00', got {segment!r}")
            days, on_holidays = _parse_days(match["days"])
            intervals = parse_times(match["times"])
            for day in days:
                if week[day] is not None:
                    raise HoursSyntaxError(f"{DAY_NAMES[day]} is given twice in {text!r}")
                week[day] = intervals
            if on_holidays:
                if holiday_hours is not None:
                    raise HoursSyntaxError(f"public holidays are given twice in {text!r}")
                holiday_hours = intervals
        return cls(days=tuple(day or () for day in week), note=note, holiday_hours=holiday_hours)


def _split_note(text: str) -> tuple[str, str]:
    """A trailing "(...)" is free text for residents, not part of the schedule."""
    stripped = text.strip()
    if not stripped:
        raise HoursSyntaxError("opening hours are empty")
    match = _NOTE.match(stripped)
    body, note = (match["body"], match["note"].strip()) if match else (stripped, "")
    if not body:
        raise HoursSyntaxError(f"no opening hours before the note in {text!r}")
    if "(" in body or ")" in body:
        raise HoursSyntaxError(f"a note in parentheses may only come last: {text!r}")
    return body, note


def _parse_days(text: str) -> tuple[list[int], bool]:
    """Days named by "Mon-Fri", "Sat", "Sat,Sun", optionally "... and public holidays"."""
    days: list[int] = []
    on_holidays = False
    for item in (part.strip() for part in re.split(r",|\s+and\s+", text)):
        if item.lower() == PUBLIC_HOLIDAYS_TEXT:
            on_holidays = True
            continue
        match = _DAY_RANGE.match(item)
        if match is None:
            days.append(_day_index(item))
            continue
        first, last = _day_index(match["first"]), _day_index(match["last"])
        if last < first:
            raise HoursSyntaxError(f"day range {item!r} runs backwards; write it from Mon to Sun")
        days.extend(range(first, last + 1))
    return days, on_holidays


def _day_index(name: str) -> int:
    for index, day in enumerate(DAY_NAMES):
        if name.lower() == day.lower():
            return index
    raise HoursSyntaxError(f"unknown day {name!r}; use {', '.join(DAY_NAMES)}")


def parse_times(text: str) -> tuple[Interval, ...]:
    """"08:00-12:00, 13:00-16:00"; overnight intervals are not part of the notation."""
    intervals: list[Interval] = []
    for item in (part.strip() for part in text.split(",")):
        match = _TIME_RANGE.match(item)
        if match is None:
            raise HoursSyntaxError(f"expected a time range like '08:00-16:00', got {item!r}")
        start, end = _minute(match["start"], item), _minute(match["end"], item)
        if start == MINUTES_PER_DAY:
            raise HoursSyntaxError(f"24:00 can only end an interval, in {item!r}")
        if end <= start:
            raise HoursSyntaxError(f"closing time must be after opening time in {item!r}")
        intervals.append(Interval(start, end))
    intervals.sort(key=lambda interval: interval.start)
    try:
        _check_day(tuple(intervals))
    except ValueError as exc:
        raise HoursSyntaxError(f"{exc} in {text!r}") from exc
    return tuple(intervals)


def _minute(clock: str, item: str) -> int:
    match = _CLOCK.match(clock)
    if match is None:
        raise HoursSyntaxError(f"expected a time like '08:00', got {clock!r} in {item!r}")
    hour, minute = int(match["hour"]), int(match["minute"])
    if minute > 59 or hour > 24 or (hour == 24 and minute > 0):
        raise HoursSyntaxError(f"{clock!r} is not a time of day, in {item!r}")
    return hour * 60 + minute


@dataclass(frozen=True)
class DatedException:
    """A one-off day (strike, renovation, special Saturday); empty `intervals` = closed."""

    day: date
    intervals: tuple[Interval, ...]
    note: str = ""

    def __post_init__(self) -> None:
        _check_day(self.intervals)


#: `holidays` locale per resident language; the package otherwise follows the server's LANG.
_HOLIDAY_LOCALES = {"fi": "fi", "sv": "sv_FI", "en": "en_US", "uk": "uk"}


@cache
def _finnish_holidays(year: int, locale: str = "en_US") -> holidays.HolidayBase:
    return holidays.Finland(years=year, language=locale)


#: Names of the days for languages the package does not name them in, by English name.
HOLIDAY_NAMES_FILE = PROJECT_ROOT / "data" / "clinics" / "holiday_names.yml"


@cache
def _written_holiday_names() -> dict[str, dict[str, str]]:
    return yaml.safe_load(HOLIDAY_NAMES_FILE.read_text(encoding="utf-8")) or {}


def holiday_name(day: date, language: str = "en") -> str | None:
    """Every day holidays.Finland lists, Christmas Eve and Midsummer Eve included, named
    in `language`: by the package where it has the language, else from our own list,
    else in English."""
    if language in _HOLIDAY_LOCALES:
        return _finnish_holidays(day.year, _HOLIDAY_LOCALES[language]).get(day)
    english = _finnish_holidays(day.year).get(day)
    if english is None:
        return None
    return _written_holiday_names().get(language, {}).get(english, english)


def _local(day: date, minute: int) -> datetime:
    """Wall-clock time in Helsinki, normalised so the UTC offset is the one really in force."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    moment = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=TIMEZONE)
    return moment.astimezone(timezone.utc).astimezone(TIMEZONE)


def _helsinki(at: datetime) -> datetime:
    """A naive time would silently be read as server-local time, so it is refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a time zone aware datetime is required, got {at.isoformat()}")
    return at.astimezone(timezone.utc).astimezone(TIMEZONE)


@dataclass(frozen=True)
class OpeningCalendar:
    """Weekly hours plus Finnish public holidays and dated exceptions: what is open when."""

    weekly: WeeklyHours
    closed_on_holidays: bool
    exceptions: tuple[DatedException, ...] = ()

    def __post_init__(self) -> None:
        seen: set[date] = set()
        for exception in self.exceptions:
            if exception.day in seen:
                raise ValueError(f"two exceptions for {exception.day.isoformat()}")
            seen.add(exception.day)

    def _exception(self, day: date) -> DatedException | None:
        return next((exception for exception in self.exceptions if exception.day == day), None)

    def _closed_by_holiday(self, day: date) -> str | None:
        """Holiday name when the holiday rule closes `day`; 24/7 units never close."""
        weekly = self.weekly
        if not self.closed_on_holidays or weekly.always_open or weekly.holiday_hours is not None:
            return None
        return holiday_name(day)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Exceptions win, then holidays (own holiday hours, or closed), then the week."""
        exception = self._exception(day)
        if exception is not None:
            return exception.intervals
        if self.weekly.holiday_hours is not None and holiday_name(day) is not None:
            return self.weekly.holiday_hours
        if self._closed_by_holiday(day) is not None:
            return ()
        return self.weekly.days[day.weekday()]

    def closure_reason(self, day: date) -> str | None:
        """Why a resident finds the door shut on `day` although it is not just the weekly rule."""
        exception = self._exception(day)
        if exception is not None:
            return None if exception.intervals else exception.note or "Exceptionally closed"
        return self._closed_by_holiday(day)

    def is_open(self, at: datetime) -> bool:
        """Judged on the Helsinki wall clock, whatever zone `at` was given in."""
        local = _helsinki(at)
        minute = local.hour * 60 + local.minute
        return any(interval.contains(minute) for interval in self.hours_on(local.date()))

    def closes_at(self, at: datetime) -> datetime | None:
        """End of the opening `at` falls in, following back-to-back intervals (also past
        midnight); None when closed, or when open without a break for the whole search."""
        if self.weekly.always_open:
            return None
        local = _helsinki(at)
        day, minute = local.date(), local.hour * 60 + local.minute
        current = next((iv for iv in self.hours_on(day) if iv.contains(minute)), None)
        if current is None:
            return None
        last_day = day + timedelta(days=_CLOSING_SEARCH_DAYS)
        while day <= last_day:
            end = current.end
            if end == MINUTES_PER_DAY:
                day, end = day + timedelta(days=1), 0
            following = next((iv for iv in self.hours_on(day) if iv.start == end), None)
            if following is None:
                return _local(day, end)
            current = following
        return None

    def next_opening(self, at: datetime, horizon_days: int = 21) -> datetime | None:
        """When the doors next open after `at`: after the current opening when open now."""
        if self.weekly.always_open:
            return None
        local = _helsinki(at)
        after = self.closes_at(local) if self.is_open(local) else local
        if after is None:
            return None
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for interval in self.hours_on(day):
                start = _local(day, interval.start)
                if start.astimezone(timezone.utc) > after.astimezone(timezone.utc):
                    return start
        return None
