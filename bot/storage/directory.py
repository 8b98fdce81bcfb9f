"""The clinic directory's tables: units, their texts per language and dated exceptions
to their weekly hours; the import's upsert and loading units with their calendars."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine

from bot.clinics.directory import CareUnit, ImportResult, UnitRow, UnitText
from bot.clinics.hours import DatedException, OpeningCalendar, WeeklyHours, parse_times
from bot.storage.db import metadata

#: The `care_units` columns an import compares to tell updated rows from unchanged ones.
_COMPARED: tuple[str, ...] = (
    "kind", "postal_code", "phone", "weekly_hours", "closed_on_holidays", "source", "as_of",
)

care_units = Table(
    "care_units",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("postal_code", String(5), nullable=True),
    Column("phone", String(16), nullable=False),
    Column("weekly_hours", Text, nullable=False),
    Column("closed_on_holidays", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    Column("as_of", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

care_unit_texts = Table(
    "care_unit_texts",
    metadata,
    Column(
        "unit_id", String(64), ForeignKey("care_units.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("language", String(2), primary_key=True),
    Column("name", Text, nullable=False),
    Column("street", Text, nullable=True),
    Column("city", Text, nullable=False),
    Column("district", Text, nullable=True),
    CheckConstraint("language IN ('fi', 'sv', 'en')", name="ck_care_unit_texts_language"),
)

care_unit_exceptions = Table(
    "care_unit_exceptions",
    metadata,
    Column(
        "unit_id", String(64), ForeignKey("care_units.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("day", Date, primary_key=True),
    Column("opens", String(5), nullable=True),
    Column("closes", String(5), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    CheckConstraint(
        "(opens IS NULL) = (closes IS NULL)", name="ck_care_unit_exceptions_both_or_none"
    ),
)


def _unit_values(row: UnitRow) -> dict[str, object]:
    return {column: getattr(row, column) for column in _COMPARED}


def _texts_by_unit(conn: Connection, unit_ids: Iterable[str] | None = None) -> dict[
    str, dict[str, UnitText]
]:
    query = select(care_unit_texts)
    if unit_ids is not None:
        query = query.where(care_unit_texts.c.unit_id.in_(list(unit_ids)))
    texts: dict[str, dict[str, UnitText]] = {}
    for text in conn.execute(query):
        texts.setdefault(text.unit_id, {})[text.language] = UnitText(
            name=text.name, street=text.street, city=text.city, district=text.district
        )
    return texts


def import_units(engine: Engine, rows: list[UnitRow]) -> ImportResult:
    """Upsert in one transaction with plain selects, inserts and updates, portable to SQLite
    and PostgreSQL; units missing from `rows` are left alone."""
    inserted = updated = unchanged = 0
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        existing = {
            unit.id: {column: unit._mapping[column] for column in _COMPARED}
            for unit in conn.execute(select(care_units))
        }
        texts = _texts_by_unit(conn)
        for row in rows:
            values = _unit_values(row)
            if row.id not in existing:
                conn.execute(care_units.insert().values(id=row.id, updated_at=now, **values))
                inserted += 1
            elif existing[row.id] == values and texts.get(row.id) == dict(row.texts):
                unchanged += 1
                continue
            else:
                conn.execute(
                    care_units.update()
                    .where(care_units.c.id == row.id)
                    .values(updated_at=now, **values)
                )
                conn.execute(care_unit_texts.delete().where(care_unit_texts.c.unit_id == row.id))
                updated += 1
            conn.execute(
                care_unit_texts.insert(),
                [
                    {"unit_id": row.id, "language": language, **vars(text)}
                    for language, text in row.texts.items()
                ],
            )
    return ImportResult(inserted=inserted, updated=updated, unchanged=unchanged)


def _exceptions_by_unit(conn: Connection, unit_ids: Iterable[str] | None = None) -> dict[
    str, list[DatedException]
]:
    query = select(care_unit_exceptions).order_by(care_unit_exceptions.c.day)
    if unit_ids is not None:
        query = query.where(care_unit_exceptions.c.unit_id.in_(list(unit_ids)))
    exceptions: dict[str, list[DatedException]] = {}
    for row in conn.execute(query):
        intervals = (
            parse_times(f"{row.opens}-{row.closes}") if row.opens is not None else ()
        )
        exceptions.setdefault(row.unit_id, []).append(DatedException(row.day, intervals, row.note))
    return exceptions


def _load(conn: Connection, unit_id: str | None) -> list[CareUnit]:
    ids = None if unit_id is None else [unit_id]
    query = select(care_units).order_by(care_units.c.id)
    if unit_id is not None:
        query = query.where(care_units.c.id == unit_id)
    texts = _texts_by_unit(conn, ids)
    exceptions = _exceptions_by_unit(conn, ids)
    return [
        CareUnit(
            id=unit.id,
            kind=unit.kind,
            postal_code=unit.postal_code,
            phone=unit.phone,
            texts=texts.get(unit.id, {}),
            calendar=OpeningCalendar(
                weekly=WeeklyHours.parse(unit.weekly_hours),
                closed_on_holidays=unit.closed_on_holidays,
                exceptions=tuple(exceptions.get(unit.id, ())),
            ),
            source=unit.source,
            as_of=unit.as_of,
        )
        for unit in conn.execute(query)
    ]


def load_unit(engine: Engine, unit_id: str) -> CareUnit | None:
    """One unit by id, or None when the directory has no such unit."""
    with engine.connect() as conn:
        units = _load(conn, unit_id)
    return units[0] if units else None


def all_units(engine: Engine) -> list[CareUnit]:
    """Every unit, ordered by id."""
    with engine.connect() as conn:
        return _load(conn, None)


def directory_version(engine: Engine) -> tuple[Any, ...]:
    """What changes whenever an import or an exception changes the directory."""
    with engine.connect() as conn:
        units = conn.execute(select(func.count(), func.max(care_units.c.updated_at))).one()
        exceptions = conn.execute(select(func.count()).select_from(care_unit_exceptions))
        return (*units, exceptions.scalar_one())
