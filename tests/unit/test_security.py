"""The doors that only the project may open, tested in-process: Rasa's API token, the
action server's secret, secrets out of `endpoints.yml`, private files, SMS replays and
the client address behind a proxy."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from types import SimpleNamespace

import pytest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_testing.testing import SanicTestClient
from sqlalchemy.engine import Engine

from bot.settings import Settings, load_settings, private_var_dir
from bot.storage import sms
from bot.storage.db import utcnow
from bot.storage.endpoints import endpoint_secrets, write_endpoints
from bot.storage.retention import purge
from channels.action_server import bearer_matches, build_app
from channels.common import client_address
from channels.ops import OpsChannel
from channels.rasa_server import rasa_arguments

TOKEN = "operator-token"


def _client(app: Sanic) -> SanicTestClient:
    return SanicTestClient(app, port=None)  # the app served on a free loopback port


def _api_app(settings: Settings) -> Sanic:
    """A server like Rasa's: an API route of Rasa's and the ops channel's blueprint."""
    app = Sanic(f"api-{id(settings)}")

    @app.get("/conversations/<conversation_id>/tracker")
    async def tracker(request: Request, conversation_id: str) -> HTTPResponse:
        return response.json({"sender_id": conversation_id})

    @app.get("/version")
    async def version(request: Request) -> HTTPResponse:
        return response.json({"version": "3.6"})

    app.ctx.agent = None
    app.blueprint(OpsChannel(settings).blueprint(lambda message: None),
                  url_prefix="/webhooks/ops")
    return app


@pytest.mark.parametrize("path", ["/conversations/someone/tracker", "/version"])
def test_rasas_routes_refuse_a_request_without_the_token(path: str) -> None:
    client = _client(_api_app(Settings(rasa_api_token=TOKEN)))
    for query in ("", "?token=", "?token=wrong", f"?token={TOKEN}x"):
        _, reply = client.get(path + query)
        assert reply.status == 401, query
        assert reply.json["error"] == "unauthorized"
    _, reply = client.get(f"{path}?token={TOKEN}")
    assert reply.status == 200


def test_without_the_api_no_token_opens_rasas_routes() -> None:
    client = _client(_api_app(Settings(rasa_api_token=TOKEN, rasa_api_enabled=False)))
    _, reply = client.get(f"/conversations/someone/tracker?token={TOKEN}")
    assert reply.status == 401
    _, reply = client.get("/webhooks/ops/health")  # the channels are served either way
    assert reply.status == 200


def test_rasa_is_started_with_the_token_from_the_environment_only() -> None:
    options = ["--model", "m.tar.gz"]
    assert rasa_arguments(Settings(rasa_api_token=TOKEN), options) == [
        "rasa", "run", "--model", "m.tar.gz", "--enable-api", "--auth-token", TOKEN]
    assert rasa_arguments(Settings(rasa_api_enabled=False), options) == [
        "rasa", "run", "--model", "m.tar.gz"]
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        rasa_arguments(Settings(), options)


def test_the_action_server_answers_only_with_the_secret() -> None:
    client = _client(build_app(Settings(action_token="shared-secret")))
    _, health = client.get("/health")
    assert health.status == 200
    forged = {"next_action": "action_handoff_relay", "sender_id": "someone",
              "tracker": {"sender_id": "someone", "slots": {"handoff_ticket": 1}}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "shared-secret"},
                    {"Authorization": "Basic shared-secret"}):
        _, reply = client.post("/webhook", json=forged, headers=headers)
        assert reply.status == 401, headers
        _, listing = client.get("/actions", headers=headers)
        assert listing.status == 401
    _, listing = client.get("/actions", headers={"Authorization": "Bearer shared-secret"})
    assert listing.status == 200
    assert {"name": "action_handoff_relay"} in listing.json


def test_a_bearer_header_matches_only_its_secret() -> None:
    assert bearer_matches("Bearer s3cret", "s3cret")
    assert bearer_matches("bearer s3cret", "s3cret")
    assert not bearer_matches("Bearer s3cret", "")
    assert not bearer_matches(None, "s3cret")
    assert not bearer_matches("Bearer s3cre", "s3cret")


