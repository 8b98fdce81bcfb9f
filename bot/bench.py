"""`healthbot bench` (`make bench`): simulated residents against the whole system, and
the same load against a plain `rasa run`, side by side.

Each simulated resident holds conversations one after another over the REST
channel, in one of the eight languages: a greeting, a clinic's opening hours,
thanks, or a whole fever triage. Every message's latency is measured, and the CPU time the
server's processes spend per message (from /proc; in all, and the Rasa server and the
action server apart); a reply that is not HTTP 200 with
at least one message is an error. Both systems run
the same trained model on this machine, one after the other:

* healthbot: `healthbot run` on PostgreSQL (tracker store and app tables) and
  Redis (lock store), with `SANIC_WORKERS` Sanic workers, every channel on;
* plain: `rasa run` with the REST channel only and in-memory stores, with the
  same action server.

One JSON line per system, then one with the ratios.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from bot.settings import Settings

#: Conversations per language: small talk with a clinic question, and a fever triage.
CONVERSATIONS = {
    "fi": [["Hei", "Milloin Malmin terveysasema on auki?", "Kiitos"],
           ["Minulla on ollut kuumetta", "ei", "ei", "ei", "ei", "ei", "kaksi päivää"]],
    "sv": [["Hej", "När har Malms hälsostation öppet?", "Tack"],
           ["Jag har feber sedan i går", "nej", "nej", "nej", "nej", "nej", "sedan i går"]],
    "en": [["Hello", "When is Malmi health station open?", "Thanks"],
           ["I have had a fever", "no", "no", "no", "no", "no", "two days"]],
    "ru": [["Здравствуйте", "Когда открыта поликлиника Малми?", "Спасибо"],
           ["У меня температура", "нет", "нет", "нет", "нет", "нет", "два дня"]],
    "et": [["Tere", "Millal on Malmi tervisekeskus avatud?", "Aitäh"],
           ["Mul on palavik", "ei", "ei", "ei", "ei", "ei", "kaks päeva"]],
    "so": [["Salaan", "Goorma ayay furan tahay xarunta caafimaadka Malmi?", "Mahadsanid"],
           ["Qandho ayaan qabaa", "maya", "maya", "maya", "maya", "maya", "laba maalmood"]],
    "ar": [["مرحبا", "متى يفتح المركز الصحي في مالمي؟", "شكرا"],
           ["عندي حمى", "لا", "لا", "لا", "لا", "لا", "يومين"]],
    "uk": [["Вітаю", "Коли працює медичний центр Малмі?", "Дякую"],
           ["У мене температура", "ні", "ні", "ні", "ні", "ні", "два дні"]],
}
LANGUAGES = tuple(CONVERSATIONS)
READY_TIMEOUT = 600.0
REQUEST_TIMEOUT = 60.0


@dataclass
class Load:
    residents: int
    duration: float
    think: float


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    #: CPU seconds of each part of the server ("rasa", "action_server"), within the total.
    part_cpu_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self, system: str, load: Load) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

        def per_message(seconds: float) -> float | None:
            return round(1000 * seconds / len(ordered), 1) if ordered else None

        return {
            "system": system, "residents": load.residents, "duration_s": round(self.elapsed, 1),
            "think_s": load.think, "messages": len(ordered), "errors": self.errors,
            "messages_per_s": round(len(ordered) / self.elapsed, 2) if self.elapsed else 0.0,
            "p50_s": pct(0.50), "p95_s": pct(0.95), "p99_s": pct(0.99),
            "server_rss_mb": round(self.peak_rss_mb, 1),
            "server_cpu_ms_per_message": per_message(self.cpu_seconds),
            **{f"{part}_cpu_ms_per_message": per_message(seconds)
               for part, seconds in self.part_cpu_seconds.items()},
        }


async def _resident(number: int, url: str, load: Load, result: Result, deadline: float,
                    session: aiohttp.ClientSession) -> None:
    language = LANGUAGES[number % len(LANGUAGES)]
    turn = number
    while time.monotonic() < deadline:
        sender = f"bench-{number}-{uuid.uuid4().hex[:8]}"
        for text in CONVERSATIONS[language][turn % 2]:
            if time.monotonic() >= deadline:
                return
            started = time.monotonic()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as reply:
                    body = await reply.json(content_type=None)
                    ok = reply.status == 200 and isinstance(body, list) and body
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            if ok:
                result.latencies.append(time.monotonic() - started)
            else:
                result.errors += 1
            if load.think:
                await asyncio.sleep(load.think)
        turn += 1


async def _drive(base: str, load: Load, roots: list[int], parts: dict[str, int]) -> Result:
    """Load from `load.residents` residents; CPU of the process trees under `roots`, and
    of each part's tree (`parts`: name → the part's root process)."""
    result = Result()
    url = f"{base}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=load.residents)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        warm = Result()  # first messages load lazily; they are not measured
        await asyncio.gather(*(_resident(i, url, Load(3, 0, 0), warm, time.monotonic() + 15,
                                         session) for i in range(3)))
        started = time.monotonic()
        cpu_before = sum(tree_cpu_seconds(root) for root in roots)
        parts_before = {part: tree_cpu_seconds(pid) for part, pid in parts.items()}
        deadline = started + load.duration
        sampler = asyncio.create_task(_sample_memory(roots, result))
        await asyncio.gather(*(_resident(i, url, load, result, deadline, session)
                               for i in range(load.residents)))
        result.elapsed = time.monotonic() - started
        result.cpu_seconds = sum(tree_cpu_seconds(root) for root in roots) - cpu_before
        result.part_cpu_seconds = {part: tree_cpu_seconds(pid) - parts_before[part]
                                   for part, pid in parts.items()}
        sampler.cancel()
    return result


async def _sample_memory(roots: list[int], result: Result) -> None:
    while True:
        result.peak_rss_mb = max(result.peak_rss_mb, sum(tree_rss_mb(r) for r in roots))
        await asyncio.sleep(1.0)


def _tree(root: int) -> dict[int, str]:
    """A process and all its descendants, each with its /proc status text."""
    parents: dict[int, int] = {}
    statuses: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip() or 0)
        statuses[int(entry.name)] = status
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: statuses[pid] for pid in tree if pid in statuses}


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    total = 0
    for status in _tree(root).values():
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


#: The parts of `healthbot run`, by the module each process runs.
SERVER_PARTS = {"rasa": b"channels.rasa_server", "action_server": b"channels.action_server"}


def server_parts(root: int) -> dict[str, int]:
    """The topmost process of each part under `healthbot run`'s supervisor (Sanic's
    workers are that process's children, with the same command line)."""
    tree = _tree(root)
    matches: dict[str, set[int]] = {part: set() for part in SERVER_PARTS}
    for pid in tree:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for part, module in SERVER_PARTS.items():
            if module in command:
                matches[part].add(pid)
    parents = {pid: int(status.split("PPid:", 1)[1].split()[0]) for pid, status in tree.items()}
    return {part: pid for part, pids in matches.items() for pid in pids
            if parents[pid] not in pids}


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) a process and its living descendants have used, from
    /proc: other load on the machine barely changes it, unlike latency."""
    ticks = 0
    for pid in _tree(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise RuntimeError(f"{url} not ready in {READY_TIMEOUT:.0f} s")


@contextmanager
def _process(command: list[str], env: dict[str, str],
             log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def _postgres_database(admin_url: str) -> Iterator[str]:
    import sqlalchemy

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    try:
        url = sqlalchemy.engine.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def bench_healthbot(settings: Settings, load: Load, workers: int, admin_url: str,
                    redis_url: str, scratch: Path) -> dict[str, Any]:
    port = _free_port()
    with _postgres_database(admin_url) as database:
        env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url,
               "SANIC_WORKERS": str(workers), "RASA_PORT": str(port),
               "ACTION_PORT": str(_free_port()), "HEALTHBOT_VAR_DIR": str(scratch / "healthbot"),
               "HEALTHBOT_MODEL_DIR": str(settings.model_dir), "LOG_LEVEL": "WARNING",
               "TF_CPP_MIN_LOG_LEVEL": "3"}
        with _process([sys.executable, "-m", "bot.cli", "run"], env,
                      scratch / "healthbot.log") as server:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base}/webhooks/ops/ready", server)
            result = asyncio.run(_drive(base, load, [server.pid], server_parts(server.pid)))
    return result.summary(f"healthbot (PostgreSQL + Redis, {workers} Sanic workers)", load)


def bench_plain(settings: Settings, model: Path, load: Load, scratch: Path) -> dict[str, Any]:
    """`rasa run` with the REST channel and in-memory stores; our action server, on a
    SQLite directory of its own."""
    from bot.cli import _import_directory
    from bot.clinics.directory import DIRECTORY_CSV
    from bot.storage.db import init_db

    var = scratch / "plain"
    actions_settings = replace(settings, var_dir=var, database_url="", redis_url="")
    init_db(actions_settings)
    _import_directory(actions_settings, settings.home / DIRECTORY_CSV)
    port, action_port = _free_port(), _free_port()
    (scratch / "plain-endpoints.yml").write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n")
    (scratch / "plain-credentials.yml").write_text("rest:\n")
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", "HEALTHBOT_VAR_DIR": str(var),
           "LOG_LEVEL": "WARNING", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with _process([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port",
                   str(action_port)], env, scratch / "plain-actions.log") as actions, \
            _process([sys.executable, "-m", "rasa", "run", "--model", str(model), "--port",
                      str(port), "--endpoints", str(scratch / "plain-endpoints.yml"),
                      "--credentials", str(scratch / "plain-credentials.yml"), "--quiet"],
                     env, scratch / "plain-rasa.log") as rasa:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/", rasa)
        _wait_ready(f"http://127.0.0.1:{action_port}/health", actions)
        result = asyncio.run(_drive(base, load, [rasa.pid, actions.pid],
                                    {"rasa": rasa.pid, "action_server": actions.pid}))
    return result.summary("plain rasa run (REST, in-memory stores)", load)


def run(settings: Settings, load: Load, workers: int, admin_url: str,
        redis_url: str, only: str | None = None) -> list[dict[str, Any]]:
    """Both systems and the ratios, or (`only`) one system's line."""
    from bot.training import ensure_model

    model = ensure_model(settings)
    with tempfile.TemporaryDirectory(prefix="healthbot-bench-") as scratch:
        if only != "plain":
            ours = bench_healthbot(settings, load, workers, admin_url, redis_url, Path(scratch))
            print(json.dumps(ours), flush=True)
        if only != "healthbot":
            plain = bench_plain(settings, model, load, Path(scratch))
            print(json.dumps(plain), flush=True)
    if only:
        return [ours if only == "healthbot" else plain]
    ratio = {
        "throughput_ratio": round(ours["messages_per_s"] / plain["messages_per_s"], 2)
        if plain["messages_per_s"] else None,
        "p95_ratio": round(ours["p95_s"] / plain["p95_s"], 2)
        if ours["p95_s"] and plain["p95_s"] else None,
        "targets": {"errors": ours["errors"] == 0,
                    "throughput_at_least_plain": bool(plain["messages_per_s"]) and
                    ours["messages_per_s"] >= plain["messages_per_s"],
                    "p95_under_1_5_s": ours["p95_s"] is not None and ours["p95_s"] < 1.5},
    }
    print(json.dumps(ratio), flush=True)
    return [ours, plain, ratio]
