"""``supplyline simulate`` and ``supplyline mock-erp`` from the command line: options and mistakes
said as sentences (the simulation itself is tested in-process in test_simulate)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplyline.cli.app import app
from supplyline.cli.sim import ScenarioName
from supplyline.sim import SCENARIOS
from tests.sim.conftest import closed_port


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("API_KEY", "API_URL", "MQTT_URL"):
        monkeypatch.delenv(f"SUPPLYLINE_{name}", raising=False)
    monkeypatch.setenv("SUPPLYLINE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_the_scenario_choices_are_the_scenarios() -> None:
    assert [s.value for s in ScenarioName] == list(SCENARIOS)


def test_simulate_without_a_key_says_where_to_get_one(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["simulate"])
    assert result.exit_code == 1
    assert "--api-key" in result.stderr and "supplyline demo" in result.stderr


def test_simulate_takes_the_demo_key_and_says_when_the_api_is_unreachable(data_dir: Path) -> None:
    (data_dir / "demo-credentials.json").write_text(json.dumps({"tenant": "demo", "api_key": "sl_x"}))
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(app, ["simulate", "--api-url", url, "--duration", "1"])
    assert result.exit_code == 1, result.output
    assert f"cannot reach the API at {url}" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_options_are_checked(data_dir: Path) -> None:
    for args in (["--transport", "carrier-pigeon"], ["--scenario", "meteor"], ["--speed", "0"]):
        result = CliRunner().invoke(app, ["simulate", "--api-key", "sl_x", *args])
        assert result.exit_code == 2, args


def test_mock_erp_refuses_a_busy_port(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["mock-erp", "--port", str(port)])
    assert result.exit_code == 1 and "in use" in result.stderr
