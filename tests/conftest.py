"""Shared test helpers: the project root, the test data folder, the CLI run in this
process, a PostgreSQL schema and Argos packages built here."""

from __future__ import annotations

import io
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tier of a test is its folder's (tests/integration, tests/e2e), so `-m` picks
    tiers; a test under tests/unit that needs a service is marked `integration` itself."""
    for item in items:
        tier = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if tier in ("integration", "e2e"):
            item.add_marker(tier)

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


@dataclass(frozen=True)
class Ran:
    """What a `healthbot` command did: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str


Healthbot = Callable[..., Ran]


@pytest.fixture
def healthbot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Healthbot:
    """`healthbot ARGS` in this process (`bot.cli.main`), with extra environment variables
    and standard input; the logging and umask the command sets are put back after it."""
    from bot.cli import main

    def run(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Ran:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        umask = os.umask(0o022)
        os.umask(umask)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse, or a refusal before anything ran
            code = exc.code if isinstance(exc.code, int) else 2
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            os.umask(umask)
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run


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


#: What each test package writes, whatever it reads (see tests/argos_package.py). The
#: German and Russian ones write English the NLU understands, so a test can follow a
#: message through the NLU, the dialogue and back.
PACKAGE_OUTPUTS = {
    ("de", "en"): "when is the malmi health station open",
    ("en", "de"): "Hallo aus dem Testpaket",
    ("ru", "en"): "when is the malmi health station open",
    ("en", "ru"): "Привет из тестового пакета",
    ("en", "fi"): "käännetty testiviesti",
    ("fi", "en"): "please call me tomorrow",
}
_CORPUS = [
    "Guten Tag, ich habe Fieber.", "Hello, when is the health station open?",
    "Здравствуйте, у меня болит голова.", "Hei, milloin terveysasema on auki?",
]


@pytest.fixture(scope="session")
def argos_files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Real `.argosmodel` files, built here once per session (no download)."""
    from tests.argos_package import build_package

    directory = tmp_path_factory.mktemp("argos-files")
    return {pair: build_package(directory, pair[0], pair[1], output, _CORPUS)
            for pair, output in PACKAGE_OUTPUTS.items()}
