"""Gathering concurrent messages into one call: the per-message cost of ingestion is small, the
per-call cost (numpy checks, a writer submission, a commit) is not.

Callers await their own answer; whatever arrives while a batch is being prepared waits a moment
and goes into the next one. No timer: a lone message goes straight through, so batching adds
latency only when there is a queue to amortise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

Handler = Callable[[K, Sequence[T]], Awaitable[Sequence[R]]]


class Batcher(Generic[K, T, R]):
    """``await submit(key, item)`` -> that item's answer from ``handler(key, items)``.

    Items of one key (a tenant) are handled together, at most ``max_items`` per call. Several
    calls may be in flight at once, so preparing one batch overlaps committing the previous one.
    """

    def __init__(
        self,
        handler: Handler[K, T, R],
        max_items: int = 1000,
        weight: Callable[[T], int] = lambda _: 1,
        max_weight: int = 2**62,
    ) -> None:
        self.handler = handler
        self.max_items = max_items
        self.weight = weight
        self.max_weight = max_weight
        self._pending: dict[K, list[tuple[T, asyncio.Future[R]]]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, key: K, item: T) -> R:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._gather(), name="telemetry-batcher")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((item, future))
        self._wake.set()
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _gather(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # One turn of the loop lets the requests that are ready now join this batch.
            await asyncio.sleep(0)
            pending, self._pending = self._pending, {}
            for key, items in pending.items():
                for part in self._split(items):
                    task = asyncio.create_task(self._handle(key, part))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)

    def _split(self, items: list[tuple[T, asyncio.Future[R]]]) -> list[list[tuple[T, asyncio.Future[R]]]]:
        """Calls of at most ``max_items`` items and ``max_weight`` (one item alone may exceed it)."""
        parts: list[list[tuple[T, asyncio.Future[R]]]] = [[]]
        weight = 0
        for entry in items:
            w = self.weight(entry[0])
            if parts[-1] and (len(parts[-1]) >= self.max_items or weight + w > self.max_weight):
                parts.append([])
                weight = 0
            parts[-1].append(entry)
            weight += w
        return parts

    async def _handle(self, key: K, items: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            answers = await self.handler(key, [item for item, _ in items])
        except BaseException as exc:
            for _, future in items:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), answer in zip(items, answers, strict=True):
            if not future.done():
                future.set_result(answer)
