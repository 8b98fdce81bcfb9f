"""A nurse at the console, over plain HTTP, and the operators' command that adds one."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import requests
from sqlalchemy import create_engine

from bot.storage import handoff as store
from tests.conftest import ROOT
from tests.e2e.conftest import Server

PASSWORD = "a long nurse password"
_CSRF = re.compile(r'name="csrf[-_]token" (?:value|content)="([^"]+)"')


def add_nurse(server: Server, email: str) -> None:
    """Through the operators' command, with the password on standard input."""
    env = {"HEALTHBOT_VAR_DIR": str(server.var_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "nurse", "add", email],
                          input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr


class Console:
    """A nurse's browser session with the console, over plain HTTP."""

    def __init__(self, server: Server) -> None:
        self.base = f"{server.url}/webhooks/console"
        self.database = create_engine(server.database_url)
        self.http = requests.Session()
        self.csrf = ""

    def login_form(self) -> str:
        """Loads the sign-in form (its cookie); the form's CSRF token."""
        form = self.http.get(f"{self.base}/login", timeout=30)
        return _CSRF.search(form.text).group(1)

    def login(self, email: str, password: str = PASSWORD,
              token: str | None = None) -> requests.Response:
        reply = self.http.post(f"{self.base}/login", timeout=30, allow_redirects=False, data={
            "email": email, "password": password, "csrf_token": token or self.login_form()})
        if reply.status_code == 303:
            self.csrf = _CSRF.search(self.http.get(f"{self.base}/", timeout=30).text).group(1)
        return reply

    def queue(self) -> list[dict]:
        reply = self.http.get(f"{self.base}/api/queue", timeout=30)
        assert reply.status_code == 200
        return reply.json()["tickets"]

    def ticket(self, ticket_id: int) -> dict:
        return self.http.get(f"{self.base}/api/tickets/{ticket_id}", timeout=30).json()

    def act(self, ticket_id: int, action: str, csrf: str | None = None,
            **form: str) -> requests.Response:
        return self.http.post(f"{self.base}/tickets/{ticket_id}/{action}", timeout=60,
                              allow_redirects=False,
                              data={"csrf_token": self.csrf if csrf is None else csrf, **form})

    def ticket_of(self, sender_id: str) -> dict:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for ticket in store.queue(self.database):
                if ticket.sender_id == sender_id:
                    return self.ticket(ticket.id)
            time.sleep(0.5)
        raise AssertionError(f"no ticket for {sender_id}")
