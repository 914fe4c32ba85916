"""``supplyline bench mqtt``: the real MQTT bridge on SQLite, signed QoS 1 messages via Mosquitto.

Figures, measured from the first publish until every reading is stored in the database:
- messages_per_s: 100 devices publish one signed reading per message on their own topics;
- readings_per_s: 10 gateways publish signed batches of 50 readings for the devices behind them.

Needs a broker at SUPPLYLINE_BENCH_MQTT_URL (default mqtt://127.0.0.1:1883). The bridge runs as
``python -m supplyline mqtt-bridge`` in a subprocess with its own shared-subscription group; the
publisher is the product's gmqtt one (``telemetry.mqtt_publish``), about 20 us of Python a QoS 1
publish, so the figures are the bridge's rather than the publisher's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from supplyline.bench.fleet import TENANT, prepare_fleet, reading
from supplyline.telemetry import Signed, broker_address, publish_all, sign, telemetry_topic

DEFAULT_URL = "mqtt://127.0.0.1:1883"
Item = Signed  # built before timing starts


def _single_items(setup: dict[str, Any], count: int, base_ms: int) -> list[Item]:
    """One reading per message, each device on its own topic, its own credential."""
    codes = setup["singles"]
    out = []
    for n in range(count):
        code = codes[n % len(codes)]
        _, secret = setup["creds"][code]
        body = orjson.dumps(reading(code, n // len(codes) + 1, base_ms + n))
        out.append((telemetry_topic(TENANT, code), body, sign(secret, body)))
    return out


def _batch_items(setup: dict[str, Any], gateways: int, count: int, batch: int, base_ms: int) -> list[Item]:
    """Gateways publish for their devices on their own topic; gateways interleaved."""
    per = setup["per"]
    per_round = per // batch  # messages per gateway to cover each of its devices once
    out = []
    for n in range(count):
        g = n % gateways
        k = n // gateways  # this gateway's k-th message
        rnd, part = divmod(k, per_round)
        _, secret = setup["creds"][f"gw-{g}"]
        ts = base_ms + rnd * 1000
        readings = [
            reading(f"s-{g}-{i}", 1_000_000 + rnd, ts) for i in range(part * batch, (part + 1) * batch)
        ]
        body = orjson.dumps({"readings": readings})
        out.append((telemetry_topic(TENANT, f"gw-{g}"), body, sign(secret, body)))
    return out


def _stored(db_path: Path) -> int:
    """Readings committed (read-only). The bridge defers compaction past the run, so every one
    of them is in a landing row: a reading compacted half-way would be counted in both tiers."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        landing = db.execute("SELECT coalesce(sum(count), 0) FROM telemetry_landing").fetchone()[0]
    finally:
        db.close()
    return int(landing)


async def _phase(
    url: str,
    db_path: Path,
    items: list[Item],
    target: int,
    publishers: int,
    window: int,
    bridge: subprocess.Popen[bytes],
    limit_s: float,
) -> tuple[float, float]:
    """(seconds from the first publish until ``target`` readings are stored, publish seconds)."""
    base = await asyncio.to_thread(_stored, db_path)
    per_message = (target - base) // len(items)
    stored = [0]  # messages stored so far, for the publishers' flow control
    # Mosquitto keeps at most max_queued_messages (1,000 by default) beyond what a subscriber
    # has in flight (its Receive Maximum, 10,000 for the bridge) and drops QoS 1 messages past
    # that, so the publishers stay at most ``window`` messages ahead of what the bridge has
    # stored; stored messages wait for their acknowledgement a little longer, in order.
    ahead = window // publishers
    progress = asyncio.Condition()

    async def turn(sent: int) -> None:
        if sent - stored[0] >= ahead:
            async with progress:
                await progress.wait_for(lambda: sent - stored[0] < ahead)

    shares = [items[i::publishers] for i in range(publishers)]
    tag = uuid.uuid4().hex[:8]
    start = time.perf_counter()
    senders = [
        asyncio.create_task(publish_all(url, share, f"bench-pub-{tag}-{i}", turn))
        for i, share in enumerate(shares)
    ]
    published: float | None = None
    while True:
        if published is None and all(t.done() for t in senders):
            published = time.perf_counter() - start
            for t in senders:
                t.result()  # raises what made a publisher fail
        if bridge.poll() is not None:
            raise RuntimeError("the MQTT bridge exited; see bridge.log in the work directory")
        got = await asyncio.to_thread(_stored, db_path)
        stored[0] = (got - base) // per_message // publishers
        async with progress:
            progress.notify_all()
        if got >= target:
            elapsed = time.perf_counter() - start
            break
        if time.perf_counter() - start > limit_s:
            raise RuntimeError(f"only {got} of {target} readings stored after {limit_s:.0f} s")
        await asyncio.sleep(0.01)
    await asyncio.gather(*senders)
    return elapsed, published if published is not None else elapsed


