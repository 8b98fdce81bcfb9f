"""Shared test helpers: the project root, the test data folder and a PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

Responses = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="session")
def responses() -> Responses:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def variation(responses: Responses, name: str, language: str) -> str:
    """The text a response has for `language` (English default when it has none), on
    every channel but those with their own variation (SMS)."""
    default = None
    for item in responses[name]:
        if item.get("channel"):
            continue
        conditions = item.get("condition") or []
        if not conditions:
            default = item["text"]
        elif any(c.get("value") == language for c in conditions):
            return item["text"]
    assert default is not None
    return default


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The real PostgreSQL with a fresh schema first on the search path, dropped afterwards,
    so every run (and every rerun) starts from an empty database."""
    import sqlalchemy

    base = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    except sqlalchemy.exc.OperationalError as exc:  # pragma: no cover - CI starts it
        engine.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {base}: {exc}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
