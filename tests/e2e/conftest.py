"""End-to-end fixtures: the trained model (once per session, cached by
fingerprint) and the real servers started by `healthbot run`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bot.settings import load_settings
from bot.training import ensure_model
from tests.conftest import ROOT
from tests.e2e.browser import chromium, new_page
from tests.e2e.gateway import Gateway, sms_environment, start_gateway

STARTUP_TIMEOUT = 300.0
#: Rasa's HTTP API token of every test server (RASA_API_TOKEN); tests are the operator.
API_TOKEN = f"test-api-{uuid.uuid4().hex}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(url: str, payload: Any | None = None, timeout: float = 60.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass
class Server:
    """A `healthbot run` with its two children, started (again) with the same
    environment, ports and database."""

    rasa_port: int
    action_port: int
    log: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def api(self, path: str) -> str:
        """The URL of a Rasa HTTP API route, with the operator's token."""
        return f"{self.url}{path}?token={API_TOKEN}"

    @property
    def var_dir(self) -> Path:
        return self.log.parent / "var"

    @property
    def database_url(self) -> str:
        """The server's own SQLite database, for checking what it stored."""
        return f"sqlite:///{self.var_dir / 'healthbot.db'}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT,
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            self.wait_ready()
        except RuntimeError:
            self.stop()  # leave no supervisor behind when startup fails
            raise

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"healthbot run exited early:\n{self.log.read_text()[-4000:]}")
            if is_up(f"{self.url}/webhooks/ops/ready"):  # model, database, action server
                return
            time.sleep(1)
        raise RuntimeError(f"servers not ready in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> int:
        """SIGTERM to the supervisor; its exit code once everything has stopped."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def chat(self) -> Chat:
        return Chat(self, f"test-{uuid.uuid4().hex[:12]}")


@dataclass
class Chat:
    """One resident's conversation over the Rasa REST channel."""

    server: Server
    sender: str

    def send(self, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            payload["metadata"] = metadata
        return http_json(f"{self.server.url}/webhooks/rest/webhook", payload)

    def texts(self, text: str, metadata: dict[str, Any] | None = None) -> list[str]:
        return [m.get("text", "") for m in self.send(text, metadata)]

    def tracker(self) -> dict[str, Any]:
        return http_json(self.server.api(f"/conversations/{self.sender}/tracker"))

    def slot(self, name: str) -> Any:
        return self.tracker()["slots"][name]

    def active_loop(self) -> str | None:
        """The running form, if any."""
        return (self.tracker().get("active_loop") or {}).get("name")


#: The clock of the shared server: a Monday morning, when health stations are open.
MONDAY_MORNING = "2026-12-14T10:00+02:00"


def start_server(tmp: Path, model: Path, now: str = MONDAY_MORNING,
                 ports: tuple[int, int] | None = None,
                 extra_env: dict[str, str] | None = None) -> Server:
    """`now` fixes the clock (HEALTHBOT_NOW), so answers about opening hours are exact."""
    rasa_port, action_port = ports or (free_port(), free_port())
    var_dir = tmp / "var"
    env = {
        **{key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "HEALTHBOT_VAR_DIR": str(var_dir),
        "HEALTHBOT_MODEL_DIR": str(model.parent),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "HEALTHBOT_NOW": now,
        "RASA_API_TOKEN": API_TOKEN,
        # every test's browser and client comes from 127.0.0.1: many residents, one address
        "WEBCHAT_SESSION_LIMIT": "1000",
        **(extra_env or {}),
    }
    server = Server(rasa_port, action_port, tmp / "healthbot.log", env)
    server.start()
    return server


@pytest.fixture(scope="session")
def model() -> Path:
    """Trained once per session; an unchanged bot reuses the cached model."""
    return ensure_model(load_settings())


@pytest.fixture(scope="session")
def gateway() -> Iterator[Gateway]:
    """The loopback SMS gateway every test server sends its SMS to."""
    running, stop = start_gateway()
    yield running
    stop()


@pytest.fixture(scope="session")
def server(model: Path, gateway: Gateway,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shared server, with every channel on: REST, web chat and SMS. Loopback is its
    trusted proxy, so a test can stand for several clients with `X-Forwarded-For`."""
    ports = (free_port(), free_port())
    running = start_server(tmp_path_factory.mktemp("healthbot"), model, ports=ports,
                           extra_env={**sms_environment(gateway, ports[0]),
                                      "TRUSTED_PROXIES": "127.0.0.1/32"})
    yield running
    running.stop()


#: The translation packages of the destructive server: German and Russian both ways, and
#: English to and from Finnish for the nurses. Estonian has none: the graceful gap.
INSTALLED_PACKAGES = [("de", "en"), ("en", "de"), ("ru", "en"), ("en", "ru"), ("en", "fi"),
                      ("fi", "en")]


@pytest.fixture(scope="session")
def destructive(model: Path, argos_files: dict[tuple[str, str], Path],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server for tests that break or restart it (SIGKILL, SIGTERM and a start on
    the same database) and that install translation packages, which the operator does
    with `healthbot translate install` before the start."""
    tmp = tmp_path_factory.mktemp("destructive")
    env = {**os.environ, "HEALTHBOT_VAR_DIR": str(tmp / "var")}
    env.pop("ARGOS_PACKAGES_DIR", None)  # the default: under var/
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "translate", "install",
         *(str(argos_files[pair]) for pair in INSTALLED_PACKAGES)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    running = start_server(tmp, model)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the whole session; each test gets a fresh page (context)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as opened:
        yield opened
