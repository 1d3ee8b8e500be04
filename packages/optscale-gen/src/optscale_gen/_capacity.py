"""A bound on samples in flight across all requests: waves wait for room, new requests are refused.

Requests already running wait for capacity (back-pressure: their tokens are partly spent, failing
them would waste it); a new request arriving while there is no room at all is refused at once,
so a client can retry elsewhere or later (HTTP 429).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class SampleLimiter:
    """Counts samples in flight against ``capacity``.

    Parameters
    ----------
    capacity
        Most samples generated or scored at once, over all requests (>= 1).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.in_use = 0
        self.waiting = 0
        self._freed = asyncio.Event()

    @property
    def full(self) -> bool:
        """No room for a new request: every slot is taken or a wave is already waiting."""
        return self.in_use >= self.capacity or self.waiting > 0

    @asynccontextmanager
    async def hold(self, n: int) -> AsyncIterator[None]:
        """Hold ``n`` slots (at most ``capacity``) for the block, waiting until they are free."""
        n = min(n, self.capacity)
        self.waiting += 1
        try:
            while self.in_use + n > self.capacity:
                self._freed.clear()
                await self._freed.wait()
        finally:
            self.waiting -= 1
        self.in_use += n
        try:
            yield
        finally:
            self.in_use -= n
            self._freed.set()