def test_endpoints_yml_names_the_secrets_and_rasa_expands_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    settings = replace(load_settings(), var_dir=tmp_path, action_token="act-secret",
                       database_url="postgresql://bot:db-pw@db.example:5432/health",
                       redis_url="redis://:redis-pw@cache.example:6379/2")
    path = write_endpoints(settings)
    written = path.read_text()
    for secret in ("act-secret", "db-pw", "redis-pw"):
        assert secret not in written
    for name, value in endpoint_secrets(settings).items():
        monkeypatch.setenv(name, value)
    action = read_endpoint_config(str(path), "action_endpoint")
    assert action.headers == {"Authorization": "Bearer act-secret"}
    assert read_endpoint_config(str(path), "tracker_store").kwargs["password"] == "db-pw"
    assert read_endpoint_config(str(path), "lock_store").kwargs["password"] == "redis-pw"


def test_sqlite_and_a_url_without_passwords_need_no_variables(tmp_path: Path) -> None:
    settings = replace(load_settings(), var_dir=tmp_path, action_token="a", database_url="",
                       redis_url="redis://127.0.0.1:6379/0")
    assert endpoint_secrets(settings) == {"HEALTHBOT_ACTION_TOKEN": "a"}


def test_var_is_private_also_for_files_made_before(tmp_path: Path) -> None:
    settings = replace(load_settings(), var_dir=tmp_path / "var")
    (tmp_path / "var" / "argos-packages").mkdir(parents=True)
    old = tmp_path / "var" / "healthbot.db"
    old.write_text("")
    old.chmod(0o644)
    (tmp_path / "var").chmod(0o755)
    private_var_dir(settings)
    for path in [tmp_path / "var", *(tmp_path / "var").rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_message_sid_is_refused_after_the_purge_too(engine: Engine) -> None:
    now = utcnow()
    sms.remember_number(engine, "sms-a", "token", now)
    assert sms.receive(engine, "SM-captured-1", "sms-a", "hei", 0, now)
    deleted = purge(engine, timedelta(minutes=1), now=now + timedelta(days=400))
    assert deleted["sms_inbound"] == 1
    assert sms.seen(engine, "SM-captured-1")
    assert not sms.receive(engine, "SM-captured-1", "sms-a", "hei", 0, now + timedelta(days=400))
    assert not sms.seen(engine, "SM-other")


def _request(peer: str, forwarded: list[str] | None = None) -> SimpleNamespace:
    headers = SimpleNamespace(getall=lambda name, default: forwarded or default)
    return SimpleNamespace(ip=peer, headers=headers)


def test_the_client_address_comes_from_forwarded_headers_only_through_a_trusted_proxy(
        ) -> None:
    proxies = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))
    assert client_address(_request("198.51.100.7", ["203.0.113.9"]), proxies) == "198.51.100.7"
    assert client_address(_request("127.0.0.1", ["203.0.113.9"]), proxies) == "203.0.113.9"
    # a client's own X-Forwarded-For is on the left: the proxies' hops decide
    assert client_address(_request("127.0.0.1", ["1.2.3.4, 203.0.113.9, 10.1.2.3"]),
                          proxies) == "203.0.113.9"
    assert client_address(_request("127.0.0.1", ["1.2.3.4", "203.0.113.9"]),
                          proxies) == "203.0.113.9"
    assert client_address(_request("127.0.0.1"), proxies) == "127.0.0.1"
    assert client_address(_request("127.0.0.1", ["203.0.113.9"]), ()) == "127.0.0.1"


def test_the_sms_backlog_answers_only_the_operators_networks() -> None:
    from channels.sms import SmsInput

    def status(settings: Settings) -> int:
        app = Sanic(f"sms-{id(settings)}")
        app.blueprint(SmsInput(settings).blueprint(lambda message: None),
                      url_prefix="/webhooks/sms")
        _, reply = _client(app).get("/webhooks/sms/", headers={"X-Forwarded-For": "10.1.2.3"})
        return reply.status

    assert status(Settings(ops_allow=(ip_network("10.0.0.0/8"),),
                           trusted_proxies=(ip_network("127.0.0.1/32"),))) == 403
    assert status(Settings()) == 200  # loopback, the default
