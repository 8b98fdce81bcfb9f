"""`healthbot run` keeps both servers up and stops them cleanly."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, is_up
from tests.e2e.gateway import post_form

pytestmark = pytest.mark.e2e


def child_pids(log: Path, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"started {name} \(pid (\d+)\)", log.read_text())]


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_dead_child_is_restarted_and_sigterm_stops_everything(destructive: Server) -> None:
    server = destructive
    action_pid = child_pids(server.log, "action server")[-1]
    rasa_pid = child_pids(server.log, "rasa server")[-1]
    started = len(child_pids(server.log, "action server"))
    os.kill(action_pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(child_pids(server.log, "action server")) <= started:
        time.sleep(0.5)
    log = server.log.read_text()
    assert re.search(rf"action server \(pid {action_pid}\) killed by SIGKILL; restarting", log), log
    while time.monotonic() < deadline and not is_up(
        f"http://127.0.0.1:{server.action_port}/health"
    ):
        time.sleep(0.5)
    chat = server.chat()
    assert chat.texts("kiitos paljon")  # the restarted action server answers again
    assert chat.slot("language") == "fi"
    new_action_pid = child_pids(server.log, "action server")[-1]
    # No SMS operator configured: the webhook says so, and the laptop keys exist.
    assert post_form(f"{server.url}/webhooks/sms/webhook", {"Body": "hei"}, {})[0] == 503
    assert "HEALTHBOT_ENCRYPTION_KEY=" in (server.var_dir / "secrets.env").read_text()

    assert server.stop() == 0  # SIGTERM: every process stops, cleanly
    assert gone(new_action_pid) and gone(rasa_pid)
    assert "all processes stopped" in server.log.read_text()
    server.start()  # the same database and ports, for the tests after this one
    assert server.chat().texts("kiitos")
