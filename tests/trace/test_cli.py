"""``supplyline ledger verify`` and ``show`` against the embedded SQLite database."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
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
