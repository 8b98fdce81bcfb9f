"""The supervisor restarts a dead child, says why, and stops everything on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.supervisor import describe_exit

CHILD = textwrap.dedent(
    """
    import os, sys, time
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")
    while True:
        time.sleep(0.2)
    """
)


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_restart_and_clean_stop(tmp_path: Path) -> None:
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    a_pids, b_pids = tmp_path / "a.pids", tmp_path / "b.pids"
    script = textwrap.dedent(
        f"""
        import logging, sys
        from bot.supervisor import ProcessSpec, Supervisor
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
        sys.exit(Supervisor([
            ProcessSpec("alpha", [sys.executable, {str(child)!r}, {str(a_pids)!r}]),
            ProcessSpec("beta", [sys.executable, {str(child)!r}, {str(b_pids)!r}]),
        ]).run())
        """
    )
    log = tmp_path / "supervisor.log"
    with log.open("w") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        try:
            first_a = wait_for(lambda: pids(a_pids))[0]
            wait_for(lambda: pids(b_pids))
            os.kill(first_a, signal.SIGKILL)
            restarted = wait_for(lambda: pids(a_pids)[1:])[0]
            assert restarted != first_a and alive(restarted)
            assert "alpha" in log.read_text() and "killed by SIGKILL" in log.read_text()

            supervisor.send_signal(signal.SIGTERM)
            assert supervisor.wait(timeout=30) == 0
        finally:
            if supervisor.poll() is None:
                supervisor.kill()
    assert not alive(restarted)
    assert not any(alive(pid) for pid in pids(b_pids))
    assert "all processes stopped" in log.read_text()


def test_describe_exit() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-signal.SIGTERM) == "killed by SIGTERM"
