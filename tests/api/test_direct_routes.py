"""POST /v1/telemetry served directly (api.middleware.DirectRoutes) answers as the router would.

The same valid and invalid requests go to the app as served and to the same app with every
request left to the router; status, header names, bodies and audit entries must agree, and
every answer carries the headers of any other route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest

from supplyline.api import create_app
from supplyline.bootstrap import Services
from tests.access.test_quotas import Clock, clock, set_tenant_quota
from tests.audit.conftest import entries
from tests.conftest import TenantCtx
from tests.telemetry.fleet import Device, fleet, now_ms

# An incoming request: body bytes and headers, made fresh for each side (a reading sent twice
# would be a duplicate the second time).
Make = Callable[[int], tuple[bytes, dict[str, str]]]
VOLATILE = {"x-request-id", "x-correlation-id", "content-length", "retry-after"}
__all__ = ["clock"]  # the fixture: the throttle's clock stands still unless a test moves it


@pytest.fixture
async def routed(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, run_consumers=False, direct=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


def requests(device: Device, max_body: int) -> dict[str, Make]:
    def reading(n: int) -> dict[str, Any]:
        return {
            "device": device.code,
            "seq": n,
            "ts": now_ms() - 60_000 + n,
            "metrics": {"temperature_c": 4.5},
        }

    def signed(body: Callable[[int], Any]) -> Make:
        return lambda n: device.signed(orjson.dumps(body(n)))

    def unsigned(n: int) -> tuple[bytes, dict[str, str]]:
        return orjson.dumps(reading(n)), {}

    def bad_token(n: int) -> tuple[bytes, dict[str, str]]:
        raw, headers = device.signed(orjson.dumps(reading(n)))
        return raw, {**headers, "Authorization": "Bearer sld_abcdefabcdef_" + "A" * 43}

    return {
        "one reading": signed(reading),
        "a batch": signed(lambda n: {"readings": [reading(n * 10 + k) for k in range(3)]}),
        "no token": unsigned,
        "bad token": bad_token,
        "bad signature": lambda n: device.signed(orjson.dumps(reading(n)), "00" * 32),
        "bad JSON": lambda n: device.signed(b'{"device": '),
        "too large": lambda n: device.signed(b" " * (max_body + 1)),
    }


def shape(r: httpx.Response) -> tuple[int, set[str], Any]:
    body = r.json()
    if isinstance(body, dict):
        body.pop("retry_after", None)
    return r.status_code, set(r.headers) - VOLATILE, body


async def test_direct_answers_equal_the_routers(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, services: Services, tenant: TenantCtx, clock: Clock
) -> None:
    tracker: Device = (await fleet(client, tenant))["devices"]["tracker"]
    made = requests(tracker, services.settings.max_body_bytes)
    for n, (name, make) in enumerate(made.items()):
        answers = []
        for side, c in enumerate((client, routed)):
            raw, headers = make(2 * n + side + 1)
            answers.append(await c.post("/v1/telemetry", content=raw, headers=headers))
        assert shape(answers[0]) == shape(answers[1]), name
        for r in answers:
            assert {"x-request-id", "x-correlation-id"} <= set(r.headers), name
            if r.status_code != 200:
                assert r.headers["content-type"] == "application/problem+json", name
    # Over the tenant's readings/s: a first reading takes the second's one token (the clock
    # stands still), then both sides are refused.
    await set_tenant_quota(client, tenant, readings_per_s=1)
    raw, headers = made["one reading"](100)
    assert (await client.post("/v1/telemetry", content=raw, headers=headers)).status_code == 200
    throttled = [
        await c.post("/v1/telemetry", content=raw, headers=headers)
        for c, (raw, headers) in ((client, made["one reading"](200)), (routed, made["one reading"](201)))
    ]
    assert [r.status_code for r in throttled] == [429, 429]
    assert shape(throttled[0]) == shape(throttled[1]) and "retry-after" in throttled[0].headers


async def test_direct_refusals_leave_the_routers_audit_entries(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    tracker: Device = (await fleet(client, tenant))["devices"]["tracker"]
    made = requests(tracker, services.settings.max_body_bytes)
    for side, c in enumerate((client, routed)):
        before = len(await entries(services))
        ids = []
        for n, (name, make) in enumerate(made.items()):
            raw, headers = make(2 * n + side + 1)
            r = await c.post("/v1/telemetry", content=raw, headers={**headers, "X-Correlation-ID": name})
            assert r.headers["x-correlation-id"] == name
            if r.status_code == 401:
                ids.append((r.headers["x-request-id"], name))
        found = (await entries(services))[before:]
        assert [(e["request_id"], e["correlation_id"]) for e in found] == ids
        assert {(e["action"], e["subject"], e["method"], e["path"]) for e in found} == {
            ("auth.unauthenticated", "telemetry", "POST", "/v1/telemetry")
        }
        assert [name for _, name in ids] == ["no token", "bad token", "bad signature"]
