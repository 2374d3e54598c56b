"""Fixed-window attempt counters in Redis, shared by every API process."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from backend.errors import RateLimited


_RELEASE = """
if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0 then
  return redis.call('decr', KEYS[1])
end
return 0
"""


class AttemptCounter:
    """Counts events per key in a window; ``limit`` events are allowed, the next is refused."""

    def __init__(self, redis: Redis, namespace: str, *, limit: int, window_seconds: int) -> None:
        self.redis = redis
        self.namespace = namespace
        self.limit = limit
        self.window = window_seconds

    def _key(self, subject: str) -> str:
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"pvpp:ratelimit:{self.namespace}:{digest}"

    async def retry_after(self, subject: str) -> int | None:
        """Seconds until the subject may try again, or ``None`` if it may try now."""
        key = self._key(subject)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= self.limit:
            return max(int(ttl), 1)
        return None

    async def hit(self, subject: str) -> int:
        """Count one event; returns the count in the current window."""
        key = self._key(subject)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.window, nx=True)  # opens the window (works on Redis 6)
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count)

    async def take(self, subject: str) -> None:
        """Count one attempt before it runs, refusing it when the window is full.

        Counting first (one atomic INCR) is what makes the limit hold when many attempts
        arrive at once: reading the count, doing slow work, then counting lets all of them
        through."""
        if await self.hit(subject) > self.limit:
            await self.release(subject)  # a refused attempt is not counted
            raise RateLimited(await self.retry_after(subject) or self.window)

    async def release(self, subject: str) -> None:
        """Give back an attempt counted by :meth:`take` (it did not count, e.g. it succeeded).
        Only while its window lasts: a plain DECR after expiry would leave a key without one."""
        await self.redis.eval(_RELEASE, 1, self._key(subject))

    async def reset(self, subject: str) -> None:
        await self.redis.delete(self._key(subject))
