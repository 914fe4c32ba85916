"""Retention per data class and legal holds over HTTP: defaults, validation naming the field,
the audit trail of each change, and who may read or change them."""

from __future__ import annotations

import httpx
import pytest

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.audit.conftest import bearer, entries, issue
from tests.conftest import TenantCtx
from tests.governance.conftest import place_hold, set_retention

CLASSES = ("telemetry", "events", "audit", "traceability")


async def test_defaults_then_set_and_read_back(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    r = await client.get("/v1/governance/retention", headers=tenant.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    # Telemetry has the platform's default; the rest of the log is kept until a tenant says.
    assert got["telemetry"] == {"days": 365, "source": "default", "updated_at": None, "updated_by": None}
    assert all(got[c]["days"] is None and got[c]["source"] == "default" for c in CLASSES[1:])

    put = await set_retention(client, tenant, events=90, audit=2555, traceability=3650)
    again = (await client.get("/v1/governance/retention", headers=tenant.headers)).json()
    assert again == put
    assert {c: again[c]["days"] for c in CLASSES} == {
        "telemetry": 365,
        "events": 90,
        "audit": 2555,
        "traceability": 3650,
    }
    assert again["telemetry"]["source"] == "default" and again["events"]["source"] == "tenant"
    assert again["events"]["updated_by"].startswith("api-key:")

    # Back to the default: null, not left out.
    put = await set_retention(client, tenant, events=None, audit=2555, traceability=3650)
    assert put["events"] == {"days": None, "source": "default", "updated_at": None, "updated_by": None}
    assert put["audit"] == again["audit"]  # unchanged, so not rewritten

    made = await entries(services, tenant.id, action="governance.retention.replace")
    assert len(made) == 2 and made[1]["subject"] == "governance/retention"
    assert made[1]["before"]["events"]["days"] == 90 and made[1]["after"]["events"]["days"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audit": 30}, "audit"),  # the trail is kept a year at least
        ({"traceability": 364}, "traceability"),
        ({"events": 0}, "events"),
        ({"telemetry": 40_000}, "telemetry"),
        ({"logs": 30}, "logs"),  # not a data class
    ],
)
async def test_validation_names_the_field(
    client: httpx.AsyncClient, tenant: TenantCtx, body: dict[str, int], field: str
) -> None:
    full = {"telemetry": None, "events": None, "audit": None, "traceability": None, **body}
    r = await client.put("/v1/governance/retention", json=full, headers=tenant.headers)
    problem = assert_problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == [field], problem


async def test_a_class_left_out_is_refused_not_reset(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    r = await client.put("/v1/governance/retention", json={"events": 30}, headers=tenant.headers)
    problem = assert_problem(r, 422)
    assert {e["field"] for e in problem["errors"]} == {"telemetry", "audit", "traceability"}


async def test_legal_holds_are_placed_listed_and_released_once(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    everything = await place_hold(client, tenant, None)
    events = await place_hold(client, tenant, "events")
    assert everything["data_class"] is None and everything["active"] is True
    assert everything["placed_by"].startswith("api-key:")

    r = await client.get("/v1/governance/legal-holds", headers=tenant.headers)
    assert [h["id"] for h in r.json()["items"]] == [events["id"], everything["id"]]

    url = f"/v1/governance/legal-holds/{events['id']}/release"
    assert_problem(await client.post(url, json={"reason": "theirs"}, headers=other_tenant.headers), 404)
    r = await client.post(url, json={"reason": "case closed"}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["release_reason"] == "case closed"
    assert_problem(await client.post(url, headers=tenant.headers), 409)

    active = await client.get("/v1/governance/legal-holds", params={"active": "true"}, headers=tenant.headers)
    assert [h["id"] for h in active.json()["items"]] == [everything["id"]]
    released = await client.get(
        "/v1/governance/legal-holds", params={"active": "false"}, headers=tenant.headers
    )
    assert [h["id"] for h in released.json()["items"]] == [events["id"]]
    theirs = await client.get("/v1/governance/legal-holds", headers=other_tenant.headers)
    assert theirs.json()["items"] == []

    bad = {"data_class": "logs", "reason": "x"}
    r = await client.post("/v1/governance/legal-holds", json=bad, headers=tenant.headers)
    assert [e["field"] for e in assert_problem(r, 422)["errors"]] == ["data_class"]
    r = await client.post("/v1/governance/legal-holds", json={"reason": ""}, headers=tenant.headers)
    assert [e["field"] for e in assert_problem(r, 422)["errors"]] == ["reason"]

    placed = await entries(services, tenant.id, action="governance.legal_holds.create")
    assert [e["subject"] for e in placed] == [
        f"governance/legal-holds/{everything['id']}",
        f"governance/legal-holds/{events['id']}",
    ]
    (released_entry,) = await entries(services, tenant.id, action="governance.legal_holds.release")
    assert released_entry["before"]["active"] is True and released_entry["after"]["active"] is False


@pytest.mark.parametrize("role", ["viewer", "operator", "operations_manager", "site_operator"])
async def test_governance_is_refused_without_its_permission(
    client: httpx.AsyncClient, tenant: TenantCtx, role: str
) -> None:
    """Governance is sensitive: neither '*:read' (viewer) nor '*:write' (operator) covers it."""
    key = await issue(client, tenant, role)
    h = bearer(key["token"])
    assert_problem(await client.get("/v1/governance/retention", headers=h), 403)
    assert_problem(await client.get("/v1/governance/legal-holds", headers=h), 403)
    body = {"telemetry": None, "events": 1, "audit": None, "traceability": None}
    assert_problem(await client.put("/v1/governance/retention", json=body, headers=h), 403)
    assert_problem(await client.post("/v1/governance/legal-holds", json={"reason": "x"}, headers=h), 403)


async def test_an_auditor_reads_but_does_not_change(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    hold = await place_hold(client, tenant, "audit")
    h = bearer((await issue(client, tenant, "auditor"))["token"])
    assert (await client.get("/v1/governance/retention", headers=h)).status_code == 200
    r = await client.get("/v1/governance/legal-holds", headers=h)
    assert [x["id"] for x in r.json()["items"]] == [hold["id"]]
    url = f"/v1/governance/legal-holds/{hold['id']}/release"
    assert_problem(await client.post(url, headers=h), 403)
