"""The CLI's own writes (tenants, platform keys) leave entries as the API's do, secrets left out."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from supplyline.bootstrap import Services
from tests.audit.conftest import entries
from tests.cli.conftest import Invoke, with_services


def _entries(tenant_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    async def read(services: Services) -> list[dict[str, Any]]:
        return await entries(services, tenant_id)

    return with_services(read)


@pytest.mark.usefixtures("migrated")
def test_admin_commands_are_recorded(invoke: Invoke) -> None:
    made = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    tenant_id = uuid.UUID(made["tenant"]["id"])
    [created] = _entries(tenant_id)
    assert (created["action"], created["subject"], created["actor"]) == (
        "tenants.create",
        f"tenants/{tenant_id}",
        "cli",
    )
    assert created["after"]["admin_key_id"] == made["api_key"]["id"]
    assert made["api_key"]["token"] not in created["raw"]

    key = json.loads(invoke("admin", "bootstrap", "--json").output)["api_key"]
    issued = _entries()[-1]
    assert (issued["action"], issued["subject"], issued["tenant_id"]) == (
        "api_keys.create",
        f"api-keys/{key['id']}",
        None,
    )
    assert key["token"] not in issued["raw"] and issued["after"]["prefix"] == key["prefix"]
