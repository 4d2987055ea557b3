"""What the GraphQL view does before it executes a document: automatic persisted
queries, and one shared answer to identical anonymous queries for a second.

**Persisted queries** follow Apollo's convention: a client sends
``extensions.persistedQuery = {"version": 1, "sha256Hash": ...}`` without the document;
an unknown hash is answered ``PERSISTED_QUERY_NOT_FOUND`` and the client sends the
document with the hash once, which registers it. The documents live in each worker's
memory (bounded), so with several workers a client may register a document once per
worker (docs/decisions/0026).

**The response cache**: anonymous callers all see the same public data, so an
anonymous query whose document, operation and variables equal one answered less than
``LAUREL_LEADERBOARD_CACHE_SECONDS`` ago (the services' ``board_cache`` time to live)
gets that answer: the same staleness the board pages already have. Identical requests
that arrive together run once. Only answers without errors are kept (so an answer
never carries a message in another caller's language); signed-in callers are never
served from it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import orjson
from strawberry.types import ExecutionResult

from leaderboards.cache import TTLCache
from server.rewards.text import Text, msg

__all__ = [
    "MAX_CACHED_CHARS",
    "PersistedQueries",
    "PersistedQueryError",
    "ResponseCache",
]

MAX_CACHED_CHARS = 10_000  # longer documents (or variables) are run, not kept
_NOT_FOUND = "PersistedQueryNotFound"


class PersistedQueryError(Exception):
    """A persisted-query request that cannot run: ``status`` and ``code`` for the answer,
    ``text`` for the reader (``message`` its English)."""

    def __init__(self, text: Text, code: str, status: int) -> None:
        super().__init__(str(text))
        self.text = text
        self.message = str(text)
        self.code = code
        self.status = status


class PersistedQueries:
    """Documents by their SHA-256, the least recently used dropped beyond ``capacity``."""

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._documents: OrderedDict[str, str] = OrderedDict()

    def document(self, query: str | None, extensions: object) -> str | None:
        """The document to run: ``query`` itself, or the one the hash names (registered
        when the request carries both). Raises ``PersistedQueryError``. (Strawberry has
        refused a ``query`` that is neither a string nor null already.)"""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError(
                msg("Unsupported persisted query: send version 1 and a sha256Hash."),
                "PERSISTED_QUERY_NOT_SUPPORTED",
                400,
            )
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str):
            raise PersistedQueryError(
                msg("persistedQuery.sha256Hash must be a string."), "BAD_REQUEST", 400
            )
        wanted = wanted.lower()
        if query is None:
            found = self._documents.get(wanted)
            if found is None:
                # Apollo's clients look for this exact message: never translated.
                raise PersistedQueryError(Text(_NOT_FOUND), "PERSISTED_QUERY_NOT_FOUND", 200)
            self._documents.move_to_end(wanted)
            return found
        if hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest() != wanted:
            raise PersistedQueryError(msg("provided sha does not match query"), "BAD_REQUEST", 400)
        if len(query) <= MAX_CACHED_CHARS:
            self._documents[wanted] = query
            self._documents.move_to_end(wanted)
            while len(self._documents) > self._capacity:
                self._documents.popitem(last=False)
        return query


def _cacheable(result: ExecutionResult) -> bool:
    return not result.errors and result.data is not None


class ResponseCache:
    """Answers of anonymous queries younger than ``ttl`` seconds; ``ttl`` 0 keeps none."""

    def __init__(
        self, ttl: float, *, capacity: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._answers: TTLCache[ExecutionResult] = TTLCache(ttl, capacity=capacity, clock=clock)
        # None when the first request failed: the others then run their own.
        self._running: dict[Hashable, asyncio.Future[ExecutionResult | None]] = {}
        self.enabled = ttl > 0

    @staticmethod
    def key(query: str, operation_name: str | None, variables: Any) -> Hashable | None:
        """The request's key, or None when it is too large to keep."""
        if len(query) > MAX_CACHED_CHARS:
            return None
        try:
            given = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
        except TypeError:  # orjson.JSONEncodeError is one
            return None
        if len(given) > MAX_CACHED_CHARS:
            return None
        return (query, operation_name, given)

    async def answer(
        self, key: Hashable, run: Callable[[], Awaitable[ExecutionResult]]
    ) -> ExecutionResult:
        """The kept answer, the one being worked out for the same key, or ``run()``'s."""
        kept = self._answers.get(key)
        if kept is not None:
            return kept
        running = self._running.get(key)
        if running is not None:
            shared = await asyncio.shield(running)
            return shared if shared is not None and _cacheable(shared) else await run()
        future: asyncio.Future[ExecutionResult | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        result: ExecutionResult | None = None
        try:
            result = await run()
        finally:
            del self._running[key]
            future.set_result(result)
        if _cacheable(result):
            self._answers.put(key, result)
        return result
