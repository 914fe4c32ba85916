"""Rules as data over the API: every kind of condition is accepted when it makes sense, and a
rule that cannot work is refused with problem+json naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import world

COLD = {"kind": "threshold", "metric": "temperature_c", "op": ">", "value": 8, "clear_at": 7.5}
SQUARE = [[45.0, 4.0], [45.0, 5.0], [46.0, 5.0], [46.0, 4.0]]


@pytest.fixture
async def w(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    return await world(client, tenant.headers)


def rule(code: str = "cold-chain-max", **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": "Cold chain", "condition": COLD, **extra}


async def create(client: httpx.AsyncClient, tenant: TenantCtx, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/rules", json=body, headers=tenant.headers)


def conditions(w: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        COLD,
        {"kind": "duration", "metric": "temperature_c", "op": ">", "value": 46.4, "unit": "F", "for_s": 900},
        {
            "kind": "cumulative",
            "metric": "temperature_c",
            "op": ">",
            "value": 8,
            "budget_s": 3600,
            "over": "lot",
        },
        {"kind": "rate_of_change", "metric": "temperature_c", "max_per_min": 2},
        {"kind": "geofence", "trigger": "exit", "site_id": w["dc"]["id"]},
        {
            "kind": "geofence",
            "trigger": "dwell",
            "circle": {"lat": 45.7, "lon": 4.8, "radius_m": 500},
            "dwell_s": 7200,
        },
        {"kind": "geofence", "trigger": "enter", "polygon": SQUARE},
        {"kind": "heartbeat", "max_silence_s": 1800},
        {
            "kind": "any",
            "conditions": [
                {
                    "kind": "all",
                    "conditions": [
                        COLD,
                        {"kind": "threshold", "metric": "door_open", "op": ">=", "value": 1},
                    ],
                },
                {"kind": "heartbeat", "max_silence_s": 600},
            ],
        },
    ]


async def test_every_kind_of_condition_is_stored_as_given(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    for i, condition in enumerate(conditions(w)):
        r = await create(client, tenant, rule(f"rule-{i}", condition=condition))
        assert r.status_code == 201, r.text
        got = r.json()
        assert got["condition"]["kind"] == condition["kind"]
        assert got["enabled"] is True and got["severity"] == "major"
        assert got["actions"] == [{"type": "raise_alarm", "params": {}}]
    listed = (await client.get("/v1/rules", params={"limit": 50}, headers=tenant.headers)).json()["items"]
    assert len(listed) == len(conditions(w))


async def test_one_code_may_be_overridden_per_scope_but_not_twice_at_one(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    assert (await create(client, tenant, rule())).status_code == 201
    regional = await create(client, tenant, rule(region_id=w["region"]["id"], severity="critical"))
    assert regional.status_code == 201, regional.text
    for_product = await create(client, tenant, rule(product_id=w["product"]["id"]))
    assert for_product.status_code == 201, for_product.text
    assert_problem(await create(client, tenant, rule()), 422, "code", "already has this code")
    r = await client.get("/v1/rules", params={"region_id": w["region"]["id"]}, headers=tenant.headers)
    assert [x["severity"] for x in r.json()["items"]] == ["critical"]


@pytest.mark.parametrize(
    ("condition", "field", "reason"),
    [
        ({**COLD, "metric": "temprature_c"}, "condition.metric", "unknown metric 'temprature_c'"),
        ({**COLD, "unit": "kPa"}, "condition.unit", "kPa"),
        (
            {"kind": "all", "conditions": [COLD, {**COLD, "metric": "nope_c"}]},
            "condition.conditions.1.metric",
            "unknown metric",
        ),
        (
            {"kind": "geofence", "trigger": "enter", "polygon": [[45, 4], [46, 5], [45, 5], [46, 4]]},
            "condition.polygon",
            "not simple",
        ),
        (
            {"kind": "geofence", "trigger": "enter", "polygon": [[45, 4], [45, 4], [46, 5]]},
            "condition.polygon",
            "3 distinct",
        ),
        (
            {"kind": "geofence", "trigger": "enter", "polygon": [[95, 4], [46, 5], [45, 5]]},
            "condition.polygon",
            "latitude",
        ),
        ({"kind": "rate_of_change", "metric": "door_open", "max_per_min": 1}, "condition.metric", "boolean"),
        (
            {"kind": "duration", "metric": "door_open", "op": ">", "value": 0.5, "for_s": 60},
            "condition.value",
            "not a door_open limit",
        ),
    ],
)
async def test_a_rule_that_cannot_work_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    tenant: TenantCtx,
    w: dict[str, Any],
    condition: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    r = await create(client, tenant, rule(condition=condition))
    assert_problem(r, 422, field, reason)
    assert (await client.get("/v1/rules", headers=tenant.headers)).json()["items"] == []


async def test_shape_errors_name_the_field(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    cases = [
        ({**COLD, "clear_at": 9}, "clear_at must be at or below value"),
        (
            {
                "kind": "geofence",
                "trigger": "enter",
                "circle": {"lat": 1, "lon": 1, "radius_m": 5},
                "polygon": SQUARE,
            },
            "exactly one area",
        ),
        ({"kind": "geofence", "trigger": "dwell", "polygon": SQUARE}, "dwell_s"),
        ({"kind": "teleport"}, "teleport"),
    ]
    for condition, reason in cases:
        r = await create(client, tenant, rule(condition=condition))
        body = assert_problem(r, 422)
        assert any(e["field"].startswith("condition") and reason in e["reason"] for e in body["errors"]), body
    two_scopes = await create(client, tenant, rule(site_id=w["dc"]["id"], region_id=w["region"]["id"]))
    assert "one scope" in assert_problem(two_scopes, 422)["detail"]


async def test_a_scope_or_a_site_that_names_nothing_is_refused(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx, w: dict[str, Any]
) -> None:
    theirs = await world(client, other_tenant.headers)
    assert_problem(await create(client, tenant, rule(site_id=theirs["dc"]["id"])), 422, "site_id")
    fence = {"kind": "geofence", "trigger": "exit", "site_id": theirs["dc"]["id"]}
    assert_problem(await create(client, tenant, rule(condition=fence)), 422, "condition.site_id", "no site")


async def test_a_profile_declared_metric_may_be_ruled_on(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    profile = {
        "code": "compressor",
        "name": "Compressor",
        "device_kind": "sensor",
        "metrics": [{"metric": "compressor_amps", "unit": "A", "min": 0, "max": 40}],
    }
    assert (await client.post("/v1/device-profiles", json=profile, headers=tenant.headers)).status_code == 201
    amps = {"kind": "threshold", "metric": "compressor_amps", "op": ">", "value": 30}
    assert (await create(client, tenant, rule("compressor-overload", condition=amps))).status_code == 201


async def test_changes_are_versioned_and_recorded_on_the_event_log(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    created = (await create(client, tenant, rule())).json()
    r = await client.patch(
        f"/v1/rules/{created['id']}",
        json={"condition": {**COLD, "value": 10, "clear_at": 9}},
        headers={**tenant.headers, "If-Match": f'"{created["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == created["version"] + 1
    subject = f"rules/{created['id']}"
    events = (await client.get("/v1/events", params={"subject": subject}, headers=tenant.headers)).json()
    (updated,) = [e for e in events["items"] if e["type"].endswith("rule.updated.v1")]
    assert updated["data"]["changed"] == ["condition"]
    assert updated["data"]["record"]["condition"]["value"] == 10


async def test_the_history_of_a_rule_says_who_changed_what_and_when(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    created = (await create(client, tenant, rule())).json()
    patched = await client.patch(
        f"/v1/rules/{created['id']}", json={"enabled": False}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    subject = f"rules/{created['id']}"
    r = await client.get("/v1/events", params={"subject": subject}, headers=tenant.headers)
    history = [(e["type"].split(".")[1:3], e["actor"], e["data"].get("changed")) for e in r.json()["items"]]
    assert [h[0] for h in history] == [["rule", "created"], ["rule", "updated"]]
    assert all(h[1] and h[1].startswith("api-key:") for h in history), history
    assert history[1][2] == ["enabled"]
    assert all(e["time"] for e in r.json()["items"])