async def _wait_subscribed(log: Path, bridge: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while b"subscribed" not in await asyncio.to_thread(log.read_bytes):
        if bridge.poll() is not None:
            tail = (await asyncio.to_thread(log.read_bytes))[-2000:].decode(errors="replace")
            raise RuntimeError(f"the MQTT bridge exited during start-up:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError("the MQTT bridge did not subscribe within 30 s; see bridge.log")
        await asyncio.sleep(0.05)


async def run_mqtt_bench(
    work_dir: Path,
    *,
    url: str | None = None,
    gateways: int = 10,
    devices: int = 10_000,
    singles: int = 100,
    single_messages: int = 20_000,
    batch_messages: int = 2_000,
    batch: int = 50,
    publishers: int = 1,
    window: int = 1000,
    limit_s: float = 120,
) -> dict[str, Any]:
    url = url or os.environ.get("SUPPLYLINE_BENCH_MQTT_URL", DEFAULT_URL)
    try:
        socket.create_connection(broker_address(url), timeout=2).close()
    except OSError as exc:
        raise RuntimeError(f"no MQTT broker at {url} ({exc}); set SUPPLYLINE_BENCH_MQTT_URL") from None
    fleet = await prepare_fleet(work_dir, gateways, devices, singles)
    db_path, setup = fleet.db_path, fleet.setup
    base_ms = int(time.time() * 1000) - 3_600_000
    # The first message of each device and gateway warms the bridge (credentials, directory)
    # before timing starts: the figures are for a bridge in service, not one starting up.
    warm_single, warm_batch = singles, gateways
    single_items = _single_items(setup, warm_single + single_messages, base_ms)
    batch_items = _batch_items(setup, gateways, warm_batch + batch_messages, batch, base_ms + 60_000)
    uid = uuid.uuid4().hex[:10]
    env = fleet.env(
        SUPPLYLINE_MQTT_URL=url,
        SUPPLYLINE_MQTT_GROUP=f"bench-{uid}",
        SUPPLYLINE_MQTT_CLIENT_ID=f"bench-bridge-{uid}",
        SUPPLYLINE_TELEMETRY_COMPACT_AFTER_S="3600",
    )
    log = work_dir / "bridge.log"
    with log.open("wb") as out:
        # A real bridge process; a file, not a pipe nobody reads, takes its output.
        bridge = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "supplyline", "mqtt-bridge"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        await _wait_subscribed(log, bridge)
        stored = warm_single
        await _phase(url, db_path, single_items[:warm_single], stored, 1, window, bridge, limit_s)
        stored += single_messages
        s_wall, s_pub = await _phase(
            url, db_path, single_items[warm_single:], stored, publishers, window, bridge, limit_s
        )
        stored += warm_batch * batch
        await _phase(url, db_path, batch_items[:warm_batch], stored, 1, window, bridge, limit_s)
        readings = batch_messages * batch
        stored += readings
        b_wall, b_pub = await _phase(
            url, db_path, batch_items[warm_batch:], stored, publishers, window, bridge, limit_s
        )
    finally:
        bridge.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(bridge.wait, 30)
        except subprocess.TimeoutExpired:
            bridge.kill()
    return {
        "messages_per_s": round(single_messages / s_wall),
        "readings_per_s": round(readings / b_wall),
        "batch_messages_per_s": round(batch_messages / b_wall),
        "single_publish_s": round(s_pub, 2),
        "single_stored_s": round(s_wall, 2),
        "batch_publish_s": round(b_pub, 2),
        "batch_stored_s": round(b_wall, 2),
        "single_messages": single_messages,
        "single_devices": singles,
        "batch_messages": batch_messages,
        "batch": batch,
        "readings": readings,
        "gateways": gateways,
        "devices": devices,
        "publishers": publishers,
        "window": window,
        "qos": 1,
        "signed": True,
        "backend": "sqlite",
    }
