"""List filters are typed by the resource's fields and bounded by what their column stores."""

from __future__ import annotations

import httpx

from tests.api.samples import assert_problem
from tests.conftest import TenantCtx


async def test_an_integer_filter_beyond_64_bits_is_refused_not_a_server_error(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """Found by tests/api/test_fuzz.py: ``?mapping_version=2**63`` reached the driver
    (OverflowError on SQLite, a 500); the column is an INTEGER, 32 bits on PostgreSQL."""
    h = tenant.headers
    for value in (2**31, -(2**31) - 1, 2**63, 10**30):
        r = await client.get("/v1/payload-mappings", params={"mapping_version": value}, headers=h)
        assert_problem(r, 422, "mapping_version", "out of range")
    for value in (2**31 - 1, -(2**31)):
        r = await client.get("/v1/payload-mappings", params={"mapping_version": value}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["items"] == []
    document = (await client.get("/openapi.json")).json()
    params = document["paths"]["/v1/payload-mappings"]["get"]["parameters"]
    schema = next(p["schema"] for p in params if p["name"] == "mapping_version")
    assert schema == {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
