"""The processed-order record in Redis (shared by every consumer replica): order id -> times processed."""

from __future__ import annotations

from redis.asyncio import Redis


class ProcessedStore:
    def __init__(self, redis: Redis, group_id: str) -> None:
        self.redis = redis
        self.key = f"order-consumer:{group_id}:processed"

    async def seen(self, order_id: str) -> bool:
        return bool(await self.redis.hexists(self.key, order_id))

    async def mark(self, order_id: str) -> int:
        """Record one more processing of `order_id`; returns how many times it has now been processed."""
        return int(await self.redis.hincrby(self.key, order_id, 1))

    async def summary(self) -> dict[str, int]:
        raw = await self.redis.hgetall(self.key)
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}
