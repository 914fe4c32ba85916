"""A tenant with partners, all with data, and who is entitled to what (written out by hand).

The entitlements below are the specification the isolation matrix checks the API against:
they are derived from the world's business relationships here, not from the implementation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from supplyline import alarms, epcis, logistics, maintenance
from supplyline.bootstrap import Services
from tests.conftest import TenantCtx
from tests.factories import post
from tests.telemetry.fleet import Device, credential, send

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TERMS = "CONTRACT-TERMS-{slug}-NET30"  # must never reach a caller without 'commercial:read'
COMMERCIAL_KEYS = ("unit_price", "freight_cost", "contract_terms", "unit_cost", "currency")
PARTNERS = ("carrier1", "carrier2", "customer", "oem", "sp", "supplier")


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


@dataclass
class World:
    tenant: TenantCtx
    ids: dict[str, str] = field(default_factory=dict)  # name -> id
    kinds: dict[str, str] = field(default_factory=dict)  # name -> resource ("shipments")
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # identity -> headers

    def add(self, resource: str, name: str, rec: dict[str, Any]) -> dict[str, Any]:
        self.ids[name] = str(rec["id"])
        self.kinds[name] = resource
        return rec

    def of(self, resource: str) -> dict[str, str]:
        """name -> id of every record of one resource."""
        return {n: i for n, i in self.ids.items() if self.kinds[n] == resource}


# identity -> resource -> names it reaches; a resource absent from an identity's map is
# refused (403: its role has no permission). "*" = every record of the tenant.
ALL = {"*"}
ENTITLED: dict[str, dict[str, set[str]]] = {
    "carrier1": {
        "shipments": {"SH1"},
        "orders": set(),
        "lots": {"L1"},
        "products": {"P1"},
        "sites": {"DC", "ST"},
        "assets": set(),
        "asset-types": set(),
        "devices": {"trk1"},
        "organizations": {"carrier1"},
        "alarms": {"A_trk1"},
        "work-orders": set(),
        "holds": {"H_L1"},
        "telemetry": {"trk1@trip"},
    },
    "carrier2": {
        "shipments": {"SH2"},
        "orders": set(),
        "lots": {"L2"},
        "products": {"P2"},
        "sites": {"DC", "PL", "ST"},  # its trip DC->PL, and the site of the truck it owns (ST)
        "assets": {"truck2"},
        "asset-types": {"truck"},
        "devices": {"trk2"},
        "organizations": {"carrier2"},
        "alarms": set(),
        "work-orders": set(),
        "holds": set(),
        "telemetry": {"trk2@trip"},
    },
    "customer": {
        "shipments": {"SH1"},
        "orders": {"O1"},
        "lots": {"L1"},
        "products": {"P1"},
        "sites": {"DC", "ST"},
        "assets": set(),
        "asset-types": set(),
        "devices": {"trk1"},
        "organizations": {"customer"},
        "alarms": {"A_trk1"},
        "work-orders": set(),
        "holds": {"H_L1"},
        "telemetry": {"trk1@trip"},
    },
    "oem": {
        "shipments": set(),
        "orders": set(),
        "lots": set(),
        "products": set(),
        "sites": {"DC"},
        "assets": {"reefer1"},
        "asset-types": {"reefer"},
        "devices": {"s_reefer"},
        "organizations": {"oem"},
        "alarms": {"A_reefer"},
        "work-orders": set(),
        "holds": set(),
        "telemetry": {"s_reefer"},
    },
    "sp": {  # technician role: no orders, lots, shipments, organisations or holds at all
        "sites": {"DC"},
        "assets": {"reefer1"},
        "asset-types": {"reefer"},
        "device-profiles": {"sensor"},
        "devices": {"s_reefer"},
        "alarms": {"A_reefer"},
        "work-orders": {"WO_reefer"},
        "telemetry": {"s_reefer"},
    },
    "supplier": {
        "shipments": set(),
        "orders": {"O2"},
        "lots": {"L1"},
        "products": {"P1"},
        "sites": set(),
        "assets": set(),
        "asset-types": set(),
        "devices": set(),
        "organizations": {"supplier"},
        "alarms": set(),
        "work-orders": set(),
        "holds": {"H_L1"},
        "telemetry": set(),
    },
    "dc_operator": {  # staff, site_operator on the DC only (a logged-in user)
        "shipments": {"SH1", "SH2"},
        "orders": {"O1"},
        "lots": {"L1", "L2"},
        "products": ALL,
        "sites": {"DC"},
        "regions": {"R"},
        "zones": set(),
        "assets": {"reefer1"},
        "asset-types": ALL,
        "device-profiles": ALL,
        "devices": {"s_reefer"},
        "organizations": ALL,
        "inventory-positions": set(),
        "alarms": {"A_reefer"},
        "work-orders": {"WO_reefer"},
        "holds": {"H_L1"},
        "telemetry": {"s_reefer"},
    },
}


async def build(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> World:
    w = World(tenant)
    h = tenant.headers
    slug = tenant.slug

    async def make(resource: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return w.add(resource, name, await post(client, h, resource, body))

    for name, kind in (
        ("own", "own"),
        ("carrier1", "carrier"),
        ("carrier2", "carrier"),
        ("customer", "customer"),
        ("oem", "oem"),
        ("sp", "service_provider"),
        ("supplier", "supplier"),
    ):
        await make("organizations", name, {"code": name.upper(), "name": f"{name} of {slug}", "kind": kind})
    org = w.ids
    await make("regions", "R", {"code": "R", "name": "Region"})
    for code, kind in (("DC", "warehouse"), ("ST", "store"), ("PL", "plant")):
        await make("sites", code, {"code": code, "name": code, "kind": kind, "region_id": org["R"]})
    await make("asset-types", "reefer", {"code": "reefer", "name": "Reefer", "kind": "trailer"})
    await make("asset-types", "truck", {"code": "truck", "name": "Truck", "kind": "vehicle"})
    asset = {"asset_type_id": org["reefer"]}
    await make(
        "assets",
        "reefer1",
        {
            **asset,
            "code": "REEFER1",
            "name": "Reefer 1",
            "site_id": org["DC"],
            "manufacturer_organization_id": org["oem"],
            "maintainer_organization_id": org["sp"],
        },
    )
    await make(
        "assets",
        "truck2",
        {
            "asset_type_id": org["truck"],
            "code": "TRUCK2",
            "name": "Truck 2",
            "site_id": org["ST"],
            "owner_organization_id": org["carrier2"],
        },
    )
    await make("assets", "coldroom", {**asset, "code": "COLD", "name": "Cold room", "site_id": org["PL"]})
    temp = [{"metric": "temperature_c", "unit": "C", "min": -40, "max": 60}]
    await make(
        "device-profiles",
        "tracker",
        {"code": "trk", "name": "Tracker", "device_kind": "tracker", "metrics": temp},
    )
    await make(
        "device-profiles",
        "sensor",
        {"code": "sen", "name": "Sensor", "device_kind": "sensor", "metrics": temp},
    )
    for name, kind, profile, on in (
        ("trk1", "tracker", "tracker", None),
        ("trk2", "tracker", "tracker", None),
        ("s_reefer", "sensor", "sensor", "reefer1"),
        ("s_cold", "sensor", "sensor", "coldroom"),
    ):
        body = {"code": f"{name}", "kind": kind, "device_profile_id": org[profile]}
        if on:
            body["asset_id"] = org[on]
        await make("devices", name, body)
    for name, sku in (("P1", "VAC"), ("P2", "INS")):
        await make("products", name, {"sku": sku, "name": sku, "unit": "each"})
    await make(
        "lots",
        "L1",
        {
            "product_id": org["P1"],
            "lot_code": "L1",
            "quantity": 100,
            "unit": "each",
            "supplier_organization_id": org["supplier"],
            "unit_cost": 3.5,
        },
    )
    await make(
        "lots",
        "L2",
        {"product_id": org["P2"], "lot_code": "L2", "quantity": 50, "unit": "each", "unit_cost": 1.25},
    )
    await make("lots", "L3", {"product_id": org["P1"], "lot_code": "L3", "quantity": 10, "unit": "each"})
    await make(
        "inventory-positions",
        "INV_PL",
        {"site_id": org["PL"], "product_id": org["P1"], "lot_id": org["L3"], "on_hand": 10, "unit": "each"},
    )
    line = {"quantity": 10, "unit": "each", "unit_price": 9.99}
    await make(
        "orders",
        "O1",
        {
            "number": "O1",
            "kind": "sales",
            "organization_id": org["customer"],
            "from_site_id": org["DC"],
            "to_site_id": org["ST"],
            "currency": "EUR",
            "contract_terms": TERMS.format(slug=slug),
            "lines": [{**line, "product_id": org["P1"], "lot_id": org["L1"]}],
        },
    )
    await make(
        "orders",
        "O2",
        {
            "number": "O2",
            "kind": "purchase",
            "organization_id": org["supplier"],
            "to_site_id": org["PL"],
            "lines": [{**line, "product_id": org["P2"]}],
        },
    )
    await make(
        "shipments",
        "SH1",
        {
            "number": "SH1",
            "status": "delivered",
            "origin_site_id": org["DC"],
            "destination_site_id": org["ST"],
            "carrier_organization_id": org["carrier1"],
            "order_id": org["O1"],
            "actual_departure_at": (T0 + timedelta(hours=1)).isoformat(),
            "actual_arrival_at": (T0 + timedelta(hours=3)).isoformat(),
            "freight_cost": 250.0,
            "currency": "EUR",
            "lots": [{"lot_id": org["L1"], "quantity": 10, "unit": "each"}],
            "devices": [{"device_id": org["trk1"]}],
        },
    )
    await make(
        "shipments",
        "SH2",
        {
            "number": "SH2",
            "status": "in_transit",
            "origin_site_id": org["DC"],
            "destination_site_id": org["PL"],
            "carrier_organization_id": org["carrier2"],
            "actual_departure_at": (T0 + timedelta(hours=1)).isoformat(),
            "lots": [{"lot_id": org["L2"], "quantity": 5, "unit": "each"}],
            "devices": [{"device_id": org["trk2"]}],
        },
    )
    await _readings(client, tenant, w)
    await _operations(services, tenant, w)
    await _epcis_events(services, tenant, w)
    await _identities(client, tenant, w)
    return w


async def _readings(client: httpx.AsyncClient, tenant: TenantCtx, w: World) -> None:
    """trk1 before pickup, during the trip and after delivery; the others during."""
    plan = {
        "trk1": [T0, T0 + timedelta(hours=2), T0 + timedelta(hours=4)],
        "trk2": [T0 + timedelta(hours=2)],
        "s_reefer": [T0 + timedelta(hours=2)],
        "s_cold": [T0 + timedelta(hours=2)],
    }
    for name, times in plan.items():
        device = Device(w.ids[name], name)
        await credential(client, tenant, device)
        body = [
            {"device": name, "ts": ms(t), "seq": i + 1, "metrics": {"temperature_c": 4.0 + i}}
            for i, t in enumerate(times)
        ]
        r = await send(client, device, body)
        assert r.status_code == 200, r.text


# EPCIS events (by ex:name) and the records they are about (epcis_event_ref kind, name), or
# the partner organisation that captured them: a caller reaches an event through either.
EPCIS_REFS: dict[str, list[tuple[str, str]]] = {
    "EV_SH1": [("shipment", "SH1")],
    "EV_SH2": [("shipment", "SH2")],
    "EV_L1": [("lot", "L1")],
    "EV_L2_O2": [("lot", "L2"), ("order", "O2")],
    "EV_O1": [("order", "O1")],
    "EV_DC": [("site", "DC")],
    "EV_PL": [("site", "PL")],
    "EV_none": [],
}
EPCIS_CAPTURED_BY = ("carrier2", "oem")
REF_RESOURCES = {"shipment": "shipments", "lot": "lots", "order": "orders", "site": "sites"}


async def _epcis_events(services: Services, tenant: TenantCtx, w: World) -> None:
    def event(name: str) -> dict[str, Any]:
        at = T0.isoformat().replace("+00:00", "Z")
        return {
            "type": "ObjectEvent",
            "eventTime": at,
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "epcList": [f"urn:uuid:{uuid.uuid4()}"],
            "ex:name": name,
        }

    context = [{"ex": "https://example.com/ns/"}]
    records = []
    for name, refs in EPCIS_REFS.items():
        record = epcis.index_event(event(name), context)
        record.refs = {(kind, uuid.UUID(w.ids[n])) for kind, n in refs}
        records.append(record)
    async with services.uow() as uow:
        await epcis.insert_events(uow, tenant.id, records, source="capture", actor="test")
        for partner in EPCIS_CAPTURED_BY:
            own = [epcis.index_event(event(f"EV_by_{partner}"), context)]
            org = uuid.UUID(w.ids[partner])
            await epcis.insert_events(
                uow, tenant.id, own, source="capture", actor="test", organization_id=org
            )
        await uow.commit()


async def _operations(services: Services, tenant: TenantCtx, w: World) -> None:
    """Alarms, a work order and a hold, as rule actions make them."""
    ids = {n: uuid.UUID(i) for n, i in w.ids.items()}
    async with services.uow() as uow:
        for name, device, extra in (
            ("A_trk1", "trk1", {"shipment_id": ids["SH1"], "lot_ids": [ids["L1"]]}),
            ("A_reefer", "s_reefer", {"asset_id": ids["reefer1"], "site_id": ids["DC"]}),
            ("A_cold", "s_cold", {"asset_id": ids["coldroom"], "site_id": ids["PL"]}),
        ):
            alarm = await alarms.raise_alarm(
                uow,
                tenant.id,
                alarms.RaiseAlarm(
                    type=f"too-warm-{name}",
                    severity="major",
                    originator_kind="device",
                    originator_id=ids[device],
                    originator=device,
                    at=T0 + timedelta(hours=2),
                    device_id=ids[device],
                    **extra,
                ),
            )
            w.ids[name], w.kinds[name] = str(alarm["id"]), "alarms"
        for name, asset, org in (("WO_reefer", "reefer1", ids["sp"]), ("WO_cold", "coldroom", None)):
            order = await maintenance.open_work_order(
                uow,
                tenant.id,
                maintenance.OpenWorkOrder(
                    title=name, asset_id=ids[asset], device_id=None, organization_id=org
                ),
            )
            w.ids[name], w.kinds[name] = str(order["id"]), "work-orders"
        hold, _ = await logistics.hold_lot(
            uow, tenant.id, logistics.HoldLot(ids["L1"], "inspection", "test", shipment_id=ids["SH1"])
        )
        w.ids["H_L1"], w.kinds["H_L1"] = str(hold["id"]), "holds"
        await uow.commit()


async def _identities(client: httpx.AsyncClient, tenant: TenantCtx, w: World) -> None:
    """A key per partner organisation, the admin, and a logged-in site operator."""
    w.headers["admin"] = tenant.headers
    for partner in PARTNERS:
        role = "technician" if partner == "sp" else "partner_viewer"
        body = {"name": partner, "role": role, "organization_id": w.ids[partner]}
        key = await post(client, tenant.headers, "api-keys", body)
        w.headers[partner] = {"Authorization": f"Bearer {key['token']}"}
    person = {"email": f"dc-ops@{tenant.slug}.example", "name": "DC ops", "password": "a long enough secret"}
    user = await post(client, tenant.headers, "users", person)
    grant = {"role": "site_operator", "user_id": user["id"], "site_id": w.ids["DC"]}
    await post(client, tenant.headers, "role-assignments", grant)
    login = {"tenant": tenant.slug, "email": person["email"], "password": person["password"]}
    r = await client.post("/v1/auth/login", json=login)
    assert r.status_code == 200, r.text
    w.headers["dc_operator"] = {"Authorization": f"Bearer {r.json()['token']}"}
    w.ids["dc_user"], w.kinds["dc_user"] = user["id"], "users"
