"""A small HTTP/1.1 keep-alive client for benchmarks.

httpx costs ~0.5-1 ms of CPU per request; on a 2-core machine shared with the server that
would measure the client, not the server. This one writes prepared request bytes and parses
just enough of the answer (status, Content-Length) to reuse the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence


def request_bytes(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def drive(
    host: str, port: int, requests: Sequence[bytes], connections: int
) -> tuple[float, list[float], list[int]]:
    """Send every prepared request over ``connections`` keep-alive connections.

    Returns the wall time, each request's latency in seconds and each status code.
    """
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(requests)):
        queue.put_nowait(i)
    latencies = [0.0] * len(requests)
    statuses = [0] * len(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                writer.write(requests[i])
                statuses[i], _ = await _read_response(reader)
                latencies[i] = time.perf_counter() - start
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - start, latencies, statuses


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
