from __future__ import annotations

import json

import pytest

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from tests.cli.conftest import Invoke, with_services


def authenticate(token: str) -> Scope:
    async def check(services: Services) -> Scope:
        async with services.engine.connect() as conn:
            return await access.authenticate(conn, token, None)

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
