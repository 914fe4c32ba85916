"""Tenant isolation: every GET of the OpenAPI document, called with another tenant's key.

The test walks /openapi.json, so a new endpoint is covered the day it is added; one it does
not know how to call (a path parameter it cannot fill) fails it until it is taught.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from supplyline import epcis
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from tests.api.samples import SAMPLES, assert_problem, create_all_samples, raise_alarm_and_hold
from tests.conftest import PLATFORM_HEADERS, TenantCtx
from tests.factories import post, world

# Refuse every tenant key: they are the platform's, not a tenant's.
PLATFORM_ONLY = {"/v1/tenants", "/v1/consumers"}
# Hold no tenant data by design; called anyway, and checked for none.
# Dead letters are filed under the tenant slug of their topic (tests/telemetry/test_mqtt.py
# shows B does not see A's); with none here, the generic list check below applies.
NO_TENANT_DATA = {"/healthz", "/readyz", "/metrics", "/v1/event-types", "/v1/event-types/{type}"}
PARAMS = {"/v1/event-types/{type}": {"type": "supplyline.site.created.v1"}}
ITEM = re.compile(r"^/v1/(?P<name>[a-z-]+)/\{id\}$")
# A device's own sub-resources: another tenant must get 404 for A's device.
DEVICE_ITEM = re.compile(r"^/v1/devices/\{id\}/(telemetry|credentials)$")
# Telemetry reads name their device (or asset, shipment, lot, site) in the query string.
DEVICE_QUERY = {
    "/v1/telemetry": {"metric": "temperature_c"},
    "/v1/telemetry/latest": {},
    "/v1/telemetry/context": {"at": "2026-11-22T10:00:00Z"},
}


async def _tenant_a(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, erp_url: str
) -> tuple[dict[str, Any], set[str]]:
    """A's records (every resource, an alarm and a hold), and strings that must never reach
    another tenant."""
    w = await world(client, tenant.headers)
    await create_all_samples(client, tenant.headers, w)
    await raise_alarm_and_hold(services, tenant.id, w)
    await client.post(f"/v1/sites/{w['store']['id']}/archive", headers=tenant.headers)
    r = await client.post("/v1/api-keys", json={"name": "a-viewer", "role": "viewer"}, headers=tenant.headers)
    w["api-key"] = r.json()
    person = {"email": "a-person@example.com", "name": "A-PERSON", "password": "correct horse battery"}
    w["user"] = await post(client, tenant.headers, "users", person)
    marked = {"code": "A-ONLY-7F3A", "name": "A-SECRET-NAME", "kind": "plant"}
    w["marked"] = await post(client, tenant.headers, "sites", marked)
    marked_event = f"urn:uuid:{uuid.uuid4()}"  # an EPCIS event only A holds
    event = {
        "type": "ObjectEvent",
        "eventID": marked_event,
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9"],
    }
    records = [
        epcis.index_event({**event, "eventTime": "2026-03-01T08:00:00Z", "eventTimeZoneOffset": "+00:00"})
    ]
    async with services.uow() as uow:
        await epcis.insert_events(uow, tenant.id, records, source="capture", actor="test")
        await uow.commit()
    w["epcis-event"] = {"id": marked_event}
    hold = {"data_class": "events", "reason": "A-LITIGATION-5D2C"}
    w["legal-hold"] = await post(client, tenant.headers, "governance/legal-holds", hold)
    # Ids and keys cannot be guessed; the factory's codes are public (they are API doc examples).
    secrets = {str(tenant.id), tenant.token, tenant.token.split("_")[1], w["api-key"]["prefix"]}
    secrets |= {rec["id"] for rec in w.values()} | {marked["code"], marked["name"], hold["reason"]}
    event = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:a0000000-0000-4000-8000-00000000a11d",
        "eventTime": "2026-03-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:4012345.067890.7F3A"],
    }
    r = await client.post("/v1/epcis/capture", json=event, headers=tenant.headers)
    assert r.status_code == 202, r.text
    w["epcis-capture"] = r.json()
    override = {
        "product_id": w["product"]["id"],
        "site_id": w["dc"]["id"],
        "starts_on": "2999-01-01",
        "ends_on": "2999-01-07",
        "kind": "set",
        "value": 12,
        "reason_code": "other",
        "note": "A-OVERRIDE-NOTE-9B1E",
    }
    w["forecast-override"] = await post(client, tenant.headers, "forecast-overrides", override)
    series = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}
    w["forecast"] = await post(client, tenant.headers, "forecasts/runs", series)
    connection = {"integration": "erp", "name": "A-CONNECTION-4E8D", "config": {"url": erp_url}}
    w["connection"] = await post(client, tenant.headers, "connections", connection)
    secrets |= {override["note"], w["forecast-override"]["id"], connection["name"], w["connection"]["id"]}
    secrets |= {w["epcis-capture"]["captureID"], event["eventID"]}
    return w, secrets


def _leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


async def _kpis_count_none_of_a(
    client: httpx.AsyncClient, a: TenantCtx, b: TenantCtx, w: dict[str, Any], secrets: set[str]
) -> None:
    """Every KPI asked by B counts nothing of A's, even filtered by A's site."""
    today = utcnow().date()
    window = {"start": str(today - timedelta(days=400)), "end": str(today + timedelta(days=30))}
    names = {d["name"] for d in (await client.get("/v1/kpis", headers=a.headers)).json()["items"]}
    assert names
    for name in sorted(names):
        url = f"/v1/kpis/{name}"
        for params in (window, {**window, "site": w["dc"]["id"]}):
            r = await client.get(url, params=params, headers=b.headers)
            assert r.status_code == 200, r.text
            assert not _leaks(r.text.replace(w["dc"]["id"], ""), secrets), r.text
            assert all(p["denominator"] == 0 for p in r.json()["points"]), (name, r.text)
        assert (await client.get(url, params=window, headers=a.headers)).status_code == 200


async def test_every_get_is_confined_to_the_caller(
    client: httpx.AsyncClient,
    services: Services,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    subtests: pytest.Subtests,
    erp: tuple[str, Any],
) -> None:
    a, b = tenant, other_tenant
    w, secrets = await _tenant_a(client, a, services, erp[0])
    theirs = await post(client, b.headers, "sites", {"code": "B-ONLY", "name": "B's", "kind": "store"})
    await services.consumers.catch_up("entity-index")
    schema = (await client.get("/openapi.json")).json()
    assert not _leaks(str(schema), secrets)
    gets = [path for path, ops in schema["paths"].items() if "get" in ops]
    assert len(gets) >= len(SAMPLES) * 2
    assert set(gets) >= PLATFORM_ONLY | NO_TENANT_DATA, "the allow-lists name a path that is gone"

    for path in gets:
        with subtests.test(msg=path):
            item = ITEM.match(path)
            if path in PLATFORM_ONLY:
                for key in (a, b):
                    assert_problem(await client.get(path, headers=key.headers), 403)
                assert (await client.get(path, headers=PLATFORM_HEADERS)).status_code == 200
            elif path in NO_TENANT_DATA:
                url = path.format_map(PARAMS.get(path, {}))
                for headers in (b.headers, {}):
                    r = await client.get(url, headers=headers)
                    assert r.status_code in (200, 401, 503), r.text
                    assert not _leaks(r.text, secrets)
            elif DEVICE_ITEM.match(path):
                url = path.format(id=w["tracker"]["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif path in DEVICE_QUERY:
                params = {"device": w["tracker"]["id"], **DEVICE_QUERY[path]}
                r = await client.get(path, params=params, headers=b.headers)
                assert r.status_code in (404, 422), r.text
                assert not _leaks(r.text.replace(w["tracker"]["id"], ""), secrets), r.text
                r = await client.get(path, params=params, headers=a.headers)
                assert r.status_code == 200, r.text
            elif path == "/v1/webhooks/{subscription_id}/deliveries":
                # A's subscription is not B's to read, even with B staff over its whole tenant.
                hook = await client.post(
                    "/v1/webhooks", json={"url": "https://hooks.example/a"}, headers=a.headers
                )
                url = path.format(subscription_id=hook.json()["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
                await client.post(f"/v1/webhooks/{hook.json()['id']}/archive", headers=a.headers)
            elif path == "/v1/tenants/{tenant_id}/quotas":
                url = path.format(tenant_id=a.id)
                for key in (a, b):
                    assert_problem(await client.get(url, headers=key.headers), 403)
                assert (await client.get(url, headers=PLATFORM_HEADERS)).status_code == 200
            elif path == "/v1/api-keys/{key_id}/quotas":
                url = path.format(key_id=w["api-key"]["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif path in ("/v1/alarms/{alarm_id}", "/v1/rules/{rule_id}/history", "/v1/users/{user_id}"):
                url = path.format(
                    alarm_id=w["alarm"]["id"], rule_id=w["rules"]["id"], user_id=w["user"]["id"]
                )
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif item is not None and item["name"] in SAMPLES:
                rec = w[item["name"]]
                url = path.format(id=rec["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                r = await client.get(url, headers=a.headers)
                assert r.status_code == 200 and r.json()["id"] == rec["id"]
            elif path in ("/v1/audit", "/v1/audit/export"):
                # B's trail holds B's own refused requests, whose URLs name A's ids because this
                # walk made B type them: the request line is B's input, not A's data.
                r = await client.get("/v1/audit", params={"limit": 500}, headers=b.headers)
                assert r.status_code == 200, r.text
                for entry in r.json()["items"]:
                    assert entry["tenant_id"] == str(b.id)
                    kept = {k: v for k, v in entry.items() if k not in ("object", "path")}
                    assert not _leaks(str(kept), secrets), entry
                assert (await client.get(path, headers=a.headers)).status_code == 200
            elif path in ("/v1/ledger/proofs/inclusion", "/v1/ledger/proofs/consistency"):
                # Proofs of the caller's own log only: B's is its own (and empty here).
                params = {"seq": 1} if path.endswith("inclusion") else {"first": 0}
                r = await client.get(path, params=params, headers=b.headers)
                assert r.status_code in (200, 422) and not _leaks(r.text, secrets), r.text
                assert (await client.get(path, params=params, headers=a.headers)).status_code in (200, 422)
            elif path == "/v1/traceability/lots/{lot_id}":
                # A's lot is no lot of B's: its lineage is not found, and A's own answers.
                url = path.format(lot_id=w["lot"]["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif path == "/v1/epcis/events":
                r = await client.get(path, headers=b.headers)
                assert r.status_code == 200 and not _leaks(r.text, secrets), r.text
                assert r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
                assert w["epcis-event"]["id"] in (await client.get(path, headers=a.headers)).text
            elif path == "/v1/epcis/capture/{captureID}":
                url = path.format(captureID=w["epcis-capture"]["captureID"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif path in ("/v1/governance/retention", "/v1/governance/legal-holds"):
                r = await client.get(path, headers=b.headers)
                assert r.status_code == 200 and r.json().get("items", []) == [], r.text
                assert not _leaks(r.text, secrets), r.text
                mine = await client.get(path, headers=a.headers)
                assert mine.status_code == 200, mine.text
                if path.endswith("legal-holds"):
                    assert [h["id"] for h in mine.json()["items"]] == [w["legal-hold"]["id"]]
            elif path == "/v1/connections/{connection_id}":
                url = path.format(connection_id=w["connection"]["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif path == "/v1/forecast-overrides/{id}":
                url = path.format(id=w["forecast-override"]["id"])
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            elif path == "/v1/forecasts":
                params = {"product": w["product"]["id"], "site": w["dc"]["id"]}
                assert_problem(await client.get(path, params=params, headers=b.headers), 404)
                mine = await client.get(path, params=params, headers=a.headers)
                assert mine.status_code == 200 and mine.json()["run"]["id"] == w["forecast"]["run"]["id"]
            elif path == "/v1/forecasts/runs":
                params = {"product": w["product"]["id"], "site": w["dc"]["id"]}
                assert_problem(await client.get(path, params=params, headers=b.headers), 404)
                mine = await client.get(path, params=params, headers=a.headers)
                assert mine.status_code == 200, mine.text
                assert [r["id"] for r in mine.json()["items"]] == [w["forecast"]["run"]["id"]]
            elif path == "/v1/forecast-overrides/value-added":
                # A's product and site are none of B's: not found; A's own answers.
                params = {
                    "product": w["product"]["id"],
                    "site": w["dc"]["id"],
                    "start": "2026-01-01",
                    "end": "2026-01-31",
                }
                assert_problem(await client.get(path, params=params, headers=b.headers), 404)
                assert (await client.get(path, params=params, headers=a.headers)).status_code == 200
            elif path == "/v1/demand":
                # A's product at A's site is no series of B's: not found, as if it did not exist.
                params = {"product": w["product"]["id"], "site": w["dc"]["id"]}
                assert_problem(await client.get(path, params=params, headers=b.headers), 404)
                r = await client.get(path, params=params, headers=a.headers)
                assert r.status_code == 200, r.text
            elif path == "/v1/traceability/fsma204":
                # The FSMA 204 spreadsheet needs a lot code or a range; B's holds none of A's events.
                params = {"from": "2000-01-01", "to": "2100-01-01"}
                r = await client.get(path, params=params, headers=b.headers)
                assert r.status_code == 200 and r.json()["rows"] == [], r.text
                assert not _leaks(r.text, secrets), r.text
                assert (await client.get(path, params=params, headers=a.headers)).status_code == 200
            elif path == "/v1/stream":
                # The whole log from its start: B's stream carries B's events only.
                r = await client.get(path, params={"after": 0}, headers=b.headers)
                assert r.status_code == 200 and not _leaks(r.text, secrets), r.text
                tenants = {
                    orjson.loads(line[6:])["tenantid"] for line in r.text.splitlines() if line[:6] == "data: "
                }
                assert tenants == {str(b.id)}, tenants
                mine = await client.get(path, params={"after": 0}, headers=a.headers)
                assert w["dc"]["id"] in mine.text
            elif path == "/v1/kpis/{name}":
                await _kpis_count_none_of_a(client, a, b, w, secrets)
            elif path in ("/v1/exports/{job_id}", "/v1/exports/{job_id}/files/{path}"):
                # A's export job and its files are A's: B does not find them.
                today = utcnow().date().isoformat()
                body = {"datasets": ["shipments", "events"], "from": today, "to": today}
                job = (await client.post("/v1/exports", json=body, headers=a.headers)).json()
                url = job["files"][0]["url"] if path.endswith("{path}") else f"/v1/exports/{job['id']}"
                assert_problem(await client.get(url, headers=b.headers), 404)
                assert (await client.get(url, headers=a.headers)).status_code == 200
            else:
                assert "{" not in path, f"no way to call {path}: teach this test its path parameters"
                r = await client.get(path, headers=b.headers)
                assert r.status_code == 200, r.text
                assert not _leaks(r.text, secrets), r.text
                if path.removeprefix("/v1/") in SAMPLES:
                    ids = [i["id"] for i in r.json()["items"]]
                    assert ids == ([theirs["id"]] if path == "/v1/sites" else [])
                    mine = await client.get(path, params={"include_archived": "true"}, headers=a.headers)
                    assert w[path.removeprefix("/v1/")]["id"] in mine.text
                else:
                    assert (await client.get(path, headers=a.headers)).status_code == 200

    r = await client.get("/v1/stats", headers=b.headers)
    one = {"active": 1, "archived": 0}
    assert r.json() == {"entities": {"api_key": one, "site": one, "tenant": one}}
    r = await client.get("/v1/stats", headers=a.headers)
    assert r.json()["entities"]["site"] == {"active": 3, "archived": 1}
    assert r.json()["entities"]["api_key"] == {"active": 2, "archived": 0}


async def test_filters_and_events_with_another_tenants_ids(
    client: httpx.AsyncClient,
    services: Services,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    erp: tuple[str, Any],
) -> None:
    w, secrets = await _tenant_a(client, tenant, services, erp[0])
    h = other_tenant.headers
    for spec in services.catalog:
        for ref in spec.refs:
            if ref.field in spec.filters:
                r = await client.get(f"/v1/{spec.name}", params={ref.field: w[ref.target]["id"]}, headers=h)
                assert r.status_code == 200 and r.json()["items"] == [], (spec.name, ref.field)
    for rec_name in SAMPLES:
        subject = f"{rec_name}/{w[rec_name]['id']}"
        r = await client.get("/v1/events", params={"subject": subject}, headers=h)
        assert r.json()["items"] == []
    r = await client.get("/v1/events", params={"type": "supplyline.site.created.v1"}, headers=h)
    assert r.json()["items"] == [] and not _leaks(r.text, secrets)


async def test_writes_cannot_reach_another_tenant(
    client: httpx.AsyncClient,
    services: Services,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    erp: tuple[str, Any],
) -> None:
    w, _ = await _tenant_a(client, tenant, services, erp[0])
    for action in ("pause", "resume", "test", "archive"):
        url = f"/v1/connections/{w['connection']['id']}/{action}"
        assert_problem(await client.post(url, headers=other_tenant.headers), 404)
    h = other_tenant.headers
    for name, sample in SAMPLES.items():
        url = f"/v1/{name}/{w[name]['id']}"
        assert_problem(await client.patch(url, json=sample.patch, headers=h), 404)
        assert_problem(await client.patch(url, json=sample.patch, headers={**h, "If-Match": '"1"'}), 404)
        assert_problem(await client.post(f"{url}/archive", headers=h), 404)
        r = await client.get(url, headers=tenant.headers)
        assert r.json()["version"] == 1 and r.json()["archived_at"] is None
        # Nor can B point its own records at A's: to B they do not exist.
        r = await client.post(f"/v1/{name}", json=sample.body(w), headers=h)
        spec = services.catalog[name]
        if spec.refs or any(c.refs for c in spec.children):
            body = assert_problem(r, 422)
            assert any("in this tenant" in e["reason"] for e in body["errors"])
        else:
            assert r.status_code == 201, r.text
    # Nor act on A's alarm or release A's hold.
    alarm, hold = w["alarm"]["id"], w["hold"]["id"]
    for action, body in (("assign", {"assignee": "b"}), ("comments", {"text": "b"}), ("acknowledge", None)):
        assert_problem(await client.post(f"/v1/alarms/{alarm}/{action}", json=body, headers=h), 404)
    assert_problem(await client.post(f"/v1/alarms/{alarm}/clear", json={}, headers=h), 404)
    r = await client.post(f"/v1/holds/{hold}/release", json={"reason": "b"}, headers=h)
    assert_problem(r, 404)
    shown = await client.get(f"/v1/alarms/{alarm}", headers=tenant.headers)
    assert shown.json()["status"] == "active_unack" and shown.json()["comments"] == []
    # Nor move a record into A by naming A's tenant.
    mine = {"code": "B-1", "name": "B", "kind": "store", "tenant_id": str(tenant.id)}
    assert_problem(await client.post("/v1/sites", json=mine, headers=h), 422, "tenant_id", "unknown field")
    del mine["tenant_id"]
    site = await post(client, h, "sites", mine)
    r = await client.patch(f"/v1/sites/{site['id']}", json={"tenant_id": str(tenant.id)}, headers=h)
    assert_problem(r, 422, "tenant_id")
    assert_problem(await client.post(f"/v1/api-keys/{w['api-key']['id']}/revoke", headers=h), 404)
    r = await client.get("/v1/sites", headers={"Authorization": f"Bearer {w['api-key']['token']}"})
    assert r.status_code == 200
