from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from tests.cli.conftest import Invoke, with_services

GOOD: dict[str, Any] = {
    "regions": [{"code": "EU", "name": "Europe"}],
    "sites": [
        {
            "code": "DC-LYON",
            "name": "Lyon DC",
            "kind": "warehouse",
            "region": "EU",
            "timezone": "Europe/Paris",
        }
    ],
    "zones": [{"site": "DC-LYON", "code": "CHILL-1", "name": "Chilled 1", "kind": "chilled"}],
}
BAD: dict[str, Any] = {
    "regions": [{"code": "EU", "name": "Europe"}],
    "sites": [
        {"code": "DC-LYON", "name": "Lyon DC", "kind": "warehouse", "region": "EU"},
        {"code": "ST-1", "name": "Store 1", "kind": "castle", "region": "NOWHERE"},
    ],
}


@pytest.fixture
def acme(migrated: None, invoke: Invoke) -> str:
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    return str(out["tenant"]["id"])


def site_count(tenant_id: str) -> int:
    async def count(services: Services) -> int:
        import uuid

        async with services.engine.connect() as conn:
            page = await services.resources.list_page(
                conn, Scope.system(uuid.UUID(tenant_id)), "sites", limit=100
            )
        return len(page.items)

    return with_services(count)


def write(tmp_path: Path, name: str, body: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_good_file_is_imported(invoke: Invoke, acme: str, tmp_path: Path) -> None:
    result = invoke("import", str(write(tmp_path, "good.json", GOOD)), "--tenant", "acme")
    assert "Imported good.json" in result.output
    assert site_count(acme) == 1


def test_good_file_json_report(invoke: Invoke, acme: str, tmp_path: Path) -> None:
    out = json.loads(
        invoke("import", str(write(tmp_path, "g.json", GOOD)), "--tenant", "acme", "--json").output
    )
    assert out["ok"] is True
    assert out["errors"] == []
    assert out["created"]["sites"] == 1


def test_bad_file_exits_1_lists_every_error_and_writes_nothing(
    invoke: Invoke, acme: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.json", BAD)
    result = invoke("import", str(path), "--tenant", "acme", "--json", ok=False)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    fields = {(e["section"], e["row"], e["field"]) for e in report["errors"]}
    assert ("sites", 2, "kind") in fields
    assert ("sites", 2, "region") in fields
    assert site_count(acme) == 0
    human = invoke("import", str(path), "--tenant", "acme", ok=False)
    assert human.exit_code == 1
    assert "nothing was imported" in human.output
    assert "castle" in human.output or "kind" in human.output


def test_csv_of_one_section_with_kind(invoke: Invoke, acme: str, tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text("code,name\nEU,Europe\nNA,North America\n", encoding="utf-8")
    out = json.loads(invoke("import", str(path), "--tenant", "acme", "--kind", "regions", "--json").output)
    assert out["created"]["regions"] == 2


@pytest.mark.usefixtures("acme")
def test_missing_file_and_unknown_tenant_are_sentences(invoke: Invoke, tmp_path: Path) -> None:
    missing = invoke("import", str(tmp_path / "nope.json"), "--tenant", "acme", ok=False)
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr
    nobody = invoke("import", str(write(tmp_path, "g.json", GOOD)), "--tenant", "nobody", ok=False)
    assert nobody.exit_code == 1
    assert "no tenant 'nobody'" in nobody.stderr
