"""Structured logs: one JSON object per line, with personal data redacted.

Every process of the bot (the supervisor, the Rasa server, the action server)
logs through `configure`. Rasa and the action server install colored console
logging on start (`coloredlogs.install`); `python -m bot.logs rasa ...` runs
them with that call pointed here, so their lines are JSON too.

Phone numbers, e-mail addresses and Finnish personal identity codes are
replaced wherever text reaches a log, whatever the level: in the message, its
arguments and tracebacks. Message text itself is logged only at DEBUG, by Rasa.
"""

from __future__ import annotations

import json
import logging
import os
import re
import runpy
import sys
from datetime import datetime, timezone
from typing import Any

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
#: Finnish personal identity code: DDMMYY, century sign, individual number, check mark.
_HETU = re.compile(
    r"(?<![\w])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]"
    r"(?![\w])"
)
#: International (+358 40 123 4567, 00358...) or Finnish (040 123 4567, 09 310 1234).
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d\.)(?:(?:\+|00)\d{1,3}|0)[ -]?\d{1,4}(?:[ -]?\d{2,5}){1,4}(?!\w|\.\d)"
)
_MIN_PHONE_DIGITS = 7


def _phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[phone]" if digits >= _MIN_PHONE_DIGITS else match.group(0)


def redact(text: str) -> str:
    """The text with e-mail addresses, identity codes and phone numbers replaced."""
    text = _EMAIL.sub("[email]", text)
    text = _HETU.sub("[hetu]", text)
    return _PHONE.sub(_phone, text)


class JsonFormatter(logging.Formatter):
    """time, level, logger, process and the (redacted) message; a traceback under `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str | int = "INFO", *_args: Any, **_kwargs: Any) -> None:
    """JSON lines on standard error for every logger, at `level` for the bot's and Rasa's.
    (Takes and ignores `coloredlogs.install`'s other arguments, which it replaces.)"""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else logging.getLevelName(str(level).upper()))
    logging.captureWarnings(True)


def adopt(*names: str) -> None:
    """Send loggers that were given handlers of their own (Sanic's, when its app is
    made) through the root's JSON handler instead."""
    for name in names:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def main() -> None:
    """`python -m bot.logs rasa run ...` / `python -m bot.logs rasa_sdk ...`."""
    import coloredlogs

    configure(os.environ.get("LOG_LEVEL", "INFO"))  # JSON from the first import on
    coloredlogs.install = configure
    module, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
