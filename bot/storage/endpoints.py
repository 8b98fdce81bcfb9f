"""Rasa endpoint configuration rendered from the settings.

Rasa reads its tracker store and lock store from `endpoints.yml`, in parts
(dialect, host, db...), while operators configure one `DATABASE_URL` and one
`REDIS_URL`. `healthbot run` writes `var/endpoints.yml` from those, so the
whole system shares one configuration.

Secrets stay out of the file: it names environment variables (`${...}`, which Rasa
expands when it reads the file) that `healthbot run` sets for the Rasa process only.
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
#: The variables the rendered file refers to, set in the Rasa process's environment.
DB_PASSWORD_VAR = "HEALTHBOT_DB_PASSWORD"
REDIS_PASSWORD_VAR = "HEALTHBOT_REDIS_PASSWORD"
ACTION_TOKEN_VAR = "HEALTHBOT_ACTION_TOKEN"


def _env_ref(name: str) -> str:
    return "${" + name + "}"


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
            password=_env_ref(DB_PASSWORD_VAR) if url.password else None,
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
        config["password"] = _env_ref(REDIS_PASSWORD_VAR)
    return config


def render_endpoints(settings: Settings) -> dict[str, Any]:
    endpoints: dict[str, Any] = {
        # the action server answers only requests with this secret (channels/action_server.py)
        "action_endpoint": {"url": settings.action_url,
                            "headers": {"Authorization": f"Bearer {_env_ref(ACTION_TOKEN_VAR)}"},
                            # no domain in each request: the forms read theirs once
                            # (actions/forms.py)
                            "enable_selective_domain": True},
        "tracker_store": tracker_store_config(settings.effective_database_url),
        "nlg": NLG,
        "event_broker": EVENT_BROKER,
    }
    lock_store = lock_store_config(settings.redis_url)
    if lock_store:
        endpoints["lock_store"] = lock_store
    return endpoints


def endpoint_secrets(settings: Settings) -> dict[str, str]:
    """The values of the variables the rendered file refers to, for the Rasa process."""
    values = {ACTION_TOKEN_VAR: settings.action_token,
              DB_PASSWORD_VAR: make_url(settings.effective_database_url).password,
              REDIS_PASSWORD_VAR: make_url(settings.redis_url).password
              if settings.redis_url else None}
    return {name: value for name, value in values.items() if value}


def write_endpoints(settings: Settings) -> Path:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path = settings.var_dir / "endpoints.yml"
    # a plain dumper: Rasa's resolver, once imported, would quote "${...}" and stop its expansion
    path.write_text(yaml.dump(render_endpoints(settings), Dumper=_PlainDumper, sort_keys=False),
                    encoding="utf-8")
    return path


class _PlainDumper(yaml.SafeDumper):
    """SafeDumper with YAML's own implicit resolvers only (not Rasa's `!env_var`)."""

    yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "!env_var"]
        for key, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()}
