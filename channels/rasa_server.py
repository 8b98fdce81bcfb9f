"""`rasa run` with its HTTP API behind the operator's token.

    python -m bot.logs channels.rasa_server --model ... --endpoints ... (rasa run's options)

The token comes from the environment (`RASA_API_TOKEN`), not the command line, where
every user of the host could read it in the process list. With `HEALTHBOT_RASA_API=0`
the API is not served at all; the channels under `/webhooks/` are served either way.
Action server responses are checked by a schema validator compiled once
(`bot.dialogue.action_responses`).
"""

from __future__ import annotations

import runpy
import sys

from bot.dialogue import action_responses
from bot.settings import Settings, load_settings


def rasa_arguments(settings: Settings, options: list[str]) -> list[str]:
    """`rasa run`'s command line: the given options, then the API and its token."""
    if not settings.rasa_api_enabled:
        return ["rasa", "run", *options]
    if not settings.rasa_api_token:
        raise SystemExit("RASA_API_TOKEN is not set (`healthbot run` makes one); "
                         "set HEALTHBOT_RASA_API=0 to serve no API")
    return ["rasa", "run", *options, "--enable-api", "--auth-token", settings.rasa_api_token]


def main() -> None:
    action_responses.install()
    sys.argv = rasa_arguments(load_settings(), sys.argv[1:])
    runpy.run_module("rasa", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
