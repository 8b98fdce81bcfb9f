"""The action server: rasa_sdk's app, bound to `ACTION_HOST` (loopback by default) and
answering only Rasa, which sends the shared secret (`HEALTHBOT_ACTION_TOKEN`) as a bearer
token (see `bot/storage/endpoints.py`).

Without the secret, anyone who reached the port could run any action with a made-up
tracker (a forged `action_handoff_relay` wrote into another resident's ticket).
`GET /health` stays open: it says only that the process answers.

    python -m bot.logs channels.action_server
"""

from __future__ import annotations

import hmac

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, load_settings

ACTIONS_PACKAGE = "actions"
OPEN_PATHS = frozenset({"/health"})


def bearer_matches(header: str | None, secret: str) -> bool:
    """Whether an `Authorization` header carries `secret`, compared in constant time."""
    scheme, _, sent = (header or "").partition(" ")
    return bool(secret) and scheme.lower() == "bearer" and \
        hmac.compare_digest(sent.strip().encode(), secret.encode())


def build_app(settings: Settings) -> Sanic:
    """rasa_sdk's app with no CORS (no browser may call it) and the secret required."""
    app = create_app(ACTIONS_PACKAGE, cors_origins=None)

    @app.middleware("request")
    async def only_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or bearer_matches(request.headers.get("Authorization"),
                                                        settings.action_token):
            return None
        return response.json({"error": "unauthorized",
                              "reason": "the action server answers only the Rasa server"},
                             status=401)

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main() -> None:
    settings = load_settings()
    if not settings.action_token:
        raise SystemExit("HEALTHBOT_ACTION_TOKEN is not set (`healthbot run` makes one)")
    build_app(settings).run(settings.action_host, settings.action_port, access_log=False,
                            workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
