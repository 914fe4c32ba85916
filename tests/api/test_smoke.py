from __future__ import annotations

import httpx

from tests.conftest import TenantCtx
from tests.factories import world


async def test_world_builds(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    r = await client.get(f"/v1/sites/{w['dc']['id']}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["code"] == "DC-LYON"
    assert r.headers["etag"] == '"1"'
