"""A lean MQTT 5 QoS 1 publisher for benchmarks: packets encoded before timing starts.

paho spends ~100 us of Python per QoS 1 publish; on a 2-core machine that shares its cores
with the broker and the bridge, a paho publisher measures itself (it tops out near 10k
messages/s on one core), not the bridge. Like ``loadgen`` for HTTP, this writes prepared
PUBLISH packets on a plain socket and counts PUBACKs, keeping within the broker's Receive
Maximum. Just enough MQTT 5 for that: CONNECT, CONNACK, PUBLISH (QoS 1), PUBACK, DISCONNECT.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Sequence

CONNECT, CONNACK, PUBLISH, PUBACK, DISCONNECT = 1, 2, 3, 4, 14
RECEIVE_MAXIMUM, USER_PROPERTY = 0x21, 0x26


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _text(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("!H", len(raw)) + raw


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + _varint(len(body)) + body


def connect_packet(client_id: str, keepalive: int = 60) -> bytes:
    # Protocol name, level 5, flags: clean start; keep-alive; no properties; client id.
    body = _text("MQTT") + bytes([5, 0x02]) + struct.pack("!H", keepalive) + b"\x00" + _text(client_id)
    return _packet(CONNECT, 0, body)


def publish_packet(
    topic: str, payload: bytes, packet_id: int, user_properties: Sequence[tuple[str, str]]
) -> bytes:
    """A QoS 1 PUBLISH; ``packet_id`` must not be in flight when it is sent."""
    props = b"".join(bytes([USER_PROPERTY]) + _text(k) + _text(v) for k, v in user_properties)
    body = _text(topic) + struct.pack("!H", packet_id) + _varint(len(props)) + props + payload
    return _packet(PUBLISH, 0x02, body)


async def _read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return head >> 4, await reader.readexactly(length) if length else b""


def _receive_maximum(connack: bytes) -> int:
    """The broker's Receive Maximum from CONNACK properties (65,535 when it names none)."""
    if len(connack) < 2 or connack[1] != 0:
        raise ConnectionError(f"MQTT connect refused (reason code {connack[1] if len(connack) > 1 else '?'})")
    i, length, shift = 2, 0, 0
    while True:
        byte = connack[i]
        i += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    props, at = connack[i : i + length], 0
    while at < len(props):
        ident, at = props[at], at + 1
        if ident == RECEIVE_MAXIMUM:
            return int(struct.unpack_from("!H", props, at)[0])
        if ident in _FIXED:
            at += _FIXED[ident]
        elif ident == USER_PROPERTY:  # two strings
            for _ in range(2):
                at += 2 + struct.unpack_from("!H", props, at)[0]
        else:  # a string or binary value
            at += 2 + struct.unpack_from("!H", props, at)[0]
    return 65535


# CONNACK properties of a fixed size: session expiry, maximum packet size (4 bytes); topic alias
# maximum, server keep alive (2); maximum QoS, retain / wildcard / subscription id / shared
# subscription available (1).
_FIXED = {0x11: 4, 0x27: 4, 0x22: 2, 0x13: 2, 0x24: 1, 0x25: 1, 0x28: 1, 0x29: 1, 0x2A: 1}


async def publish_all(
    host: str,
    port: int,
    messages: Sequence[tuple[str, bytes, Sequence[tuple[str, str]]]],
    client_id: str,
    turn: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Publish every (topic, payload, user properties) at QoS 1; returns once all are acknowledged.

    ``await turn(sent)`` before each message lets the caller hold the publisher back (the
    benchmark's flow control against the subscriber falling behind).
    """
    packets = [publish_packet(t, p, i % 65535 + 1, props) for i, (t, p, props) in enumerate(messages)]
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(connect_packet(client_id))
        kind, body = await _read_packet(reader)
        if kind != CONNACK:
            raise ConnectionError(f"expected CONNACK, got packet type {kind}")
        window = min(_receive_maximum(body), 65535)
        acked = 0
        slots = asyncio.Semaphore(window)

        async def read_acks() -> None:
            nonlocal acked
            while acked < len(packets):
                kind, body = await _read_packet(reader)
                if kind == PUBACK:
                    if len(body) > 2 and body[2] >= 0x80:
                        raise RuntimeError(f"publish refused by the broker (reason code {body[2]:#x})")
                    acked += 1
                    slots.release()
                elif kind == DISCONNECT:
                    raise ConnectionError(f"the broker disconnected (reason {body[:1].hex()})")

        acks = asyncio.create_task(read_acks())
        for sent, packet in enumerate(packets):
            if turn is not None:
                await turn(sent)
            await slots.acquire()
            writer.write(packet)
            if sent % 64 == 63:
                await writer.drain()
            if acks.done():
                break
        await writer.drain()
        await acks
        writer.write(_packet(DISCONNECT, 0, b""))
        await writer.drain()
    finally:
        writer.close()
