"""``supplyline bench ingest``: the real server on loopback, SQLite, signed gateway batches.

Figures, all measured in one run so the machine's noise hits both sides alike:
- readings_per_s, p50_ms, p99_ms: 10 gateways post signed batches for 10,000 devices;
- raw_rows_per_s: the conventional layout's limit, plain sqlite3 executemany of the same
  readings (one row each, index on (device_id, ts), same batch size and sync mode); ratio is
  ours over it;
- single_readings_per_s, single_p99_ms: 32 devices posting one signed reading per request;
- single_baseline_per_s, single_baseline_p99_ms: the same requests over the same connections
  to a bare FastAPI + uvicorn endpoint (``bench.bare_ingest``: no authentication, JSON decoded,
  one row inserted and committed per request, same ``synchronous``); single_ratio is ours over
  it;
- bytes_per_point: database size over stored metric values, after compaction.

A first round of one reading per device, and 500 single readings, go in untimed, on both sides:
the figures are for a server in service.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from supplyline.bench.fleet import Fleet, prepare_fleet, reading
from supplyline.bench.loadgen import drive, percentile, request_bytes
from supplyline.bootstrap import build_services
from supplyline.db import create_engine
from supplyline.telemetry import sign

METRICS = ("temperature_c", "humidity_pct", "battery_v", "door_open")
SINGLE_CONNECTIONS = 32  # one per single-reading device
WARMUP = 500  # untimed single readings before the timed ones, on both sides


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _batches(
    setup: dict[str, Any], gateways: int, rounds: int, host: str
) -> tuple[list[bytes], list[list[Any]]]:
    """Signed gateway batches, and the same readings as rows for the reference.

    Devices get ids in random order (as registration would hand them out) and each batch lists
    its readings in random order, so both sides see devices interleaved as in the field.
    """
    rng = random.Random(7)  # noqa: S311 - a repeatable shuffle, not a secret
    per = setup["per"]
    ids = list(range(gateways * per))
    rng.shuffle(ids)
    base = int(time.time() * 1000) - rounds * 1000
    requests, rows = [], []
    for k in range(rounds):
        for g in range(gateways):
            token, secret = setup["creds"][f"gw-{g}"]
            order = list(range(per))
            rng.shuffle(order)
            readings = [reading(f"s-{g}-{i}", k, base + k * 1000) for i in order]
            body = orjson.dumps({"readings": readings})
            headers = {"Authorization": f"Bearer {token}", "X-Signature": sign(secret, body)}
            requests.append(request_bytes(host, "/v1/telemetry", body, headers))
            rows.append(
                [
                    (ids[g * per + i], r["ts"], *r["metrics"].values())
                    for i, r in zip(order, readings, strict=True)
                ]
            )
    return requests, rows


def _singles(setup: dict[str, Any], count: int, host: str) -> list[bytes]:
    out, base = [], int(time.time() * 1000)
    codes = setup["singles"]
    for n in range(count):
        code = codes[n % len(codes)]
        token, secret = setup["creds"][code]
        body = orjson.dumps(reading(code, 1_000_000 + n, base + n))
        out.append(
            request_bytes(
                host,
                "/v1/telemetry",
                body,
                {"Authorization": f"Bearer {token}", "X-Signature": sign(secret, body)},
            )
        )
    return out


def _reference(path: Path, warm: list[list[Any]], batches: list[list[Any]], sync: str) -> float:
    """The conventional layout's limit: one row per reading, (device_id, ts) index; ``warm``
    goes in first, untimed, as on our side."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={sync}")
    db.execute(
        "CREATE TABLE reading (device_id INTEGER, ts INTEGER, temperature_c REAL, humidity_pct REAL,"
        " battery_v REAL, door_open REAL)"
    )
    db.execute("CREATE INDEX ix_reading ON reading (device_id, ts)")
    for rows in warm:
        db.executemany("INSERT INTO reading VALUES (?, ?, ?, ?, ?, ?)", rows)
    start = time.perf_counter()
    for rows in batches:
        db.execute("BEGIN")
        db.executemany("INSERT INTO reading VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return sum(len(b) for b in batches) / elapsed


def _db_bytes(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_count = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    return int((page_count - free) * size)


async def run_ingest_bench(
    work_dir: Path,
    *,
    devices: int = 10_000,
    gateways: int = 10,
    rounds: int = 30,
    connections: int = 4,
    singles: int = 32,
    single_requests: int = 4000,
) -> dict[str, Any]:
    fleet = await prepare_fleet(work_dir, gateways, devices, singles)
    db_path, setup, base_bytes = fleet.db_path, fleet.setup, _db_bytes(fleet.db_path)
    sync = await _server_synchronous(fleet)
    port = _free_port()
    host = f"127.0.0.1:{port}"
    batch_requests, rows = _batches(setup, gateways, rounds + 1, host)  # round 0 warms up
    single_requests_bytes = _singles(setup, WARMUP + single_requests, host)
    # The bare endpoint is measured just before and just after our server, and the two averaged:
    # noise from the rest of a shared machine then falls on both sides of the ratio alike.
    bare = [await _bare(work_dir / "bare-before.db", single_requests_bytes, sync, port)]
    env = fleet.env(
        SUPPLYLINE_PORT=str(port), SUPPLYLINE_ACCESS_LOG="false", SUPPLYLINE_TELEMETRY_MAX_BATCH="5000"
    )
    serve = [sys.executable, "-m", "supplyline", "serve"]
    with server_process(serve, env, work_dir / "server.log") as server:
        await _wait_ready("127.0.0.1", port, server)
        # One reading per device first, untimed: the figures are for a server in service, not one
        # meeting 10,000 devices for the first time (their first-seen events, the projection
        # catching up with the fleet just registered).
        _, _, status = await drive("127.0.0.1", port, batch_requests[:gateways], connections)
        bad = [s for s in status if s != 200]
        await _wait_consumers(db_path)
        wall, lat, status = await drive("127.0.0.1", port, batch_requests[gateways:], connections)
        bad += [s for s in status if s != 200]
        # Let the server fold the batch backlog into chunks before timing single readings:
        # that is a separate scenario, and how long the catch-up takes is reported on its own.
        catchup = await _wait_compacted(db_path)
        _, _, status = await drive("127.0.0.1", port, single_requests_bytes[:WARMUP], SINGLE_CONNECTIONS)
        s_wall, s_lat, s_status = await drive(
            "127.0.0.1", port, single_requests_bytes[WARMUP:], SINGLE_CONNECTIONS
        )
        bad += [s for s in [*status, *s_status] if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} requests failed, e.g. HTTP {bad[0]}")
    bare.append(await _bare(work_dir / "bare-after.db", single_requests_bytes, sync, port))
    svc = build_services(fleet.settings())
    try:
        await svc.telemetry.compactor.drain()
    finally:
        await svc.close()
    points = (sum(len(b) for b in rows) + WARMUP + single_requests) * len(METRICS)
    warm, rows = rows[:gateways], rows[gateways:]  # both sides time the same rounds
    readings = sum(len(b) for b in rows)
    raw = _reference(work_dir / "reference.db", warm, rows, sync)
    ours, single = readings / wall, single_requests / s_wall
    bare_per_s = sum(b[0] for b in bare) / len(bare)
    return {
        "readings_per_s": round(ours),
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "raw_rows_per_s": round(raw),
        "ratio": round(ours / raw, 3),
        "bytes_per_point": round((_db_bytes(db_path) - base_bytes) / points, 1),
        "compaction_catchup_s": round(catchup, 1),
        "single_readings_per_s": round(single),
        "single_p99_ms": round(percentile(s_lat, 99) * 1000, 1),
        "single_baseline_per_s": round(bare_per_s),
        "single_baseline_p99_ms": round(max(b[1] for b in bare) * 1000, 1),
        "single_ratio": round(single / bare_per_s, 3),
        "readings": readings,
        "devices": devices,
        "batch": setup["per"],
        "connections": connections,
        "single_connections": SINGLE_CONNECTIONS,
        "sync": sync,
        "backend": "sqlite",
    }


async def _bare(db: Path, requests: list[bytes], sync: str, port: int) -> tuple[float, float]:
    """The bare endpoint (``bench.bare_ingest``) under the same single readings: requests per
    second and p99 latency in seconds, after the same untimed warm-up as ours."""
    args = [sys.executable, "-m", "supplyline.bench.bare_ingest", str(db), sync, str(port)]
    with server_process(args, dict(os.environ), db.with_suffix(".log")) as server:
        await _wait_ready("127.0.0.1", port, server)
        _, _, status = await drive("127.0.0.1", port, requests[:WARMUP], SINGLE_CONNECTIONS)
        wall, lat, more = await drive("127.0.0.1", port, requests[WARMUP:], SINGLE_CONNECTIONS)
    bad = [s for s in [*status, *more] if s != 200]
    if bad:
        raise RuntimeError(f"the bare endpoint failed {len(bad)} requests, e.g. HTTP {bad[0]}")
    return (len(requests) - WARMUP) / wall, percentile(lat, 99)


async def _server_synchronous(fleet: Fleet) -> str:
    """The ``synchronous`` setting our writer's connections use, as SQLite names it."""
    engine = create_engine(fleet.url)
    try:
        async with engine.connect() as conn:
            level = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one()
    finally:
        await engine.dispose()
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[int(level)]


@contextlib.contextmanager
def server_process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server in a process of its own, interrupted (as Ctrl-C would) on the way out."""
    with log.open("wb") as log_file:
        # stderr to a file, not a pipe: a pipe nobody reads blocks the server once 64 KB is written.
        server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log_file)  # noqa: S603
        try:
            yield server
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def _wait_consumers(db_path: Path, limit_s: float = 120) -> None:
    """Until every event consumer has reached the head of the event log."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        db = sqlite3.connect(db_path)
        try:
            head = db.execute("SELECT coalesce(max(position), 0) FROM eventlog_event").fetchone()[0]
            behind = db.execute("SELECT count(*) FROM eventlog_consumer WHERE position < ?", (head,))
            if not behind.fetchone()[0]:
                return
        finally:
            db.close()
        await asyncio.sleep(0.2)
    raise RuntimeError("the event consumers did not catch up within the limit")


async def _wait_compacted(db_path: Path, limit_s: float = 180) -> float:
    """Seconds until the server's compactor has emptied the landing table."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        db = sqlite3.connect(db_path)
        try:
            waiting = db.execute("SELECT count(*) FROM telemetry_landing").fetchone()[0]
        finally:
            db.close()
        if not waiting:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - start


async def _wait_ready(host: str, port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up; see server.log in the work directory")
        try:
            _, w = await asyncio.open_connection(host, port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start within 30 s")
