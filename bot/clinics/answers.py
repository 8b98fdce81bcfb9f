"""What the assistant says about one care unit at one moment, as response-template values.

The sentences live in `domain.yml` (per-language variations, reviewable without
Python); this module picks which responses apply and computes the values they
fill in: the unit's name and address in the resident's language, the phone
number as Finns write it, today's hours, and when it closes or next opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_datetime

from bot.clinics.directory import LANGUAGES as TEXT_LANGUAGES
from bot.clinics.directory import CareUnit, UnitText
from bot.clinics.hours import holiday_name
from bot.settings import DEFAULT_LANGUAGE, NATIVE_LANGUAGES, TIMEZONE

#: How an opening time reads in each language ("maanantai 30.11. klo 8.00").
_MOMENT_PATTERNS = {
    "fi": "EEEE d.M. 'klo' H.mm",
    "sv": "EEEE d.M 'kl.' H.mm",
    "en": "EEEE d MMMM 'at' HH:mm",
    "ru": "EEEE d MMMM 'в' H:mm",
    "uk": "EEEE d MMMM 'о' H:mm",
    "et": "EEEE d. MMMM 'kell' H.mm",
    "so": "EEEE d MMMM, 'saacadda' HH:mm",
    "ar": "EEEE d MMMM 'الساعة' HH:mm",
}
_TIME_PATTERNS = {"fi": "H.mm", "sv": "H.mm", "en": "HH:mm", "ru": "H:mm", "uk": "H:mm",
                  "et": "H.mm", "so": "HH:mm", "ar": "HH:mm"}
#: The directory names units in fi/sv/en; a resident reading another language gets the
#: Finnish name and street, the ones on the signs, the map and the bus stop.
_DIRECTORY_FALLBACK = "fi"


@dataclass(frozen=True)
class Reply:
    """One response of the domain with the values its template needs."""

    response: str
    values: dict[str, str] = field(default_factory=dict)


def text_language(language: str | None) -> str:
    """The directory's language for `language`: its own where the directory has it."""
    if language in TEXT_LANGUAGES:
        return language
    return _DIRECTORY_FALLBACK if language in NATIVE_LANGUAGES else DEFAULT_LANGUAGE


def moment_language(language: str | None) -> str:
    """The language dates and times are written in: every native one has its pattern."""
    return language if language in _MOMENT_PATTERNS else DEFAULT_LANGUAGE


def unit_text(unit: CareUnit, language: str | None) -> UnitText:
    return unit.texts[text_language(language)]


def display_phone(phone: str) -> str:
    """E.164 as residents dial it in Finland: +358931049270 -> 09 3104 9270, 116117 ->
    116 117."""
    national = "0" + phone[4:] if phone.startswith("+358") else phone
    if national in ("0116117", "116117"):
        return "116 117"
    if national.startswith("09"):
        rest = national[2:]
        return "09 " + " ".join(rest[i:i + 4] for i in range(0, len(rest), 4))
    return national


def address(unit: CareUnit, language: str | None) -> str | None:
    """"Huovitie 5, 00400 Helsinki", or None for a phone service."""
    text = unit_text(unit, language)
    if not text.street:
        return None
    return f"{text.street}, {unit.postal_code} {text.city}" if unit.postal_code else text.street


def moment_text(at: datetime, language: str) -> str:
    """"Monday 28 December at 08:00", as the resident's language writes it."""
    return format_datetime(at, _MOMENT_PATTERNS[language], tzinfo=TIMEZONE, locale=language)


def _time(at: datetime, language: str) -> str:
    return format_datetime(at, _TIME_PATTERNS[language], tzinfo=TIMEZONE, locale=language)


def describe(unit: CareUnit, now: datetime, language: str | None,
             instead: Reply) -> list[Reply]:
    """The replies for "is it open and where is it": who and where, today's hours and
    whether it is open now, and when closed, `instead` (see `when_closed`)."""
    lang, spoken = text_language(language), moment_language(language)
    text = unit_text(unit, lang)
    where = address(unit, lang)
    values = {"unit_name": text.name, "unit_phone": display_phone(unit.phone)}
    replies = [Reply("utter_clinic_unit", {**values, "unit_address": where}) if where
               else Reply("utter_clinic_unit_phone", values)]
    calendar = unit.calendar
    local = now.astimezone(TIMEZONE)
    today = calendar.hours_on(local.date())
    hours_today = ", ".join(interval.label() for interval in today)
    if calendar.weekly.always_open:
        replies.append(Reply("utter_clinic_always_open"))
        return replies
    if calendar.is_open(now):
        closes = calendar.closes_at(now)
        replies.append(Reply("utter_clinic_open_now", {
            "hours_today": hours_today,
            "closes_at": _time(closes, spoken) if closes else hours_today,
        }))
        return replies
    following = calendar.next_opening(now)
    next_opening = moment_text(following, spoken) if following else ""
    reason = calendar.closure_reason(local.date())
    if reason is not None:
        replies.append(Reply("utter_clinic_closed_holiday", {
            "closure_reason": holiday_name(local.date(), spoken) or reason,
            "next_opening": next_opening,
        }))
    elif today:
        replies.append(Reply("utter_clinic_closed_now", {
            "hours_today": hours_today, "next_opening": next_opening,
        }))
    else:
        replies.append(Reply("utter_clinic_closed_today", {"next_opening": next_opening}))
    replies.append(instead)
    return replies


def when_closed(adults: Sequence[CareUnit], children: Sequence[CareUnit],
                language: str | None) -> Reply:
    """116 117 first, then the emergency departments for adults and for children, named
    from the directory so a moved department is corrected in one place."""
    lang = text_language(language)
    return Reply("utter_clinic_when_closed", {
        "adult_emergency": _list(adults, lang),
        "child_emergency": _list(children, lang),
    })


def _list(units: Sequence[CareUnit], language: str) -> str:
    return "; ".join(f"{unit_text(unit, language).name}, {unit_text(unit, language).street}"
                     for unit in units)
