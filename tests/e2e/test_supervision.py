"""`healthbot run` keeps both servers up and stops them cleanly."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import is_up, start_server
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


def test_dead_child_is_restarted_and_sigterm_stops_everything(
    model: Path, tmp_path: Path
) -> None:
    server = start_server(tmp_path, model)
    try:
        [action_pid] = child_pids(server.log, "action server")
        [rasa_pid] = child_pids(server.log, "rasa server")
        os.kill(action_pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(child_pids(server.log, "action server")) < 2:
            time.sleep(0.5)
        log = server.log.read_text()
        assert re.search(r"action server \(pid \d+\) killed by SIGKILL; restarting", log), log
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
        assert "HEALTHBOT_ENCRYPTION_KEY=" in (tmp_path / "var" / "secrets.env").read_text()
    finally:
        code = server.stop()
    assert code == 0
    assert gone(new_action_pid) and gone(rasa_pid)
    assert "all processes stopped" in server.log.read_text()
