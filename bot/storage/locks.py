"""Rasa's Redis lock store, with its read-modify-write steps made atomic.

Rasa 3.6 issues and returns a conversation's tickets by reading the lock's JSON
from Redis, changing it and writing it back. Two processes doing that at the
same moment each keep only their own ticket, both go ahead, and the tracker
store keeps the events of one of them: a resident's message vanishes (the
two-instance test found it). A short Redis mutex per conversation around each
of those steps makes them atomic; the waiting itself stays Rasa's.
"""

from __future__ import annotations

from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

#: Each guarded step is a few Redis round trips; a holder that died frees it after this.
MUTEX_SECONDS = 10


class AtomicRedisLockStore(RedisLockStore):
    """Created by Rasa from `lock_store: {type: bot.storage.locks.AtomicRedisLockStore}`."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(f"{self.key_prefix}{conversation_id}:mutex",
                             timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)
