"""One settings object, read from the environment, for every process of the bot.

The CLI, the supervisor and the servers it starts all call `load_settings()`,
so a deployment is configured in one place (environment variables) and no
module reads `os.environ` on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = ZoneInfo("Europe/Helsinki")

#: ISO 639-1 codes the assistant serves natively or is about to (SPEC: Languages).
SUPPORTED_LANGUAGES: tuple[str, ...] = ("fi", "sv", "en", "ru", "et", "so", "ar", "uk")
#: Languages with NLU training data and hand-written responses for every message.
NATIVE_LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "en"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Deployment configuration; every field has a default that works on a laptop."""

    home: Path = PROJECT_ROOT
    database_url: str = ""
    redis_url: str = ""
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    log_level: str = "INFO"
    now_override: str = ""
    #: Origins of city pages that embed the widget (`HEALTHBOT_CORS`, space-separated).
    cors_origins: tuple[str, ...] = ()
    model_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "models")
    #: Runtime state (SQLite file, rendered endpoints) lives here.
    var_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'healthbot.db'}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def now(self) -> datetime:
        """The current time in Helsinki, or the fixed `HEALTHBOT_NOW` for tests."""
        if self.now_override:
            fixed = datetime.fromisoformat(self.now_override)
            if fixed.tzinfo is None:
                raise ValueError("HEALTHBOT_NOW needs a UTC offset, e.g. 2026-12-24T10:00+02:00")
            return fixed.astimezone(TIMEZONE)
        return datetime.now(TIMEZONE)


def load_settings() -> Settings:
    """Build settings from the environment."""
    home = Path(os.environ.get("HEALTHBOT_HOME", PROJECT_ROOT)).resolve()
    return Settings(
        home=home,
        database_url=os.environ.get("DATABASE_URL", "").strip(),
        redis_url=os.environ.get("REDIS_URL", "").strip(),
        host=os.environ.get("HEALTHBOT_HOST", "127.0.0.1").strip() or "127.0.0.1",
        rasa_port=_env_int("RASA_PORT", 5005),
        action_port=_env_int("ACTION_PORT", 5055),
        log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        now_override=os.environ.get("HEALTHBOT_NOW", "").strip(),
        cors_origins=tuple(os.environ.get("HEALTHBOT_CORS", "").split()),
        model_dir=Path(os.environ.get("HEALTHBOT_MODEL_DIR", home / "models")).resolve(),
        var_dir=Path(os.environ.get("HEALTHBOT_VAR_DIR", home / "var")).resolve(),
    )
