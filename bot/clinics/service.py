"""The clinic directory as a running process sees it: units, the reference resolver and
the emergency departments, reloaded when `healthbot clinics import` changes the data."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from bot.clinics.answers import Reply, describe, when_closed
from bot.clinics.directory import CareUnit
from bot.clinics.references import REFERENCES_FILE, ReferenceResolver, Resolution
from bot.storage.directory import all_units, directory_version

#: How often a process asks the database whether the directory changed.
CHECK_INTERVAL_S = 30.0


@dataclass(frozen=True)
class Directory:
    """One consistent load of the directory."""

    units: Mapping[str, CareUnit]
    resolver: ReferenceResolver
    adult_emergency: tuple[CareUnit, ...]
    child_emergency: tuple[CareUnit, ...]

    @classmethod
    def build(cls, units: list[CareUnit], references: Mapping[str, Any]) -> Directory:
        by_id = {unit.id: unit for unit in units}
        emergency = references.get("emergency_departments") or {}
        return cls(
            units=by_id,
            resolver=ReferenceResolver(units, references),
            adult_emergency=tuple(by_id[i] for i in emergency.get("adults", []) if i in by_id),
            child_emergency=tuple(by_id[i] for i in emergency.get("children", []) if i in by_id),
        )

    def resolve(self, text: str, language: str | None) -> Resolution:
        return self.resolver.resolve(text, language or "fi")

    def answer(self, unit_id: str, now: datetime, language: str | None) -> list[Reply]:
        """Everything a resident needs about one unit now; KeyError for an unknown id."""
        instead = when_closed(self.adult_emergency, self.child_emergency, language)
        return describe(self.units[unit_id], now, language, instead)


def read_references(path: Path = REFERENCES_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


class DirectoryCache:
    """Loads the directory once and again only when its tables changed, checked at most
    every `CHECK_INTERVAL_S`, so an import reaches a running system without a restart.
    Async code (the actions) uses `get_async`, which keeps the check off the event loop."""

    def __init__(self, engine: Engine, references_file: Path = REFERENCES_FILE) -> None:
        self._engine = engine
        self._references = read_references(references_file)
        self._lock = threading.Lock()
        self._directory: Directory | None = None
        self._version: tuple[Any, ...] | None = None
        self._checked = 0.0

    def _due(self) -> bool:
        return self._directory is None or time.monotonic() - self._checked > CHECK_INTERVAL_S

    def get(self) -> Directory:
        with self._lock:
            if self._due():
                version = directory_version(self._engine)
                if self._directory is None or version != self._version:
                    self._directory = Directory.build(all_units(self._engine), self._references)
                    self._version = version
                self._checked = time.monotonic()
            return self._directory

    async def get_async(self) -> Directory:
        """The loaded directory at once while no check is due; otherwise `get` in a
        worker thread, as the check (and any reload) is SQL."""
        directory = self._directory
        if directory is not None and not self._due():
            return directory
        return await asyncio.to_thread(self.get)
