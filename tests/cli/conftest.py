"""Run the CLI in-process against a SQLite file in a temporary data dir.

CLI commands run their own event loop (``asyncio.run``), so these tests are sync; a check that
needs the database opens its own loop the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import Result
from typer.testing import CliRunner

from supplyline.bootstrap import Services, build_services
from supplyline.cli.app import app
from supplyline.settings import Settings

T = TypeVar("T")
Invoke = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean environment: the embedded SQLite default under a fresh data dir."""
    for name in ("DATABASE_URL", "ADMIN_TOKEN", "HOST", "PORT", "RUN_CONSUMERS", "LOG_LEVEL"):
        monkeypatch.delenv(f"SUPPLYLINE_{name}", raising=False)
    path = tmp_path / "data"
    monkeypatch.setenv("SUPPLYLINE_DATA_DIR", str(path))
    yield path


@pytest.fixture
def invoke(data_dir: Path) -> Invoke:
    def run(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, f"{args}: {result.output}\n{result.stderr}"
        assert "Traceback" not in result.output + result.stderr
        return result

    return run


@pytest.fixture
def migrated(invoke: Invoke) -> None:
    invoke("db", "upgrade")


def with_services(fn: Callable[[Services], Coroutine[Any, Any, T]]) -> T:
    """Run ``fn`` with services built from the environment, as the CLI builds them."""

    async def main() -> T:
        services = build_services(Settings())
        try:
            return await fn(services)
        finally:
            await services.close()

    return asyncio.run(main())


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]
