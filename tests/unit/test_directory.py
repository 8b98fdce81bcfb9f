"""The clinic directory: CSV validation, idempotent import, loading, calendars and the CLI."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import Engine

from bot.cli import _import_directory, main
from bot.clinics.directory import COLUMNS, DirectoryImportError, ImportResult, read_csv
from bot.settings import TIMEZONE
from bot.storage.directory import (
    all_units,
    care_unit_texts,
    care_units,
    import_units,
    load_unit,
)
from tests.unit.conftest import CSV, migrated_engine, settings_for

UNITS = 31


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([",".join(COLUMNS), *lines]) + "\n", encoding="utf-8")
    return path


def data_lines() -> list[str]:
    return CSV.read_text(encoding="utf-8").splitlines()[1:]


def row_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(care_units))
            .scalar_one(),
            conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(care_unit_texts))
            .scalar_one(),
        )


def test_real_csv_imports_and_reimport_is_idempotent(engine: Engine) -> None:
    rows = read_csv(CSV)
    assert len(rows) == UNITS
    assert import_units(engine, rows) == ImportResult(inserted=UNITS, updated=0, unchanged=0)
    assert row_counts(engine) == (UNITS, UNITS * 3)
    assert import_units(engine, read_csv(CSV)) == ImportResult(0, 0, UNITS)


def test_changed_phone_updates_one_unit(engine: Engine, tmp_path: Path) -> None:
    import_units(engine, read_csv(CSV))
    changed = [
        line.replace("+358931050333", "+358931050334") if line.startswith("kalasatama,") else line
        for line in data_lines()
    ]
    rows = read_csv(write_csv(tmp_path / "changed.csv", changed))
    assert import_units(engine, rows) == ImportResult(inserted=0, updated=1, unchanged=UNITS - 1)
    unit = load_unit(engine, "kalasatama")
    assert unit is not None and unit.phone == "+358931050334"


def test_bad_rows_are_all_reported_and_nothing_changes(engine: Engine, tmp_path: Path) -> None:
    import_units(engine, read_csv(CSV))
    before = row_counts(engine)
    lines = data_lines()[:5]
    lines[1] = lines[1].replace(",health_station,", ",clinic,")  # line 3
    lines[3] = lines[3].replace("Mon-Fri 08:00-16:00", "weekdays 8-16")  # line 5
    with pytest.raises(DirectoryImportError) as raised:
        import_units(engine, read_csv(write_csv(tmp_path / "file.csv", lines)))
    message = str(raised.value)
    assert "file.csv:3: unknown kind 'clinic'" in message
    assert "file.csv:5: weekly_hours:" in message
    assert len(raised.value.problems) == 2
    assert row_counts(engine) == before


def test_duplicate_id_and_missing_column(tmp_path: Path) -> None:
    lines = data_lines()[:3]
    with pytest.raises(DirectoryImportError, match=r"dup\.csv:5: duplicate id 'haaga' \(first"):
        read_csv(write_csv(tmp_path / "dup.csv", [*lines, lines[0]]))
    path = tmp_path / "missing.csv"
    path.write_text("id,kind,name_fi\nhaaga,health_station,Haaga\n", encoding="utf-8")
    with pytest.raises(DirectoryImportError, match=r"missing\.csv:1: missing columns: name_sv"):
        read_csv(path)


def test_texts_per_language_with_english_fallback(engine: Engine) -> None:
    import_units(engine, read_csv(CSV))
    unit = load_unit(engine, "kalasatama")
    assert unit is not None
    assert unit.texts["sv"].name == "Fiskehamnens hälsostation"
    assert unit.texts["sv"].street == "Verkstadsgatan 14 A"
    english = unit.texts["en"]
    assert english.name == "Kalasatama Health and Well-being Centre"
    assert (english.street, english.city, english.district) == (
        "Työpajankatu 14 A", "Helsinki", "Sörnäinen",
    )
    assert load_unit(engine, "no-such-unit") is None


def test_calendars_follow_hours_and_holidays(engine: Engine) -> None:
    import_units(engine, read_csv(CSV))
    units = {unit.id: unit for unit in all_units(engine)}
    assert len(units) == UNITS
    thursday_evening = datetime(2026, 12, 3, 19, 0, tzinfo=TIMEZONE)
    assert units["kalasatama"].calendar.is_open(thursday_evening)
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=TIMEZONE)
    stations = [unit for unit in units.values() if unit.kind == "health_station"]
    assert stations and not any(unit.calendar.is_open(christmas_eve) for unit in stations)
    assert all(unit.calendar.hours_on(date(2026, 12, 24)) == () for unit in stations)
    assert units["malmi-emergency"].calendar.is_open(christmas_eve)
    assert not units["malmi-emergency"].calendar.closed_on_holidays
    assert not units["health-advice-24-7"].calendar.closed_on_holidays
    assert units["maternity-child-clinics"].calendar.closed_on_holidays


def test_cli_import_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HEALTHBOT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["clinics", "import", str(CSV)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"imported {UNITS} units from {CSV} (inserted {UNITS}, updated 0, unchanged 0)"
    )
    bad = write_csv(tmp_path / "bad.csv", [data_lines()[0].replace("+358931049270", "12")])
    assert main(["clinics", "import", str(bad)]) == 2
    assert "bad.csv:2: phone '12'" in capsys.readouterr().err
    assert (tmp_path / "var" / "healthbot.db").exists()


@pytest.mark.integration
def test_import_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with migrated_engine(settings_for(tmp_path, postgres_url)) as engine:
        assert import_units(engine, read_csv(CSV)) == ImportResult(UNITS, 0, 0)
        assert import_units(engine, read_csv(CSV)) == ImportResult(0, 0, UNITS)
        unit = load_unit(engine, "kalasatama")
        assert unit is not None and unit.texts["en"].city == "Helsinki"


def test_run_seeds_an_empty_directory_but_never_reverts_an_import(tmp_path: Path) -> None:
    """`healthbot run` loads the project's CSV into an empty database only: a newer file
    an operator imported must survive the next restart."""
    settings = settings_for(tmp_path)
    with migrated_engine(settings) as engine:
        assert _import_directory(settings, CSV, only_if_empty=True).startswith(
            f"imported {UNITS} units"
        )
        newer = write_csv(tmp_path / "newer.csv", [
            line.replace("+358931049270", "+358931000000") for line in data_lines()
        ])
        _import_directory(settings, newer)
        assert "already loaded" in _import_directory(settings, CSV, only_if_empty=True)
        haaga = load_unit(engine, "haaga")
        assert haaga is not None and haaga.phone == "+358931000000"
