"""Rasa's Redis lock store, with each change to a conversation's lock made atomically.

Several Rasa servers take one conversation's messages one at a time through Rasa's lock store:
each message draws a numbered ticket from the conversation's lock, kept as one JSON value in
Redis, and waits until its number is served. Rasa 3.6's `RedisLockStore` changes that value by
reading it, changing it in Python and writing it back, so two servers drawing at the same
moment both write a lock with only their own ticket: both are served at once, and the
conversation's events saved by one are overwritten by the other's. Measured with two servers and
six messages of one conversation sent at once (tests/test_scale_out.py): 2 of 7 runs lost one to
three messages.

Here each read-change-write is one Redis transaction (WATCH the key, then MULTI/EXEC, again
if another server changed the key meanwhile), and so is Rasa's "finish my ticket, delete the
lock if nobody waits", which Rasa does in two steps with a window between them for another
server's new ticket to be deleted. The waiting (a poll every second), the lifetimes and the
stored format stay Rasa's, so servers with and without this class can share one Redis.

Loaded by the Rasa server from `lock_store: type: channels.lock_store.AtomicRedisLockStore`,
which the launcher writes into `var/endpoints.yml` when `SUPPORT_REDIS_URL` is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

__all__ = ["AtomicRedisLockStore"]

Result = TypeVar("Result")
# What a change returns to leave the stored lock as it is (None deletes it).
_UNCHANGED = object()


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds a custom lock store from the whole endpoint section; these are RedisLockStore's.
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[Any, Result]]) -> Result:
        """Apply `change` (the lock as stored, or None -> the lock to store, None or _UNCHANGED, and a
        result) as one Redis transaction, and return its result."""
        key = self.key_prefix + conversation_id

        def attempt(pipe: Any) -> Result:
            stored = pipe.get(key)  # watched: EXEC fails, and this runs again, if another server writes it
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            new_lock, result = change(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            elif new_lock is not _UNCHANGED:
                pipe.set(key, new_lock.dumps())
            return result

        return self.red.transaction(attempt, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def draw(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, draw)
        except Exception as error:  # Rasa's own wording and type, which its message handling expects
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def _edit(self, conversation_id: str, edit: Callable[[TicketLock], None]) -> None:
        """Apply `edit` to the stored lock, if there is one, as one transaction."""

        def change(lock: TicketLock | None) -> tuple[Any, None]:
            if lock is None:
                return _UNCHANGED, None
            edit(lock)
            return lock, None

        self._change(conversation_id, change)

    def update_lock(self, conversation_id: str) -> None:
        self._edit(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._edit(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def remove_then_delete_if_nobody_waits(lock: TicketLock | None) -> tuple[Any, None]:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, remove_then_delete_if_nobody_waits)
