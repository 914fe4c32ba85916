"""The real thing: ``supplyline serve`` and ``supplyline demo`` as processes on a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Invoke

V1_RESOURCES = [
    "/v1/organizations",
    "/v1/regions",
    "/v1/sites",
    "/v1/zones",
    "/v1/asset-types",
    "/v1/assets",
    "/v1/device-profiles",
    "/v1/devices",
    "/v1/products",
    "/v1/lots",
    "/v1/orders",
    "/v1/shipments",
    "/v1/inventory-positions",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPLYLINE_")}
    env.update(
        SUPPLYLINE_DATA_DIR=str(data_dir),
        SUPPLYLINE_HOST="127.0.0.1",
        SUPPLYLINE_PORT=str(port),
        SUPPLYLINE_LOG_LEVEL="warning",
    )
    return env


def supplyline() -> list[str]:
    """The console script next to this interpreter, as `make demo` runs it."""
    script = Path(sys.executable).with_name("supplyline")
    return [str(script)] if script.exists() else [sys.executable, "-m", "supplyline"]


@contextmanager
def running(cmd: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    """Start ``cmd``, wait until /healthz answers, yield the base URL, then stop it with SIGTERM."""
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{cmd} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{cmd} did not answer /healthz within 60 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{cmd} ignored SIGTERM:\n{log.read_text()}")
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM), log.read_text()


@pytest.mark.slow
def test_serve_upgrades_the_embedded_database_and_serves_the_api(tmp_path: Path) -> None:
    port = free_port()
    env = cli_env(tmp_path / "data", port)
    with running([sys.executable, "-m", "supplyline", "serve"], env, tmp_path / "serve.log", port) as url:
        ready = httpx.get(f"{url}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        paths = httpx.get(f"{url}/openapi.json", timeout=5).json()["paths"]
        assert set(V1_RESOURCES) <= set(paths)
        assert "/v1/events" in paths
        assert httpx.get(f"{url}/v1/sites", timeout=5).status_code == 401
    log = (tmp_path / "serve.log").read_text()
    assert "Upgraded the database" in log
    assert f"Serving supplyline at {url}" in log


@pytest.mark.slow
def test_demo_serves_the_seeded_tenant_with_the_printed_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = cli_env(data_dir, port)
    with running([*supplyline(), "demo"], env, tmp_path / "demo.log", port) as url:
        token = json.loads((data_dir / "demo-credentials.json").read_text())["api_key"]
        r = httpx.get(f"{url}/v1/shipments", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 200, r.text
        assert [s["number"] for s in r.json()["items"]] == ["SHP-1001"]
    log = (tmp_path / "demo.log").read_text()
    assert token in log
    assert f"curl -s -H 'Authorization: Bearer {token}' '{url}/v1/shipments'" in log
    again = subprocess.run(
        [*supplyline(), "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "Reusing the demo tenant" in again.stdout
    assert token in again.stdout


def test_serve_refuses_an_external_database_behind_head(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPLYLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.setenv("SUPPLYLINE_PORT", str(free_port()))
    result = invoke("serve", ok=False)
    assert result.exit_code == 1
    assert "Run 'supplyline db upgrade' first" in result.stderr


def test_serve_refuses_a_busy_port(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("SUPPLYLINE_HOST", "127.0.0.1")
        monkeypatch.setenv("SUPPLYLINE_PORT", str(busy.getsockname()[1]))
        result = invoke("serve", ok=False)
    assert result.exit_code == 1
    assert "address is in use" in result.stderr
