"""The isolation matrix: every GET of /openapi.json, called as every identity of two tenants.

Two tenants, each with its own organisation, two carriers, a customer, an OEM, a service
provider and a supplier, all with data (tests/access/partners.py, which also writes down who
is entitled to what). For every GET the spec lists, every identity must see exactly its
entitlement: list endpoints answer exactly the entitled records, item endpoints 200 for those
and 404 for the rest, 403 where the role has no permission; no answer carries another tenant's
ids, and no answer to a caller without 'commercial:read' carries prices, costs or terms.
A GET this test has no rule for, or a GET whose operation declares no x-supplyline-scope, fails it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.integrations.tables import integrations_delivery
from tests.access.partners import (
    ALL,
    COMMERCIAL_KEYS,
    ENTITLED,
    EPCIS_CAPTURED_BY,
    EPCIS_REFS,
    PARTNERS,
    REF_RESOURCES,
    T0,
    TERMS,
    World,
    build,
    ms,
)
from tests.conftest import PLATFORM_HEADERS, TenantCtx

IDENTITIES = ("admin", *PARTNERS, "dc_operator")
SUBJECTS = ("shipments", "orders", "lots", "products", "sites", "assets", "devices", "alarms", "work-orders")
EXPORTS = re.compile(r"^/v1/exports/[a-z-]+\.csv$")
LISTS = re.compile(r"^/v1/(?P<name>[a-z-]+)$")
ITEMS = re.compile(r"^/v1/(?P<name>[a-z-]+)/\{(id|alarm_id)\}$")
Check = Callable[[httpx.AsyncClient, World, str, str], Awaitable[None]]


def entitled(w: World, who: str, resource: str) -> set[str] | None:
    """Ids ``who`` may see of ``resource``; None when its role may not read it at all."""
    if who == "admin":
        return set(w.of(resource).values())
    names = ENTITLED[who].get(resource)
    if names is None:
        return None
    if names == ALL:
        return set(w.of(resource).values())
    return {w.ids[n] for n in names}


async def get(client: httpx.AsyncClient, w: World, who: str, url: str, **params: Any) -> httpx.Response:
    return await client.get(url, headers=w.headers[who], params=params)


async def check_list(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    resource = path.removeprefix("/v1/")
    want = entitled(w, who, resource)
    r = await get(client, w, who, path, limit=500)
    if want is None:
        assert r.status_code == 403, (who, path, r.text)
        return
    assert r.status_code == 200, (who, path, r.text)
    got = {i["id"] for i in r.json()["items"]}
    # The admin also sees records other tests' fixtures make (its own first key's records).
    assert got == want if who != "admin" else got >= want, (who, path, _names(w, got ^ want))


async def check_item(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    resource = path.split("/")[2]
    want = entitled(w, who, resource)
    for name, rid in w.of(resource).items():
        r = await get(client, w, who, re.sub(r"\{[a-z_]+\}", rid, path))
        expected = 403 if want is None else 200 if rid in want else 404
        assert r.status_code == expected, (who, path, name, r.text)


def allowed_subjects(w: World, who: str) -> set[str]:
    """The event subjects ``who`` may see: the things it reaches, by resource."""
    return {f"{r}/{i}" for r in SUBJECTS for i in (entitled(w, who, r) or set())}


def _names(w: World, ids: set[str]) -> list[str]:
    back = {i: n for n, i in w.ids.items()}
    return sorted(back.get(i, i) for i in ids)


async def check_telemetry(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """Every device's series as ``who``: only entitled devices, trackers only during the trip."""
    want = ENTITLED[who].get("telemetry", set()) if who != "admin" else set()
    for name in ("trk1", "trk2", "s_reefer", "s_cold"):
        r = await get(client, w, who, path, device=w.ids[name], metric="temperature_c")
        if who != "admin" and "telemetry" not in ENTITLED[who]:
            assert r.status_code == 403, (who, name, r.text)
            continue
        points = [p for s in r.json().get("series", []) for p in s["points"]] if r.status_code == 200 else []
        if who == "admin" or name in want:
            assert r.status_code == 200 and points, (who, name, r.text)
        elif f"{name}@trip" in want:
            assert [p[0] for p in points] == [ms(T0 + timedelta(hours=2))], (who, name, points)
        else:
            assert r.status_code in (404, 422) or not points, (who, name, r.text)


