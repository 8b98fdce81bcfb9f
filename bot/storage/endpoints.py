"""Rasa endpoint configuration rendered from the settings.

Rasa reads its tracker store and lock store from `endpoints.yml`, in parts
(dialect, host, db...), while operators configure one `DATABASE_URL` and one
`REDIS_URL`. `healthbot run` writes `var/endpoints.yml` from those, so the
whole system shares one configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.settings import Settings

#: Rasa's templated responses, translated for languages without their own (bot/translation).
NLG = {"type": "bot.translation.nlg.TranslatingNLG"}
#: Rasa's Redis lock store with atomic ticket steps (bot/storage/locks.py).
LOCK_STORE = "bot.storage.locks.AtomicRedisLockStore"
#: Counts messages for Prometheus (bot/metrics.py) from the events Rasa publishes.
EVENT_BROKER = {"type": "bot.metrics.MetricsBroker"}
_DIALECTS = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}


def tracker_store_config(database_url: str) -> dict[str, Any]:
    url = make_url(database_url)
    backend = url.get_backend_name()
    dialect = _DIALECTS.get(backend)
    if dialect is None:
        raise ValueError(
            f"DATABASE_URL: unsupported database {backend!r} (use sqlite or postgresql)"
        )
    config: dict[str, Any] = {"type": "SQL", "dialect": dialect, "db": url.database}
    if dialect != "sqlite":
        config.update(
            url=url.host or "localhost",  # Rasa passes `url` on as the host
            port=url.port or 5432,
            username=url.username,
            password=url.password,
            # sslmode, options=-csearch_path...: Rasa passes them to the driver
            query=dict(url.query) or None,
        )
    return {key: value for key, value in config.items() if value is not None}


def lock_store_config(redis_url: str) -> dict[str, Any] | None:
    """A Redis lock store when several Rasa processes share conversations."""
    if not redis_url:
        return None
    url = make_url(redis_url)
    config: dict[str, Any] = {
        "type": LOCK_STORE,
        "url": url.host or "localhost",
        "port": url.port or 6379,
        "db": int(url.database or 0),
    }
    if url.password:
        config["password"] = url.password
    return config


def render_endpoints(settings: Settings) -> dict[str, Any]:
    endpoints: dict[str, Any] = {
        "action_endpoint": {"url": settings.action_url},
        "tracker_store": tracker_store_config(settings.effective_database_url),
        "nlg": NLG,
        "event_broker": EVENT_BROKER,
    }
    lock_store = lock_store_config(settings.redis_url)
    if lock_store:
        endpoints["lock_store"] = lock_store
    return endpoints


def write_endpoints(settings: Settings) -> Path:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path = settings.var_dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(render_endpoints(settings), sort_keys=False), encoding="utf-8")
    return path
