"""``supplyline compactor`` as a process: it folds what ingestion landed, and ``serve`` runs one."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from supplyline.bench.fleet import Fleet, prepare_fleet, reading
from supplyline.bootstrap import build_services
from supplyline.telemetry.devices.credentials import sign
from tests.cli.test_serve import cli_env, free_port


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


async def _landed(tmp_path: Path) -> Fleet:
    """A fleet of 20 devices behind a gateway, whose first readings wait in the landing tier."""
    fleet = await prepare_fleet(tmp_path, gateways=1, devices=20, singles=0)
    svc = build_services(fleet.settings())
    try:
        token, secret = fleet.setup["creds"]["gw-0"]
        identity = await svc.telemetry.credentials.identify(token)
        now = int(time.time() * 1000)
        body = orjson.dumps({"readings": [reading(f"s-0-{i}", 1, now) for i in range(20)]})
        assert (await svc.telemetry.ingest.ingest(identity, body, sign(secret, body))).accepted == 20
        await svc.telemetry.writer.stop()
    finally:
        await svc.close()
    return fleet


def _wait(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.1)


@pytest.mark.slow
def test_the_compactor_folds_landed_readings_and_stops_on_sigterm(tmp_path: Path) -> None:
    fleet = asyncio.run(_landed(tmp_path))
    assert _count(fleet.db_path, "telemetry_landing") == 1
    env = fleet.env(SUPPLYLINE_TELEMETRY_COMPACT_AFTER_S="1")
    cmd = [sys.executable, "-m", "supplyline", "compactor"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        _wait(lambda: _count(fleet.db_path, "telemetry_landing") == 0, 30)
        assert _count(fleet.db_path, "telemetry_landing") == 0
        assert _count(fleet.db_path, "telemetry_chunk") == 20  # one chunk per device
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()


def _compactors_of(pid: int) -> list[int]:
    """Processes running ``supplyline compactor`` whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == pid and b"compactor" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc")
def test_serve_runs_a_compactor_beside_it_and_stops_it(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "supplyline", "serve"],
            env=cli_env(tmp_path / "data", port),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait(lambda: _healthy(port) or serve.poll() is not None, 60)
        assert _healthy(port), log.read_text()
        _wait(lambda: bool(_compactors_of(serve.pid)), 10)
        kids = _compactors_of(serve.pid)
        assert kids, "serve started no compactor"
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
    _wait(lambda: not any(_alive(k) for k in kids), 10)
    assert not any(_alive(k) for k in kids), "the compactor outlived serve"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
