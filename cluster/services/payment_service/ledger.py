"""The idempotent ledger in Redis: one atomic Lua script decides whether money is taken for a key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

# KEYS[1] record of this idempotency key, KEYS[2] hash key -> times money was taken
# ARGV[1] the new record (JSON), ARGV[2] the idempotency key
_RECORD_ONCE = """
local existing = redis.call('GET', KEYS[1])
if existing then
  return {0, existing}
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return {1, ARGV[1]}
"""


@dataclass(frozen=True)
class Outcome:
    created: bool
    conflict: bool
    response: dict[str, Any]


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


class Ledger:
    """`kind` is "charge" or "capture"; each has its own records and counts."""

    def __init__(self, redis: Redis, kind: str) -> None:
        self.redis = redis
        self.kind = kind
        self.counts_key = f"payment:{kind}:counts"
        self._script = redis.register_script(_RECORD_ONCE)

    def _record_key(self, key: str) -> str:
        return f"payment:{self.kind}:record:{key}"

    async def record_once(self, key: str, request: dict[str, Any], response: dict[str, Any]) -> Outcome:
        """Store (request, response) under `key` unless the key exists; atomic across replicas."""
        fp = fingerprint(request)
        record = json.dumps({"fingerprint": fp, "request": request, "response": response})
        created, stored = await self._script(keys=[self._record_key(key), self.counts_key], args=[record, key])
        existing = json.loads(stored)
        if created:
            return Outcome(created=True, conflict=False, response=response)
        return Outcome(created=False, conflict=existing["fingerprint"] != fp, response=existing["response"])

    async def counts(self) -> dict[str, int]:
        raw = await self.redis.hgetall(self.counts_key)
        return {_text(k): int(v) for k, v in raw.items()}

    async def count(self, key: str) -> tuple[int, dict[str, Any] | None]:
        count = await self.redis.hget(self.counts_key, key)
        stored = await self.redis.get(self._record_key(key))
        return (int(count) if count is not None else 0), (json.loads(stored) if stored else None)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
