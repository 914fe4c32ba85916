"""Gathering concurrent messages: one call for what waits together, answers kept apart."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from supplyline.telemetry.ingest.batching import Batcher


async def test_what_waits_together_is_handled_in_one_call_per_key_and_size() -> None:
    calls: list[tuple[str, list[bytes]]] = []

    async def handler(key: str, items: Sequence[bytes]) -> list[int]:
        calls.append((key, list(items)))
        return [len(i) for i in items]

    batcher: Batcher[str, bytes, int] = Batcher(handler, max_items=3, weight=len, max_weight=10)
    submitted = [("a", b"x"), ("a", b"yy"), ("b", b"z"), ("a", b"123456789"), ("a", b"q"), ("a", b"r")]
    answers = await asyncio.gather(*(batcher.submit(k, v) for k, v in submitted))
    assert answers == [1, 2, 1, 9, 1, 1]
    assert sorted(calls) == [("a", [b"123456789", b"q"]), ("a", [b"r"]), ("a", [b"x", b"yy"]), ("b", [b"z"])]
    await batcher.close()


async def test_a_failing_call_fails_its_own_items_only() -> None:
    async def handler(key: str, items: Sequence[int]) -> list[int]:
        if key == "bad":
            raise RuntimeError("database unreachable")
        return list(items)

    batcher: Batcher[str, int, int] = Batcher(handler)
    good, bad = await asyncio.gather(
        batcher.submit("ok", 7), batcher.submit("bad", 8), return_exceptions=True
    )
    assert good == 7
    assert isinstance(bad, RuntimeError)
    await batcher.close()
