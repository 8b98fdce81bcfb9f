"""`healthbot run`: one command that keeps the Rasa server and action server up.

Each child runs in its own session, so Ctrl-C reaches only the supervisor,
which then stops the children in order and waits for them. A child that dies
is restarted with exponential backoff, and the reason (exit code or signal)
is logged.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 20.0
MAX_BACKOFF = 30.0
#: A child that ran this long is considered healthy again: backoff resets.
STABLE_AFTER = 60.0
POLL_INTERVAL = 0.5


@dataclass
class ProcessSpec:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


@dataclass
class PeriodicJob:
    """Work the supervisor does itself every `interval` seconds, first right at start."""

    name: str
    interval: float
    run: Callable[[], object]
    due: float = 0.0


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = 0


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    def __init__(self, specs: list[ProcessSpec], jobs: list[PeriodicJob] | None = None) -> None:
        self._children = [_Child(spec) for spec in specs]
        self._jobs = jobs or []
        self._stopping = False

    def run(self) -> int:
        """Start every child and watch them until SIGINT or SIGTERM."""
        previous = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self._children:
                self._start(child)
            while not self._stopping:
                self._watch()
                self._run_due_jobs()
                time.sleep(POLL_INTERVAL)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        self._stopping = True

    def _start(self, child: _Child) -> None:
        spec = child.spec
        child.process = subprocess.Popen(
            spec.command,
            env={**os.environ, **spec.env},
            cwd=spec.cwd,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        logger.info("started %s (pid %d)", spec.name, child.process.pid)

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self._children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._start(child)
                continue
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                if now - child.started_at > STABLE_AFTER:
                    child.backoff = 1.0
                continue
            logger.warning(
                "%s (pid %d) %s; restarting in %.0f s",
                child.spec.name, child.process.pid, describe_exit(code), child.backoff,
            )
            child.restart_at = now + child.backoff
            child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def _run_due_jobs(self) -> None:
        """A failing job is logged and tried again at its next time; children keep running."""
        for job in self._jobs:
            now = time.monotonic()
            if now < job.due:
                continue
            job.due = now + job.interval
            try:
                logger.info("%s: %s", job.name, job.run())
            except Exception:
                logger.exception("%s failed; next try in %.0f s", job.name, job.interval)

    def _stop_all(self) -> None:
        running = [c for c in self._children if c.process and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            logger.info("stopping %s (pid %d)", child.spec.name, child.process.pid)
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", child.spec.name)
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        logger.info("all processes stopped")


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
