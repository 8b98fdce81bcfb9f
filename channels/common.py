"""What every channel of ours needs: the app's database, kept off the event loop, and
the conversation's language as the dialogue left it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from sanic import Sanic
from sqlalchemy.engine import Engine

from bot.settings import Settings, load_settings
from bot.storage.db import make_engine


class StoreBacked:
    """A channel with the app's tables; settings and engine come from the environment
    unless a test passes its own."""

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self._settings = settings
        self._engine = engine

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    async def _db(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """SQLAlchemy is synchronous: keep it off the event loop."""
        return await asyncio.to_thread(partial(function, self.engine, *args, **kwargs))


async def conversation_language(app: Sanic, sender_id: str) -> str | None:
    """The `language` slot of a conversation, read from Rasa's tracker store."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    return tracker.get_slot("language") if tracker else None
