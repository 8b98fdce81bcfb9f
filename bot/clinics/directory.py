"""The clinic directory's rows as the assistant reads them, and the CSV they come from.

`data/clinics/helsinki-health-services.csv` is the source; `healthbot clinics import`
validates the whole file before touching the database, so a bad file changes nothing,
and then `bot.storage.directory` upserts every unit in one transaction.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.clinics.hours import (
    HoursSyntaxError,
    OpeningCalendar,
    WeeklyHours,
)

#: The project's copy of the directory, relative to the project home.
DIRECTORY_CSV = Path("data/clinics/helsinki-health-services.csv")
LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
KINDS: frozenset[str] = frozenset(
    {"health_station", "emergency_department", "dental", "dental_emergency", "phone_service"}
)
#: Kinds that close on Finnish public holidays unless their hours say otherwise or are 24/7.
_HOLIDAY_CLOSING_KINDS = frozenset({"health_station", "dental", "phone_service"})

COLUMNS: tuple[str, ...] = (
    "id", "kind", "name_fi", "name_sv", "name_en", "street_fi", "street_sv", "postal_code",
    "city_fi", "city_sv", "phone", "district_fi", "district_sv", "weekly_hours", "source",
    "as_of",
)
#: Columns that may be empty (phone services have no street address or district).
_OPTIONAL = frozenset({"street_fi", "street_sv", "postal_code", "district_fi", "district_sv"})

_ID = re.compile(r"^[a-z0-9-]+$")
#: E.164, or a national short service number such as the medical helpline 116117.
_PHONE = re.compile(r"^(\+\d{6,15}|\d{6})$")
_POSTAL_CODE = re.compile(r"^(\d{5})?$")

class DirectoryImportError(ValueError):
    """A directory file with bad rows; `problems` holds one "PATH:LINE: reason" each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class UnitText:
    """What a resident reads about a unit in one language."""

    name: str
    street: str | None
    city: str
    district: str | None


@dataclass(frozen=True)
class UnitRow:
    """One validated directory row, ready to import."""

    id: str
    kind: str
    postal_code: str | None
    phone: str
    weekly_hours: str
    source: str
    as_of: str
    texts: Mapping[str, UnitText]

    @property
    def closed_on_holidays(self) -> bool:
        """Stored, so readers need not know which kinds keep emergency hours on holidays."""
        return self.kind in _HOLIDAY_CLOSING_KINDS and not WeeklyHours.parse(
            self.weekly_hours
        ).always_open


@dataclass(frozen=True)
class CareUnit:
    """A unit as the assistant answers about it: texts per language and when it is open."""

    id: str
    kind: str
    postal_code: str | None
    phone: str
    texts: Mapping[str, UnitText]
    calendar: OpeningCalendar
    source: str
    as_of: str


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def _optional(value: str) -> str | None:
    return value or None


def _row_problems(values: Mapping[str, str]) -> list[str]:
    """Every reason one row is unusable, so a single run reports the whole file."""
    problems = [
        f"{column} is empty" for column in COLUMNS if column not in _OPTIONAL and not values[column]
    ]
    if values["id"] and not _ID.match(values["id"]):
        problems.append(f"id {values['id']!r} is not a slug of a-z, 0-9 and '-'")
    if values["kind"] and values["kind"] not in KINDS:
        problems.append(f"unknown kind {values['kind']!r}; use one of {', '.join(sorted(KINDS))}")
    if values["phone"] and not _PHONE.match(values["phone"]):
        problems.append(f"phone {values['phone']!r} is neither E.164 (+358...) nor 6 digits")
    if not _POSTAL_CODE.match(values["postal_code"]):
        problems.append(f"postal code {values['postal_code']!r} is not 5 digits")
    if values["weekly_hours"]:
        try:
            WeeklyHours.parse(values["weekly_hours"])
        except HoursSyntaxError as exc:
            problems.append(f"weekly_hours: {exc}")
    return problems


def _unit_row(values: Mapping[str, str]) -> UnitRow:
    """English has no street, city or district columns: residents see the Finnish ones."""
    texts = {
        language: UnitText(
            name=values[f"name_{language}"],
            street=_optional(values.get(f"street_{language}") or values["street_fi"]),
            city=values.get(f"city_{language}") or values["city_fi"],
            district=_optional(values.get(f"district_{language}") or values["district_fi"]),
        )
        for language in LANGUAGES
    }
    return UnitRow(
        id=values["id"],
        kind=values["kind"],
        postal_code=_optional(values["postal_code"]),
        phone=values["phone"],
        weekly_hours=values["weekly_hours"],
        source=values["source"],
        as_of=values["as_of"],
        texts=texts,
    )


def preview_units(rows: Iterable[UnitRow]) -> list[CareUnit]:
    """Units as they will read once imported (without dated exceptions, which live only
    in the database), for checks that need no database."""
    return [
        CareUnit(
            id=row.id, kind=row.kind, postal_code=row.postal_code, phone=row.phone,
            texts=row.texts,
            calendar=OpeningCalendar(WeeklyHours.parse(row.weekly_hours),
                                     row.closed_on_holidays),
            source=row.source, as_of=row.as_of,
        )
        for row in rows
    ]


def read_csv(path: Path | str) -> list[UnitRow]:
    """Validate the whole file first; raise with every bad row rather than stop at the first."""
    try:
        handle = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise DirectoryImportError([f"{path}: cannot read: {exc.strerror}"]) from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise DirectoryImportError([f"{path}:1: missing columns: {', '.join(missing)}"])
        problems: list[str] = []
        rows: list[UnitRow] = []
        first_line: dict[str, int] = {}
        end_of_previous = reader.line_num
        for record in reader:
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if None in record or None in record.values():
                values: dict[str, str] = {}
                reasons = [f"expected {len(COLUMNS)} fields, got a different number"]
            else:
                values = {key: value.strip() for key, value in record.items()}
                reasons = _row_problems(values)
            unit_id = values.get("id", "")
            if unit_id in first_line:
                reasons.append(f"duplicate id {unit_id!r} (first on line {first_line[unit_id]})")
            elif unit_id:
                first_line[unit_id] = line
            problems.extend(f"{path}:{line}: {reason}" for reason in reasons)
            if not reasons:
                rows.append(_unit_row(values))
    if problems:
        raise DirectoryImportError(problems)
    return rows