def _trip_point() -> str:
    return (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z")


async def check_latest(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    for name in ("trk1", "trk2", "s_reefer", "s_cold"):
        r = await get(client, w, who, path, device=w.ids[name])
        if who != "admin" and "telemetry" not in ENTITLED[who]:
            assert r.status_code == 403
            continue
        items = r.json().get("items", []) if r.status_code == 200 else []
        seen = {i["device_id"] for i in items}
        want = ENTITLED.get(who, {}).get("telemetry", set())
        if who == "admin" or name in want:
            assert w.ids[name] in seen, (who, name, r.text)
        elif f"{name}@trip" in want:
            # After delivery the carrier's view stops at delivery: the last reading is later.
            assert all(v["at"] <= _trip_point() for i in items for v in i["values"].values()), (
                who,
                name,
                r.text,
            )
        else:
            assert w.ids[name] not in seen, (who, name, r.text)


async def check_context(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    at = T0.replace(hour=T0.hour + 2).isoformat()
    for name in ("trk1", "s_cold"):
        r = await get(client, w, who, path, device=w.ids[name], at=at)
        if who != "admin" and "telemetry" not in ENTITLED[who]:
            assert r.status_code == 403
            continue
        devices = entitled(w, who, "devices") or set()
        assert r.status_code == (200 if w.ids[name] in devices else 404), (who, name, r.text)


async def check_device_status(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    for name, rid in w.of("devices").items():
        r = await get(client, w, who, path.format(id=rid))
        if who != "admin" and "telemetry" not in ENTITLED[who]:
            assert r.status_code == 403
            continue
        devices = entitled(w, who, "devices") or set()
        assert r.status_code == (200 if rid in devices else 404), (who, name, r.text)


async def check_fleet_health(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """The devices' health page: exactly the entitled devices, their assets and sites only where
    those are reached too, credential summaries only for tenant-wide device readers."""
    r = await get(client, w, who, path, limit=200)
    if who != "admin" and "telemetry" not in ENTITLED[who]:
        assert r.status_code == 403, (who, r.text)
        return
    assert r.status_code == 200, (who, r.text)
    items = r.json()["items"]
    got = {i["device_id"] for i in items}
    want = entitled(w, who, "devices") or set()
    assert got == want if who != "admin" else got >= want, (who, _names(w, got ^ want))
    assets, sites = entitled(w, who, "assets") or set(), entitled(w, who, "sites") or set()
    for i in items:
        assert i["asset_id"] is None or who == "admin" or i["asset_id"] in assets, (who, i)
        assert i["site_id"] is None or who == "admin" or i["site_id"] in sites, (who, i)
        if who in PARTNERS:
            assert "credentials" not in i, (who, i)
        if i["battery"] and f"{_names(w, {i['device_id']})[0]}@trip" in ENTITLED[who].get("telemetry", ()):
            assert i["battery"]["at_ms"] <= ms(T0 + timedelta(hours=2)), (who, i)


async def check_events(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path, limit=1000)
    assert r.status_code == 200, (who, r.text)
    subjects = {e["subject"] for e in r.json()["items"]}
    if who == "admin":
        assert f"shipments/{w.ids['SH1']}" in subjects
        return
    allowed = allowed_subjects(w, who)
    assert subjects <= allowed, (who, sorted(subjects - allowed))
    for name in ENTITLED[who].get("shipments", ()):
        assert f"shipments/{w.ids[name]}" in subjects, (who, name)


async def check_stream(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """The live feed from the log's start carries exactly what /v1/events answers the caller."""
    r = await get(client, w, who, path, after=0)
    assert r.status_code == 200, (who, r.text)
    streamed = [orjson.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    listed = (await get(client, w, who, "/v1/events", limit=1000)).json()["items"]
    assert [e["id"] for e in streamed] == [e["id"] for e in listed], who
    assert streamed == listed, who  # redacted alike


async def check_epcis(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """EPCIS events: those about a record the caller reaches, and those its organisation captured."""
    r = await get(client, w, who, path, perPage=1000)
    if who == "sp":  # a technician reads no custody events
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (who, r.text)
    got = {e["ex:name"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}
    want = {f"EV_by_{p}" for p in EPCIS_CAPTURED_BY if who in (p, "admin")}
    for name, refs in EPCIS_REFS.items():
        if who == "admin" or any(w.ids[n] in (entitled(w, who, REF_RESOURCES[k]) or set()) for k, n in refs):
            want.add(name)
    assert got == want, (who, sorted(got ^ want))


def only(status_for: Callable[[str], int]) -> Check:
    async def check(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
        r = await get(client, w, who, path)
        expected = status_for(who)
        # /readyz answers 503 here: the test schema is made from the metadata, not migrated.
        assert r.status_code == expected or (expected == 200 and path == "/readyz"), (who, path, r.text)

    return check


async def check_proof(client: httpx.AsyncClient, w: World, who: str, path: str, **params: Any) -> None:
    """A proof of the tenant's log: the admin's (422 where the log has no such leaf), no one else's."""
    r = await get(client, w, who, path, **params)
    assert r.status_code in ((200, 422) if who == "admin" else (403,)), (who, path, r.text)


def staff_wide(who: str) -> int:
    """Routes about the tenant as a whole: the admin only here."""
    return 200 if who == "admin" else 403


def tenant_key_refused(who: str) -> int:
    return 403


def anyone(who: str) -> int:
    return 200


def with_events(who: str) -> int:
    return 200  # every role here reads events (the schema registry holds no tenant data)


async def check_history(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(rule_id="00000000-0000-0000-0000-000000000000"))
    assert r.status_code == (404 if who == "admin" else 403), (who, r.text)


async def check_credentials(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(id=w.ids["trk1"]))
    assert r.status_code == staff_wide(who), (who, r.text)


async def check_connection(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """No connection in this world: none such for the admin, a named permission for the rest."""
    r = await get(client, w, who, path.format(connection_id="00000000-0000-0000-0000-000000000000"))
    assert r.status_code == (404 if who == "admin" else 403), (who, r.text)


async def check_key_quotas(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(key_id="00000000-0000-0000-0000-000000000000"))
    assert r.status_code == (404 if who == "admin" else 403), (who, r.text)


async def check_tenant_quotas(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(tenant_id=w.tenant.id))
    assert r.status_code == 403, (who, r.text)  # the platform's, not a tenant's


async def check_user(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(user_id=w.ids["dc_user"]))
    assert r.status_code == staff_wide(who), (who, r.text)


async def check_event_type(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(type="supplyline.shipment.created.v2"))
    assert r.status_code == 200, (who, r.text)


async def check_me(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path)
    assert r.status_code == 200, r.text
    me = r.json()
    if who in PARTNERS:
        assert me["organization_id"] == w.ids[who]
        assert {g["reach"]["kind"] for g in me["grants"]} == {"organization"}


async def check_lineage(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """Lineage answers for the tenant as a whole: the admin's, no partner's or site operator's."""
    r = await get(client, w, who, path.format(lot_id=w.ids["L1"]))
    assert r.status_code == staff_wide(who), (who, r.text)


async def check_captures(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """Capture jobs: nobody captured in this world, so every reader's list is empty."""
    r = await get(client, w, who, path)
    assert r.status_code == (403 if who == "sp" else 200), (who, r.text)
    if r.status_code == 200:
        assert r.json()["items"] == [], (who, r.text)


async def check_capture_job(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    r = await get(client, w, who, path.format(captureID=w.ids["L1"]))
    assert r.status_code == (403 if who == "sp" else 404), (who, r.text)


async def check_fsma(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """The FSMA 204 export answers for the tenant as a whole, like lineage."""
    r = await get(client, w, who, path, tlc="L1")
    assert r.status_code == staff_wide(who), (who, r.text)


async def check_forecast(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """No forecast was run in this world: whoever may read planning and reaches the product and
    the site learns only that; nobody else learns more."""
    r = await get(client, w, who, path, product=w.ids["P1"], site=w.ids["DC"])
    assert r.status_code in (403, 404), (who, r.text)
    assert "points" not in r.text, (who, r.text)


async def check_forecast_runs(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """The run history of a series nobody forecast: empty for planners who reach it, refused
    or not found for everyone else."""
    r = await get(client, w, who, path, product=w.ids["P1"], site=w.ids["DC"])
    if r.status_code == 200:
        assert planners(who) == 200 and r.json()["items"] == [], (who, r.text)
    else:
        assert r.status_code in (403, 404), (who, r.text)


def planners(who: str) -> int:
    """Planning is staff's: no partner role holds 'planning:read'; the DC's operator does."""
    return 200 if who in ("admin", "dc_operator") else 403


async def _overrides(client: httpx.AsyncClient, w: World) -> dict[str, str]:
    """A forecast override of P1 at the DC and one at the plant, made once by the admin."""
    for site in ("DC", "PL"):
        if f"OV_{site}" not in w.ids:
            body = {
                "product_id": w.ids["P1"],
                "site_id": w.ids[site],
                "starts_on": "2999-01-01",
                "ends_on": "2999-01-07",
                "kind": "percent",
                "value": 10,
                "reason_code": "promotion",
            }
            r = await client.post("/v1/forecast-overrides", json=body, headers=w.headers["admin"])
            assert r.status_code == 201, r.text
            w.ids[f"OV_{site}"], w.kinds[f"OV_{site}"] = r.json()["id"], "forecast-overrides"
    return {site: w.ids[f"OV_{site}"] for site in ("DC", "PL")}


async def check_overrides(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """Overrides of the sites the caller reaches: the admin both, the DC's operator the DC's."""
    made = await _overrides(client, w)
    r = await get(client, w, who, path, limit=500)
    assert r.status_code == planners(who), (who, r.text)
    if r.status_code == 200:
        got = {o["id"] for o in r.json()["items"]}
        want = set(made.values()) if who == "admin" else {made["DC"]}
        assert got >= want if who == "admin" else got == want, (who, got)


def _override_status(who: str, site: str) -> int:
    """403 without 'planning:read'; else 200 where the caller reaches the site, 404 elsewhere."""
    if planners(who) == 403:
        return 403
    return 200 if who == "admin" or (who == "dc_operator" and site == "DC") else 404


async def check_override(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    for site, oid in (await _overrides(client, w)).items():
        r = await get(client, w, who, path.format(id=oid))
        assert r.status_code == _override_status(who, site), (who, site, r.text)


async def check_value_added(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    for site in ("DC", "PL"):
        params = {"product": w.ids["P1"], "site": w.ids[site], "start": "2026-11-01", "end": "2026-11-30"}
        r = await get(client, w, who, path, **params)
        assert r.status_code == _override_status(who, site), (who, site, r.text)


async def check_kpi_list(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """The KPIs a caller may compute are those whose rows it may read."""
    r = await get(client, w, who, path)
    assert r.status_code == 200, (who, r.text)
    names = {d["name"] for d in r.json()["items"]}
    assert ("excursion_rate" in names) == (entitled(w, who, "shipments") is not None), (who, names)
    assert ("days_of_supply" in names) == (who in ("admin", "dc_operator")), (who, names)


async def check_kpi(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """A KPI counts what the caller reaches: the excursion rate's shipments are its own."""
    day = T0.date().isoformat()
    r = await get(client, w, who, path.format(name="excursion_rate"), start=day, end=day)
    want = entitled(w, who, "shipments")
    if want is None:
        assert r.status_code == 403, (who, r.text)
        return
    assert r.status_code == 200, (who, r.text)
    counted = r.json()["points"][0]["denominator"]
    assert counted >= 2 if who == "admin" else counted == len(want), (who, r.text)


# Routes that are not a catalog list or item: how each is checked.
async def check_demand(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """A product's demand at a site: for those with planning:read (staff), 200 where both are
    in reach and 404 otherwise, exactly as for ids that do not exist; partners have none."""
    products, sites = entitled(w, who, "products") or set(), entitled(w, who, "sites") or set()
    for p in ("P1", "P2"):
        for s in ("DC", "ST", "PL"):
            r = await get(client, w, who, path, product=w.ids[p], site=w.ids[s])
            if who in PARTNERS:
                assert r.status_code == 403, (who, p, s, r.text)
            else:
                expected = 200 if w.ids[p] in products and w.ids[s] in sites else 404
                assert r.status_code == expected, (who, p, s, r.text)


async def check_webhook_deliveries(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """A subscription's deliveries: its owner's, and staff over the whole tenant; another
    partner gets 404 (as for an id that does not exist), those without 'webhooks' 403."""
    if "HOOK_carrier1" not in w.ids:
        r = await client.post(
            "/v1/webhooks", json={"url": "https://hooks.example/c1"}, headers=w.headers["carrier1"]
        )
        assert r.status_code == 201, r.text
        w.ids["HOOK_carrier1"], w.kinds["HOOK_carrier1"] = r.json()["id"], "webhooks"
        # Archived at once (its deliveries stay readable): the webhook checks below count the
        # live subscriptions.
        r = await client.post(f"/v1/webhooks/{r.json()['id']}/archive", headers=w.headers["carrier1"])
        assert r.status_code == 200, r.text
    r = await get(client, w, who, path.format(subscription_id=w.ids["HOOK_carrier1"]), status="dead")
    expected = 403 if who in ("sp", "dc_operator") else 200 if who in ("admin", "carrier1") else 404
    assert r.status_code == expected, (who, r.text)


SPECIAL: dict[str, Check] = {
    "/v1/demand": check_demand,
    "/v1/telemetry": check_telemetry,
    "/v1/telemetry/latest": check_latest,
    "/v1/telemetry/health": check_fleet_health,
    "/v1/telemetry/context": check_context,
    "/v1/devices/{id}/telemetry": check_device_status,
    "/v1/devices/{id}/credentials": check_credentials,
    "/v1/events": check_events,
    "/v1/stream": check_stream,
    "/v1/epcis/events": check_epcis,
    "/v1/epcis/capture": check_captures,
    "/v1/epcis/capture/{captureID}": check_capture_job,
    "/v1/traceability/fsma204": check_fsma,
    "/v1/forecasts": check_forecast,
    "/v1/forecasts/runs": check_forecast_runs,
    "/v1/event-types": only(with_events),
    "/v1/event-types/{type}": check_event_type,
    "/v1/stats": only(staff_wide),
    "/v1/deliveries": only(staff_wide),
    "/v1/dead-letters": only(staff_wide),
    "/v1/ledger/checkpoints": only(staff_wide),
    "/v1/ledger/verify": only(staff_wide),
    "/v1/ledger/public-key": only(staff_wide),
    "/v1/ledger/tree-head": only(staff_wide),
    "/v1/ledger/proofs/inclusion": lambda c, w, who, path: check_proof(c, w, who, path, seq=1),
    "/v1/ledger/proofs/consistency": lambda c, w, who, path: check_proof(c, w, who, path, first=0),
    "/v1/rules/{rule_id}/history": check_history,
    "/v1/kpis": check_kpi_list,
    "/v1/kpis/{name}": check_kpi,
    "/v1/traceability/lots/{lot_id}": check_lineage,
    "/v1/api-keys": only(staff_wide),
    "/v1/users": only(staff_wide),
    "/v1/users/{user_id}": check_user,
    "/v1/roles": only(staff_wide),
    "/v1/role-assignments": only(staff_wide),
    "/v1/auth/me": check_me,
    "/v1/audit": only(staff_wide),
    "/v1/audit/export": only(staff_wide),
    "/v1/governance/retention": only(staff_wide),
    "/v1/governance/legal-holds": only(staff_wide),
    "/v1/webhooks": only(lambda who: 403 if who in ("sp", "dc_operator") else 200),
    "/v1/integrations": only(staff_wide),
    "/v1/connections": only(staff_wide),
    "/v1/connections/{connection_id}": check_connection,
    "/v1/webhooks/{subscription_id}/deliveries": check_webhook_deliveries,
    "/v1/api-keys/{key_id}/quotas": check_key_quotas,
    "/v1/tenants/{tenant_id}/quotas": check_tenant_quotas,
    "/v1/tenants": only(tenant_key_refused),
    "/v1/consumers": only(tenant_key_refused),
    "/v1/forecast-overrides": check_overrides,
    "/v1/forecast-overrides/{id}": check_override,
    "/v1/forecast-overrides/value-added": check_value_added,
    "/healthz": only(anyone),
    "/readyz": only(anyone),
    "/metrics": only(anyone),
}


async def check_parquet_export(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """A Parquet export of shipments holds what the list would, prices only for
    'commercial:read'; a job and its files are found by the principal that made it alone."""
    want = entitled(w, who, "shipments")
    today = datetime.now(UTC).date()
    body = {
        "datasets": ["shipments"],
        "from": (today - timedelta(days=1)).isoformat(),
        "to": today.isoformat(),
    }
    r = await client.post("/v1/exports", json=body, headers=w.headers[who])
    if want is None:
        assert r.status_code == 403, (who, r.text)
        return
    assert r.status_code == 202 and r.json()["status"] == "succeeded", (who, r.text)
    job = r.json()
    urls = [f["url"] for f in job["files"]] if path.endswith("{path}") else [f"/v1/exports/{job['id']}"]
    got: set[str] = set()
    for url in urls:
        r = await client.get(url, headers=w.headers[who])
        assert r.status_code == 200, (who, url, r.text)
        if path.endswith("{path}"):
            table = pq.read_table(io.BytesIO(r.content))
            got |= set(table.column("id").to_pylist())
            if who != "admin":
                assert not set(table.column_names) & set(COMMERCIAL_KEYS), (who, table.column_names)
        for other in IDENTITIES:
            if other != who:
                assert (await client.get(url, headers=w.headers[other])).status_code == 404, (other, url)
    if path.endswith("{path}"):
        assert got == want if who != "admin" else got >= want, (who, _names(w, got ^ want))
    else:
        await _parquet_readings(client, w, who)


# The readings tests/access/partners.py sends: trk1 before pickup, during the trip and after
# delivery; the others once, during it.
SENT = {"trk1": [T0, T0 + timedelta(hours=2), T0 + timedelta(hours=4)]} | {
    name: [T0 + timedelta(hours=2)] for name in ("trk2", "s_reefer", "s_cold")
}


async def _parquet_readings(client: httpx.AsyncClient, w: World, who: str) -> None:
    """The readings of an export are those GET /v1/telemetry answers: a carrier's tracker only
    during its trip, the devices the caller reaches, nothing for a role without telemetry."""
    day = T0.date().isoformat()
    body = {"datasets": ["readings"], "from": day, "to": day}
    r = await client.post("/v1/exports", json=body, headers=w.headers[who])
    if who != "admin" and "telemetry" not in ENTITLED[who]:
        assert r.status_code == 403, (who, r.text)
        return
    assert r.status_code == 202 and r.json()["status"] == "succeeded", (who, r.text)
    (f,) = r.json()["files"]
    table = pq.read_table(io.BytesIO((await client.get(f["url"], headers=w.headers[who])).content))
    got = set(zip(table.column("device_id").to_pylist(), table.column("ts").to_pylist(), strict=True))
    names = set(SENT) if who == "admin" else ENTITLED[who]["telemetry"]
    want = set()
    for name in names:
        device, trip = name.removesuffix("@trip"), name.endswith("@trip")
        want |= {(w.ids[device], t) for t in ([T0 + timedelta(hours=2)] if trip else SENT[device])}
    assert got == want, (who, sorted(got ^ want))


async def check_export(client: httpx.AsyncClient, w: World, who: str, path: str) -> None:
    """An export holds exactly what the list would, prices only for 'commercial:read'."""
    resource = path.removeprefix("/v1/exports/").removesuffix(".csv")
    want = entitled(w, who, resource)
    r = await get(client, w, who, path)
    if want is None:
        assert r.status_code == 403, (who, path, r.text)
        return
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), (who, path, r.text)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    got = {row["id"] for row in rows}
    assert got == want if who != "admin" else got >= want, (who, path, _names(w, got ^ want))
    header = r.text.splitlines()[0].split(",")
    if who != "admin":
        assert not set(header) & set(COMMERCIAL_KEYS), (who, path, header)


def _find_check(path: str) -> Check | None:
    if path in SPECIAL:
        return SPECIAL[path]
    if EXPORTS.match(path):
        return check_export
    if path in ("/v1/exports/{job_id}", "/v1/exports/{job_id}/files/{path}"):
        return check_parquet_export
    if LISTS.match(path):
        return check_list
    if ITEMS.match(path):
        return check_item
    return None


def _leaked_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {k for k in value if k in COMMERCIAL_KEYS}
        for v in value.values():
            found |= _leaked_keys(v)
        return found
    if isinstance(value, list):
        return set().union(*(_leaked_keys(v) for v in value)) if value else set()
    return set()


@pytest.fixture
async def worlds(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> tuple[World, World]:
    a = await build(client, services, tenant)
    b = await build(client, services, other_tenant)
    await services.consumers.catch_up("entity-index")
    return a, b


async def test_partner_isolation(
    client: httpx.AsyncClient, services: Services, worlds: tuple[World, World], subtests: pytest.Subtests
) -> None:
    """One world pair per backend (building it is most of the cost): the read matrix first,
    then the checks that change data."""
    await _every_get_as_every_identity(client, worlds, subtests)
    a, b = worlds
    assert (await client.get("/v1/shipments", headers=PLATFORM_HEADERS)).status_code == 403
    with subtests.test(msg="prices"):
        await _prices_reach_only_callers_with_commercial_read(client, a)
    with subtests.test(msg="webhooks"):
        await _webhooks_carry_only_what_the_subscriber_reaches(client, services, a, b)
    with subtests.test(msg="writes"):
        await _a_partner_writes_only_inside_its_reach(client, a)


async def _every_get_as_every_identity(
    client: httpx.AsyncClient, worlds: tuple[World, World], subtests: pytest.Subtests
) -> None:
    a, b = worlds
    schema = (await client.get("/openapi.json")).json()
    gets = {path: ops["get"] for path, ops in schema["paths"].items() if "get" in ops}
    undeclared = sorted(p for p, op in gets.items() if "x-supplyline-scope" not in op)
    assert not undeclared, f"GET routes without a scope rule: {undeclared}"
    unknown = sorted(p for p in gets if _find_check(p) is None)
    assert not unknown, f"teach the isolation matrix these GET routes: {unknown}"
    foreign = {i for n, i in b.ids.items()} | {TERMS.format(slug=b.tenant.slug)}

    for path in sorted(gets):
        check = _find_check(path)
        assert check is not None
        for who in IDENTITIES:
            with subtests.test(msg=f"{who} GET {path}"):
                await check(client, a, who, path)

    # Nothing of tenant B in any answer to tenant A's identities, and no prices for partners.
    for path in sorted(p for p in gets if "{" not in p):
        params = (
            {"device": a.ids["trk1"], "metric": "temperature_c", "at": T0.isoformat()}
            if "telemetry" in path
            else {}
        )
        for who in IDENTITIES:
            r = await client.get(path, headers=a.headers[who], params=params)
            leaked = sorted(s for s in foreign if s in r.text)
            assert not leaked, (who, path, leaked)
            data = (
                r.headers.get("content-type", "").startswith("application/json") and "event-types" not in path
            )
            if who != "admin" and data:  # event types are schemas: field names, no values
                assert not _leaked_keys(r.json()), (who, path, _leaked_keys(r.json()))
                assert TERMS.format(slug=a.tenant.slug) not in r.text, (who, path)


async def _prices_reach_only_callers_with_commercial_read(client: httpx.AsyncClient, a: World) -> None:
    r = await client.get(f"/v1/orders/{a.ids['O1']}", headers=a.headers["admin"])
    assert r.json()["contract_terms"] == TERMS.format(slug=a.tenant.slug)
    assert r.json()["lines"][0]["unit_price"] == 9.99
    r = await client.get(f"/v1/orders/{a.ids['O1']}", headers=a.headers["customer"])
    assert r.status_code == 200 and "contract_terms" not in r.json()
    assert "unit_price" not in r.json()["lines"][0]
    r = await client.get(f"/v1/shipments/{a.ids['SH1']}", headers=a.headers["carrier1"])
    assert r.status_code == 200 and "freight_cost" not in r.json()
    events = await client.get(
        "/v1/events", params={"subject": f"orders/{a.ids['O1']}"}, headers=a.headers["customer"]
    )
    assert events.json()["items"] and TERMS.format(slug=a.tenant.slug) not in events.text
    assert "unit_price" not in events.text
    # Setting a price needs 'commercial:write': the DC operator may edit shipments, not prices.
    r = await client.patch(
        f"/v1/shipments/{a.ids['SH1']}", json={"freight_cost": 1.0}, headers=a.headers["dc_operator"]
    )
    assert r.status_code == 403, r.text
    r = await client.patch(
        f"/v1/shipments/{a.ids['SH1']}", json={"status": "delivered"}, headers=a.headers["carrier2"]
    )
    assert r.status_code == 403, r.text  # a partner_viewer writes nothing


async def _a_partner_writes_only_inside_its_reach(client: httpx.AsyncClient, a: World) -> None:
    body = {"name": "c1 ops", "role": "partner_operator", "organization_id": a.ids["carrier1"]}
    key = (await client.post("/v1/api-keys", json=body, headers=a.headers["admin"])).json()
    h = {"Authorization": f"Bearer {key['token']}"}
    sh1, sh2 = f"/v1/shipments/{a.ids['SH1']}", f"/v1/shipments/{a.ids['SH2']}"
    assert (await client.patch(sh1, json={"status": "delivered"}, headers=h)).status_code == 200
    # Handing its shipment to another carrier, or touching the other carrier's, is refused.
    # (422: it cannot even name the other carrier, which it does not reach.)
    r = await client.patch(sh1, json={"carrier_organization_id": a.ids["carrier2"]}, headers=h)
    assert r.status_code in (403, 422), r.text
    assert (await client.patch(sh2, json={"status": "delivered"}, headers=h)).status_code == 404
    new = {
        "number": "SH9",
        "origin_site_id": a.ids["DC"],
        "destination_site_id": a.ids["ST"],
        "carrier_organization_id": a.ids["carrier2"],
    }
    assert (await client.post("/v1/shipments", json=new, headers=h)).status_code in (403, 422)
    new["carrier_organization_id"] = None  # not its own either: outside its reach
    assert (await client.post("/v1/shipments", json=new, headers=h)).status_code == 403
    r = await client.get("/v1/shipments", params={"number": "SH9"}, headers=a.headers["admin"])
    assert r.json()["items"] == []  # nothing half-written
    new["carrier_organization_id"] = a.ids["carrier1"]
    assert (await client.post("/v1/shipments", json=new, headers=h)).status_code == 201


async def _webhooks_carry_only_what_the_subscriber_reaches(
    client: httpx.AsyncClient, services: Services, a: World, b: World
) -> None:
    subs = {}
    for who in ("carrier1", "customer", "admin"):
        r = await client.post(
            "/v1/webhooks", json={"url": f"https://hooks.example/{who}"}, headers=a.headers[who]
        )
        assert r.status_code == 201, r.text
        subs[who] = r.json()["id"]
    assert (
        await client.post("/v1/webhooks", json={"url": "ftp://x"}, headers=a.headers["carrier1"])
    ).status_code == 422
    mine = (await client.get("/v1/webhooks", headers=a.headers["carrier1"])).json()["items"]
    assert [s["id"] for s in mine] == [subs["carrier1"]]
    everyone = (await client.get("/v1/webhooks", headers=a.headers["admin"])).json()["items"]
    assert {s["id"] for s in everyone} == set(subs.values())
    # Changes after subscribing: both shipments, the customer's order (with its terms).
    for path, body in (
        (f"/v1/shipments/{a.ids['SH1']}", {"planned_arrival_at": "2026-11-21T10:00:00Z"}),
        (f"/v1/shipments/{a.ids['SH2']}", {"planned_arrival_at": "2026-11-21T11:00:00Z"}),
        (f"/v1/orders/{a.ids['O1']}", {"external_ref": "ERP-1"}),
    ):
        assert (await client.patch(path, json=body, headers=a.headers["admin"])).status_code == 200
    await services.consumers.catch_up("sharing.webhooks")
    async with services.engine.connect() as conn:
        rows = (await conn.execute(select(integrations_delivery))).mappings().all()
    sent: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sent.setdefault(row["target"], []).append(row["payload"])
    for who in ("carrier1", "customer"):
        payloads = sent[f"webhook:{subs[who]}"]
        subjects = {p["subject"] for p in payloads}
        allowed = allowed_subjects(a, who)
        assert subjects <= allowed, (who, sorted(subjects - allowed))
        assert f"shipments/{a.ids['SH1']}" in subjects and f"shipments/{a.ids['SH2']}" not in subjects
        assert not any(_leaked_keys(p) for p in payloads), who
        assert not {i for i in b.ids.values()} & {p["subject"].split("/")[-1] for p in payloads}
    assert f"orders/{a.ids['O1']}" in {p["subject"] for p in sent[f"webhook:{subs['customer']}"]}
    admin = sent[f"webhook:{subs['admin']}"]
    assert any(p["data"].get("record", {}).get("contract_terms") for p in admin)
