"""One settings object, read from the environment, for every process of the bot.

The CLI, the supervisor and the servers it starts all call `load_settings()`,
so a deployment is configured in one place (environment variables) and no
module reads `os.environ` on its own.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = ZoneInfo("Europe/Helsinki")

#: ISO 639-1 codes the assistant serves natively (SPEC: Languages): each has NLU
#: training data, hand-written responses and guidance, and needs no translation.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("fi", "sv", "en", "ru", "et", "so", "ar", "uk")
NATIVE_LANGUAGES: tuple[str, ...] = SUPPORTED_LANGUAGES
#: The languages the city's own staff work in: a message in any other language is shown
#: to a nurse translated where a package allows, or marked as not translated.
CITY_LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "en"
TWILIO_API_BASE = "https://api.twilio.com"
#: Argos Translate's public package index, for `healthbot translate download` only.
ARGOS_PACKAGE_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"


def _env_number(name: str, default: float, kind: type = int) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0 and default > 0:
        raise ValueError(f"{name} must be above zero, got {raw!r}")
    return value


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


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
    #: HMAC key of the pseudonyms that stand for phone numbers (`HEALTHBOT_PSEUDONYM_KEY`).
    pseudonym_key: str = ""
    #: Fernet key that encrypts stored phone numbers (`HEALTHBOT_ENCRYPTION_KEY`).
    encryption_key: str = ""
    #: The webhook URL exactly as the SMS operator calls it; signatures are made over it.
    sms_public_url: str = ""
    twilio_api_base: str = TWILIO_API_BASE
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    #: At most this many segments per SMS (a safety answer is never split).
    sms_max_segments: int = 4
    #: The first retry after a gateway error waits this long; each next one twice as long.
    sms_retry_seconds: float = 5.0
    sms_max_attempts: int = 8
    #: When nurses answer the handoff queue, in the directory's notation; closed on holidays.
    nurse_hours: str = "Mon-Fri 08:00-16:00"
    #: Signs the nurse console's session cookies (`HEALTHBOT_SESSION_KEY`).
    session_key: str = ""
    #: Console cookies only over HTTPS (`HEALTHBOT_COOKIE_SECURE=1` behind TLS).
    cookie_secure: bool = False
    #: Installed Argos Translate packages (`ARGOS_PACKAGES_DIR`, default `var/argos-packages`).
    argos_packages_dir: Path = field(
        default_factory=lambda: PROJECT_ROOT / "var" / "argos-packages")
    #: Where `healthbot translate download` looks for packages (a connected machine only).
    argos_package_index: str = ARGOS_PACKAGE_INDEX
    #: A translation that takes longer is given up (seconds); the English text is used.
    translation_timeout: float = 10.0
    #: Translations kept in memory per process, most recently used first.
    translation_cache_size: int = 4096
    #: Conversations, tickets and queues untouched this many days are deleted (daily).
    retention_days: int = 30
    #: Networks that may read `/webhooks/ops/` (metrics), `OPS_ALLOW`, space-separated CIDRs.
    ops_allow: tuple[IPv4Network | IPv6Network, ...] = (
        ip_network("127.0.0.0/8"), ip_network("::1/128"))
    #: Reverse proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`, CIDRs);
    #: from any other peer the header is ignored.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    #: Rasa's HTTP API (`/model`, `/conversations`...) is served (`HEALTHBOT_RASA_API=0` turns
    #: it off); it always needs `rasa_api_token`.
    rasa_api_enabled: bool = True
    #: The token every Rasa HTTP API request carries (`RASA_API_TOKEN`, else made once).
    rasa_api_token: str = ""
    #: Interface of the action server (`ACTION_HOST`); only Rasa calls it.
    action_host: str = "127.0.0.1"
    #: The secret Rasa sends the action server (`HEALTHBOT_ACTION_TOKEN`, else made once).
    action_token: str = ""
    #: A web chat session with no message for this long is over (`WEBCHAT_IDLE_HOURS`).
    webchat_idle_hours: float = 24.0
    #: New web chat sessions one client address may start per 10 minutes, per server
    #: process (`WEBCHAT_SESSION_LIMIT`); raise it for places where many residents share
    #: one address (a library, a school).
    webchat_session_limit: int = 30

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'healthbot.db'}"

    @property
    def action_url(self) -> str:
        host = "127.0.0.1" if self.action_host in ("0.0.0.0", "::", "") else self.action_host
        return f"http://{_url_host(host)}:{self.action_port}/webhook"

    @property
    def sms_configured(self) -> bool:
        """Everything the SMS channel needs to check webhooks and send replies."""
        return all((self.pseudonym_key, self.encryption_key, self.sms_public_url,
                    self.twilio_account_sid, self.twilio_auth_token, self.twilio_from_number))

    def now(self) -> datetime:
        """The current time in Helsinki, or the fixed `HEALTHBOT_NOW` for tests."""
        if self.now_override:
            fixed = datetime.fromisoformat(self.now_override)
            if fixed.tzinfo is None:
                raise ValueError("HEALTHBOT_NOW needs a UTC offset, e.g. 2026-12-24T10:00+02:00")
            return fixed.astimezone(TIMEZONE)
        return datetime.now(TIMEZONE)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _networks(name: str, default: str) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(cidr, strict=False) for cidr in _env(name, default).split())
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _env_flag(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    return default if not raw else raw in ("1", "true", "yes", "on")


def load_settings() -> Settings:
    """Build settings from the environment."""
    home = Path(os.environ.get("HEALTHBOT_HOME", PROJECT_ROOT)).resolve()
    var_dir = Path(os.environ.get("HEALTHBOT_VAR_DIR", home / "var")).resolve()
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
        var_dir=var_dir,
        pseudonym_key=_env("HEALTHBOT_PSEUDONYM_KEY"),
        encryption_key=_env("HEALTHBOT_ENCRYPTION_KEY"),
        sms_public_url=_env("SMS_PUBLIC_URL"),
        twilio_api_base=_env("TWILIO_API_BASE", TWILIO_API_BASE).rstrip("/"),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
        twilio_from_number=_env("TWILIO_FROM_NUMBER"),
        sms_max_segments=_env_int("SMS_MAX_SEGMENTS", 4),
        sms_retry_seconds=_env_number("SMS_RETRY_SECONDS", 5.0, float),
        sms_max_attempts=_env_int("SMS_MAX_ATTEMPTS", 8),
        nurse_hours=_env("NURSE_HOURS", "Mon-Fri 08:00-16:00"),
        session_key=_env("HEALTHBOT_SESSION_KEY"),
        cookie_secure=_env_flag("HEALTHBOT_COOKIE_SECURE", False),
        argos_packages_dir=Path(
            _env("ARGOS_PACKAGES_DIR") or var_dir / "argos-packages"
        ).resolve(),
        argos_package_index=_env("ARGOS_PACKAGE_INDEX", ARGOS_PACKAGE_INDEX),
        translation_timeout=_env_number("TRANSLATION_TIMEOUT", 10.0, float),
        translation_cache_size=_env_int("TRANSLATION_CACHE_SIZE", 4096),
        retention_days=_env_int("RETENTION_DAYS", 30),
        ops_allow=_networks("OPS_ALLOW", "127.0.0.0/8 ::1/128"),
        trusted_proxies=_networks("TRUSTED_PROXIES", ""),
        rasa_api_enabled=_env_flag("HEALTHBOT_RASA_API", True),
        rasa_api_token=_env("RASA_API_TOKEN"),
        action_host=_env("ACTION_HOST", "127.0.0.1"),
        action_token=_env("HEALTHBOT_ACTION_TOKEN"),
        webchat_idle_hours=_env_number("WEBCHAT_IDLE_HOURS", 24.0, float),
        webchat_session_limit=_env_int("WEBCHAT_SESSION_LIMIT", 30),
    )


def private_var_dir(settings: Settings) -> None:
    """`var/` and everything in it readable by its owner only: it holds the database
    (conversations, password hashes), the keys and the rendered endpoints. Files made
    before the CLI set its umask are tightened too."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    settings.var_dir.chmod(0o700)
    for path in settings.var_dir.rglob("*"):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & 0o700)


def local_secrets(settings: Settings) -> dict[str, str]:
    """Keys the environment does not set, kept in `var/secrets.env` (mode 0600) so a
    laptop keeps its pseudonyms, stored numbers and console sessions across restarts.
    A production server sets these variables itself."""
    from cryptography.fernet import Fernet

    wanted = {"HEALTHBOT_PSEUDONYM_KEY": settings.pseudonym_key,
              "HEALTHBOT_ENCRYPTION_KEY": settings.encryption_key,
              "HEALTHBOT_SESSION_KEY": settings.session_key,
              "RASA_API_TOKEN": settings.rasa_api_token,
              "HEALTHBOT_ACTION_TOKEN": settings.action_token}
    missing = [name for name, value in wanted.items() if not value]
    if not missing:
        return {}
    path = settings.var_dir / "secrets.env"
    stored = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line) \
        if path.exists() else {}
    generators = {"HEALTHBOT_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode()}
    for name in missing:
        stored.setdefault(name, generators.get(name, lambda: secrets.token_urlsafe(32))())
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{name}={value}\n" for name, value in stored.items()))
    return {name: stored[name] for name in missing}
