"""``supplyline ledger verify`` and ``show`` against the embedded SQLite database."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from supplyline import access
from supplyline.bootstrap import Services, build_services
from supplyline.eventlog import ConsumerRunner
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings
from supplyline.trace import CONSUMER_NAME, CheckpointRecorder, ledger_key
from tests.cli.conftest import Invoke
from tests.conftest import TenantCtx
from tests.trace.conftest import TYPES, checkpoints, delete_event, record


def with_acme(fn: Callable[[Services, TenantCtx], Coroutine[Any, Any, None]]) -> None:
    """Run ``fn`` on services built as the CLI builds them, with tenant acme."""

    async def main() -> None:
        settings = Settings()
        svc = build_services(settings)
        try:
            async with svc.read_engine.connect() as conn:
                acme = await access.get_tenant_by_slug(conn, "acme")
            await fn(svc, TenantCtx(acme.id, "acme", "", Scope.system(acme.id)))
        finally:
            await svc.close()

    asyncio.run(main())


async def record_three(svc: Services, acme: TenantCtx) -> None:
    # The CLI's services do not run the recorder (bootstrap wires it): run it beside them,
    # with the key the CLI derives from the same platform secret.
    key = ledger_key(svc.settings.secret_key, svc.settings.data_dir)
    svc.consumers = ConsumerRunner(svc.engine, svc.events, [CheckpointRecorder(TYPES, key)])
    await record(svc, acme, 3)
    assert await svc.consumers.catch_up(CONSUMER_NAME) == 0


async def drop_second_event(svc: Services, acme: TenantCtx) -> None:
    await delete_event(svc, (await checkpoints(svc, acme.id))[1]["event_id"])


@pytest.fixture
def ledger(migrated: None, invoke: Invoke) -> str:
    """Tenant acme with three checkpoints; returns acme's id."""
    created = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    with_acme(record_three)
    tenant_id: str = created["tenant"]["id"]
    return tenant_id


def test_verify_passes_and_show_lists_the_newest(invoke: Invoke, ledger: str) -> None:
    assert "Ledger verified: 3 checkpoints in 1 tenant, no problems." in invoke("ledger", "verify").output
    report = json.loads(invoke("ledger", "verify", "--json", "--tenant", ledger).output)
    assert report == {"ok": True, "checked": 3, "tenants": 1, "problems": []}

    shown = json.loads(invoke("ledger", "show", "--tenant", "acme", "--limit", "2", "--json").output)
    assert [c["seq"] for c in shown["items"]] == [3, 2]
    assert shown["items"][0]["prev_hash"] == shown["items"][1]["hash"]
    table = invoke("ledger", "show").output
    assert table.count("acme") == 3 and "rule.condition" in table


def test_verify_exits_1_and_names_the_problem(invoke: Invoke, ledger: str) -> None:
    with_acme(drop_second_event)
    result = invoke("ledger", "verify", ok=False)
    assert result.exit_code == 1
    assert "event_missing" in result.output and "NOT verified" in result.output
    as_json = invoke("ledger", "verify", "--json", ok=False)
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["ok"] is False
    assert [(p["seq"], p["kind"], p["tenant_id"]) for p in report["problems"]] == [
        (2, "event_missing", ledger)
    ]


@pytest.mark.usefixtures("migrated")
def test_an_unknown_tenant_is_named(invoke: Invoke) -> None:
    for given in ("nobody", str(uuid.UUID(int=1))):
        result = invoke("ledger", "verify", "--tenant", given, ok=False)
        assert result.exit_code == 1
        assert "no tenant" in result.stderr and given in result.stderr
    assert "No checkpoints recorded." in invoke("ledger", "show").output


def test_an_export_verifies_offline_with_the_key_alone_and_any_tampering_fails(
    invoke: Invoke, ledger: str, tmp_path: Path
) -> None:
    path = tmp_path / "acme.json"
    assert "3 leaves written" in invoke("ledger", "export", "acme", "--output", str(path)).output
    doc = json.loads(path.read_text())
    key = doc["verifier_key"]
    report = json.loads(invoke("ledger", "verify", str(path), "--key", key, "--json").output)
    assert report["ok"] and report["tree_size"] == 3 and report["events_checked"] == 3, report
    # A witness keeps this head; two more leaves later, the new export still extends it.
    kept = tmp_path / "kept.note"
    kept.write_text(doc["checkpoint"])

    def tampered(change: Callable[[dict[str, Any]], None]) -> Path:
        bad = json.loads(path.read_text())
        change(bad)
        out = tmp_path / "bad.json"
        out.write_text(json.dumps(bad))
        return out

    def edit_event(d: dict[str, Any]) -> None:
        d["leaves"][1]["event"] = d["leaves"][1]["event"].replace('"data":{', '"data":{"x":1,', 1)

    def change_hash(d: dict[str, Any]) -> None:
        d["leaves"][1]["event_hash"] = "0" * 64
        d["leaves"][1]["event"] = None

    cases: dict[str, Callable[[dict[str, Any]], None]] = {
        "altered": edit_event,
        "root": change_hash,
        "out of order": lambda d: d["leaves"].reverse(),
        "file holds 2": lambda d: d["leaves"].pop(),
        "does not verify": lambda d: d.update(checkpoint=d["checkpoint"].replace("\n3\n", "\n4\n")),
    }
    for expected, change in cases.items():
        result = invoke("ledger", "verify", str(tampered(change)), "--key", key, ok=False)
        assert result.exit_code == 1 and expected in result.output, (expected, result.output)
    # Another key than the log's: nothing verifies, whatever the file says of itself.
    stranger = "supplyline.ledger+00000000+" + "A" * 44
    result = invoke("ledger", "verify", str(path), "--key", stranger, ok=False)
    assert result.exit_code == 1
    # An older tree presented as current: the witness holds more leaves than it.
    with_acme(record_two_more)
    newer = tmp_path / "newer.json"
    invoke("ledger", "export", "acme", "--output", str(newer))
    newer_note = tmp_path / "newer.note"
    newer_note.write_text(json.loads(newer.read_text())["checkpoint"])
    ok = json.loads(
        invoke("ledger", "verify", str(newer), "--key", key, "--witness", str(kept), "--json").output
    )
    assert ok["ok"] and ok["tree_size"] == 5, ok
    stale = invoke("ledger", "verify", str(path), "--key", key, "--witness", str(newer_note), ok=False)
    assert stale.exit_code == 1 and "an older tree" in stale.output


async def record_two_more(svc: Services, acme: TenantCtx) -> None:
    key = ledger_key(svc.settings.secret_key, svc.settings.data_dir)
    svc.consumers = ConsumerRunner(svc.engine, svc.events, [CheckpointRecorder(TYPES, key)])
    await record(svc, acme, 2, start=3)


def test_an_unreadable_export_is_named(invoke: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    result = invoke("ledger", "verify", str(bad), "--key", "a+b+c", ok=False)
    assert result.exit_code == 1 and "cannot read" in result.stderr
