from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supplyline import access, audit
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Unauthorized
from supplyline.kernel.scope import Scope
from tests.cli.conftest import Invoke, with_services


def authenticate(token: str) -> Scope:
    async def check(services: Services) -> Scope:
        async with services.engine.connect() as conn:
            return await access.authenticate(conn, token, None, rules=services.visibility)

    return with_services(check)


@pytest.mark.usefixtures("migrated")
def test_create_tenant_prints_a_key_that_authenticates(invoke: Invoke) -> None:
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme Corp", "--json").output)
    assert out["tenant"]["slug"] == "acme"
    scope = authenticate(out["api_key"]["token"])
    assert str(scope.tenant_id) == out["tenant"]["id"]
    assert scope.roles == ["tenant_admin"]


@pytest.mark.usefixtures("migrated")
def test_create_tenant_shows_the_key_once_for_humans(invoke: Invoke) -> None:
    result = invoke("admin", "create-tenant", "globex", "--name", "Globex")
    assert "Tenant created" in result.output
    assert "shown once" in result.output
    token = next(word for word in result.output.split() if word.startswith("sl_"))
    assert authenticate(token).tenant_id is not None


@pytest.mark.usefixtures("migrated")
def test_create_tenant_refusals_are_sentences(invoke: Invoke) -> None:
    invoke("admin", "create-tenant", "acme", "--name", "Acme")
    taken = invoke("admin", "create-tenant", "acme", "--name", "Acme again", ok=False)
    assert taken.exit_code == 1
    assert "a tenant with slug 'acme' exists" in taken.stderr
    bad = invoke("admin", "create-tenant", "Not A Slug", "--name", "X", ok=False)
    assert bad.exit_code == 1
    assert "slug:" in bad.stderr


@pytest.mark.usefixtures("migrated")
def test_bootstrap_creates_a_platform_admin_key(invoke: Invoke) -> None:
    out = json.loads(invoke("admin", "bootstrap", "--json").output)
    scope = authenticate(out["api_key"]["token"])
    assert scope.is_platform
    assert scope.tenant_id is None


def _revoke_every_key(tenant_id: str) -> None:
    async def revoke(services: Services) -> None:
        scope = Scope.system(uuid.UUID(tenant_id))
        async with services.uow() as uow:
            for key in await access.list_api_keys(uow.conn, scope):
                await access.revoke_api_key(uow, scope, key.id)
            await uow.commit()

    with_services(revoke)


def _audit_entries(tenant_id: str) -> list[dict[str, Any]]:
    async def entries(services: Services) -> list[dict[str, Any]]:
        async with services.engine.connect() as conn:
            page = await audit.list_entries(conn, uuid.UUID(tenant_id), audit.AuditFilter(), None, 100)
        return list(page.items)

    return with_services(entries)


@pytest.mark.usefixtures("migrated")
def test_create_key_recovers_a_tenant_whose_keys_are_all_revoked(invoke: Invoke) -> None:
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    tenant_id, first = out["tenant"]["id"], out["api_key"]["token"]
    _revoke_every_key(tenant_id)
    with pytest.raises(Unauthorized):
        authenticate(first)

    made = json.loads(
        invoke("admin", "create-key", "acme", "--role", "tenant_admin", "--name", "recovery", "--json").output
    )
    scope = authenticate(made["api_key"]["token"])
    assert str(scope.tenant_id) == tenant_id
    assert scope.roles == ["tenant_admin"]

    listed = json.loads(invoke("admin", "list-keys", tenant_id, "--json").output)["items"]
    statuses = {(k["name"], k["status"]) for k in listed}
    assert statuses == {("first admin key", "revoked"), ("recovery", "active")}
    assert all("token" not in k and "secret_hash" not in k for k in listed)

    entries = {e["action"]: e for e in _audit_entries(tenant_id)}
    created = entries["api_keys.create"]
    assert created["actor"].startswith("operator:")
    assert created["object"] == f"api-keys/{made['api_key']['id']}"
    assert made["api_key"]["token"] not in json.dumps(created)
    assert entries["api_keys.list"]["actor"] == created["actor"]


@pytest.mark.usefixtures("migrated")
def test_create_key_for_humans_shows_the_secret_once_and_honours_expiry(invoke: Invoke) -> None:
    invoke("admin", "create-tenant", "globex", "--name", "Globex")
    result = invoke("admin", "create-key", "globex", "--role", "auditor", "--expires", "90d")
    assert "shown once" in result.output
    token = next(word for word in result.output.split() if word.startswith("sl_"))
    assert authenticate(token).roles == ["auditor"]
    listed = json.loads(invoke("admin", "list-keys", "globex", "--json").output)["items"]
    auditor = next(k for k in listed if k["role"] == "auditor")
    expires = datetime.fromisoformat(auditor["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert "auditor" in invoke("admin", "list-keys", "globex").output


@pytest.mark.usefixtures("migrated")
def test_create_key_refusals_are_sentences(invoke: Invoke) -> None:
    invoke("admin", "create-tenant", "acme", "--name", "Acme")
    cases = {
        ("nowhere", "--role", "tenant_admin"): "no tenant 'nowhere'",
        ("acme", "--role", "wizard"): "wizard",
        ("acme", "--role", "auditor", "--expires", "soon"): "--expires",
        ("acme", "--role", "auditor", "--expires", "2020-01-01T00:00:00Z"): "not in the future",
        ("acme", "--role", "auditor", "--expires", "2030-01-01T00:00:00"): "offset",
    }
    for args, said in cases.items():
        refused = invoke("admin", "create-key", *args, ok=False)
        assert refused.exit_code == 1, args
        assert said in refused.stderr, (args, refused.stderr)
    listed = json.loads(invoke("admin", "list-keys", "acme", "--json").output)["items"]
    assert [k["name"] for k in listed] == ["first admin key"]  # nothing half-made
