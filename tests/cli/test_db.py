from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from supplyline.bootstrap import Services
from supplyline.db import migrate
from supplyline.db.migrate import current_revision, head_revision
from tests.cli.conftest import Invoke, with_services


async def _revision(services: Services) -> str | None:
    return await current_revision(services.engine)


def test_upgrade_creates_the_schema_at_head_on_a_fresh_file(invoke: Invoke, data_dir: Path) -> None:
    assert not data_dir.exists()
    result = invoke("db", "upgrade")
    assert "Upgraded" in result.output
    assert (data_dir / "supplyline.db").is_file()
    assert with_services(_revision) == head_revision()
    current = json.loads(invoke("db", "current", "--json").output)
    assert current["current"] == head_revision()
    assert current["at_head"] is True


def test_upgrade_twice_is_a_no_op(invoke: Invoke) -> None:
    invoke("db", "upgrade")
    assert "already at revision" in invoke("db", "upgrade").output


def test_downgrade_to_base_empties_the_schema(invoke: Invoke) -> None:
    invoke("db", "upgrade")
    result = json.loads(invoke("db", "downgrade", "--revision", "base", "--json").output)
    assert result["to"] is None
    assert with_services(_revision) is None
    assert json.loads(invoke("db", "current", "--json").output)["at_head"] is False


def test_unknown_revision_is_a_sentence_not_a_traceback(invoke: Invoke) -> None:
    result = invoke("db", "upgrade", "--revision", "9999", ok=False)
    assert result.exit_code == 1
    assert "cannot upgrade to '9999'" in result.stderr


def test_commands_refuse_a_database_behind_head(invoke: Invoke) -> None:
    result = invoke("admin", "bootstrap", ok=False)
    assert result.exit_code == 1
    assert "supplyline db upgrade" in result.stderr


def test_unsupported_database_url_is_reported(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPLYLINE_DATABASE_URL", "mysql://db/app")
    result = invoke("db", "current", ok=False)
    assert result.exit_code == 1
    assert "unsupported database 'mysql'" in result.stderr


def test_bad_setting_names_the_variable(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPLYLINE_PORT", "eighty")
    result = invoke("db", "current", ok=False)
    assert result.exit_code == 1
    assert "SUPPLYLINE_PORT" in result.stderr


def test_revision_writes_the_next_numbered_migration(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    head = migrate.head_revision()
    assert head is not None
    result = invoke("db", "revision", "pallet dimensions", "--empty")
    expected = f"{int(head) + 1:04d}"
    assert f"{expected}_pallet_dimensions.py" in result.output
    assert migrate.chain()[-1].down_revision == head
