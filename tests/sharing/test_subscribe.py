"""Subscribing a URL: only http(s) URLs with a host are taken; anything else is a 422."""

from __future__ import annotations

import httpx

from tests.api.samples import assert_problem
from tests.conftest import TenantCtx


async def test_a_url_python_cannot_parse_is_refused_not_a_server_error(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """Found by tests/api/test_fuzz.py: ``http://[`` made urlparse raise ValueError (a 500)."""
    h = tenant.headers
    for url in ("http://[", "https://[::1", "ftp://host", "http://", "no url"):
        r = await client.post("/v1/webhooks", json={"url": url}, headers=h)
        assert_problem(r, 422, "url", "http(s) URL")
    r = await client.post("/v1/webhooks", json={"url": "https://[2606:4700::1111]:8443/in"}, headers=h)
    assert r.status_code == 201, r.text
