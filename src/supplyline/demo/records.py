"""The demo tenant's records: who, where, what and the rule the story is about.

A cold chain of 2-8 C pharmaceuticals from a Lyon DC to a Munich hospital, with a Geneva cold
room, two reefer trailers of a carrier (trackers on both) and the shipment under way. Created
through the resource service, as POST /v1/... would create them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from supplyline.demo.facts import (
    CARRIER,
    CLEAR_C,
    LIMIT_C,
    ORDER,
    REEFER,
    RULE,
    SHIPMENT,
    TENANT_NAME,
    TRACKER,
)
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import ResourceService


class Seeder:
    """Creates records through the resource service and remembers their ids by a short label."""

    def __init__(self, resources: ResourceService, uow: UnitOfWork, scope: Scope) -> None:
        self.resources, self.uow, self.scope = resources, uow, scope
        self.ids: dict[str, str] = {}

    async def add(self, label: str, resource: str, body: dict[str, Any]) -> str:
        record = await self.resources.create(self.uow, self.scope, resource, body)
        self.ids[label] = str(record["id"])
        return self.ids[label]


async def seed_records(s: Seeder) -> None:
    """Every record of the demo tenant, in the order their references need."""
    await _parties(s)
    await _fleet(s)
    await _goods(s)
    await _flows(s)
    await _cold_chain_rule(s)


# (label, owning organisation, code, name, kind, (latitude, longitude, time zone), address)
SITES: tuple[tuple[str, str, str, str, str, tuple[float, float, str], dict[str, str]], ...] = (
    (
        "dc",
        "own",
        "DC-LYON",
        "Lyon distribution centre",
        "warehouse",
        (45.7485, 4.8467, "Europe/Paris"),
        {"line1": "12 Rue de l'Industrie", "city": "Lyon", "postal_code": "69007", "country": "FR"},
    ),
    (
        "cold_room",
        "own",
        "CR-GENEVA",
        "Geneva cold room",
        "cold_room",
        (46.2044, 6.1432, "Europe/Zurich"),
        {"city": "Geneva", "postal_code": "1201", "country": "CH"},
    ),
    (
        "store",
        "customer",
        "ST-MUNICH",
        "St. Mary's hospital pharmacy",
        "store",
        (48.1374, 11.5755, "Europe/Berlin"),
        {"city": "Munich", "postal_code": "80331", "country": "DE"},
    ),
)


async def _parties(s: Seeder) -> None:
    """Who is involved and where: organisations, a region, three sites and their zones."""
    await s.add("own", "organizations", {"code": "APD", "name": TENANT_NAME, "kind": "own"})
    await s.add(
        "carrier",
        "organizations",
        {
            "code": CARRIER,
            "name": "Fast Freight Logistics",
            "kind": "carrier",
            "contact_email": "dispatch@fastfreight.example",
        },
    )
    await s.add(
        "customer", "organizations", {"code": "SMH", "name": "St. Mary's Hospital", "kind": "customer"}
    )
    await s.add(
        "supplier", "organizations", {"code": "BVX", "name": "BioVax Manufacturing", "kind": "supplier"}
    )
    region = await s.add("region", "regions", {"code": "EU-CENTRAL", "name": "Central Europe"})
    for label, owner, code, name, kind, (lat, lon, tz), address in SITES:
        await s.add(
            label,
            "sites",
            {
                "code": code,
                "name": name,
                "kind": kind,
                "region_id": region,
                "organization_id": s.ids[owner],
                "latitude": lat,
                "longitude": lon,
                "timezone": tz,
                "address": address,
            },
        )
    zones = [
        ("dc", "CHILL-A", "Chilled aisle A", "chilled", 2.0, 8.0),
        ("dc", "DOCK-1", "Loading dock 1", "dock", None, None),
        ("dc", "QUAR", "Quarantine cage", "quarantine", 2.0, 8.0),
        ("cold_room", "COLD-1", "Cold room 1", "chilled", 2.0, 8.0),
    ]
    for site, code, name, kind, low, high in zones:
        await s.add(
            f"zone:{code}",
            "zones",
            {
                "site_id": s.ids[site],
                "code": code,
                "name": name,
                "kind": kind,
                "storage_min_c": low,
                "storage_max_c": high,
            },
        )


REEFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "setpoint_c": {"type": "number", "minimum": -30, "maximum": 30},
        "length_m": {"type": "number", "exclusiveMinimum": 0},
        "make": {"type": "string"},
        "year": {"type": "integer", "minimum": 1990},
    },
    "required": ["setpoint_c"],
    "additionalProperties": False,
}


# (trailer, its tracker, make, year, serial numbers); the first carries the shipment.
TRAILERS = (
    (REEFER, TRACKER, "Schmitz Cargobull", 2022, "WSM000014821", "CT2-7781-001"),
    ("TRL-102", "ct200-002", "Krone", 2023, "WSM000024821", "CT2-7781-002"),
)


async def _fleet(s: Seeder) -> None:
    """Two reefer trailers of the carrier, each with a temperature tracker attached."""
    await s.add(
        "reefer",
        "asset-types",
        {
            "code": "reefer-trailer",
            "name": "Reefer trailer",
            "kind": "trailer",
            "attributes_schema": REEFER_SCHEMA,
        },
    )
    await s.add(
        "profile",
        "device-profiles",
        {
            "code": "coldtrack-ct200",
            "name": "ColdTrack CT-200",
            "device_kind": "tracker",
            "vendor": "ColdTrack",
            "model": "CT-200",
            "metrics": [
                {"metric": "temperature_c", "unit": "C", "min": -40, "max": 60},
                {"metric": "humidity_pct", "unit": "%", "min": 0, "max": 100},
                {"metric": "battery_pct", "unit": "%", "min": 0, "max": 100},
            ],
        },
    )
    for trailer, tracker, make, year, serial, tracker_serial in TRAILERS:
        await s.add(
            trailer,
            "assets",
            {
                "code": trailer,
                "name": f"Reefer trailer {trailer.removeprefix('TRL-')}",
                "asset_type_id": s.ids["reefer"],
                "site_id": s.ids["dc"],
                "owner_organization_id": s.ids["carrier"],
                "serial_number": serial,
                "attributes": {"setpoint_c": 5, "length_m": 13.6, "make": make, "year": year},
            },
        )
        await s.add(
            tracker,
            "devices",
            {
                "code": tracker,
                "name": f"Tracker on {trailer}",
                "kind": "tracker",
                "device_profile_id": s.ids["profile"],
                "asset_id": s.ids[trailer],
                "serial_number": tracker_serial,
            },
        )


async def _goods(s: Seeder) -> None:
    """Two 2-8 C products, their lots, and stock at the DC and the cold room."""
    today = utcnow().date()
    await s.add(
        "vaccine",
        "products",
        {
            "sku": "VAX-FLU-10",
            "gtin": "07612345000015",
            "name": "Influenza vaccine, 10 x 0.5 ml",
            "unit": "box",
            "storage_condition": "2-8 C",
            "storage_min_c": 2,
            "storage_max_c": 8,
            "shelf_life_days": 365,
            "attributes": {"atc_code": "J07BB02"},
        },
    )
    await s.add(
        "insulin",
        "products",
        {
            "sku": "INS-PEN-5",
            "gtin": "07612345000022",
            "name": "Insulin pens, 5 x 3 ml",
            "unit": "box",
            "storage_condition": "2-8 C",
            "storage_min_c": 2,
            "storage_max_c": 8,
            "shelf_life_days": 730,
        },
    )
    lots = [
        ("vax1", "vaccine", "FLU-2611-A", 60, 1200),
        ("vax2", "vaccine", "FLU-2611-B", 30, 800),
        ("ins1", "insulin", "INS-2610-07", 90, 500),
    ]
    for label, product, code, age_days, quantity in lots:
        made = today - timedelta(days=age_days)
        await s.add(
            label,
            "lots",
            {
                "product_id": s.ids[product],
                "lot_code": code,
                "production_date": made.isoformat(),
                "expiry_date": (made + timedelta(days=365)).isoformat(),
                "quantity": quantity,
                "unit": "box",
                "supplier_organization_id": s.ids["supplier"],
            },
        )
    stock = [
        ("dc", "vaccine", "vax1", 1000, 200, 0),
        ("dc", "vaccine", "vax2", 800, 0, 40),
        ("dc", "insulin", "ins1", 350, 50, 0),
        ("cold_room", "vaccine", "vax1", 200, 0, 0),
        ("cold_room", "insulin", "ins1", 150, 0, 0),
    ]
    for site, product, lot, on_hand, allocated, held in stock:
        await s.add(
            f"stock:{site}:{lot}",
            "inventory-positions",
            {
                "site_id": s.ids[site],
                "product_id": s.ids[product],
                "lot_id": s.ids[lot],
                "on_hand": on_hand,
                "allocated": allocated,
                "held": held,
                "unit": "box",
            },
        )


async def _flows(s: Seeder) -> None:
    """A sales order to the hospital and the reefer shipment carrying it, tracker assigned."""
    now = utcnow().replace(microsecond=0)
    order = await s.add(
        "order",
        "orders",
        {
            "number": ORDER,
            "kind": "sales",
            "status": "allocated",
            "organization_id": s.ids["customer"],
            "from_site_id": s.ids["dc"],
            "to_site_id": s.ids["store"],
            "requested_at": (now + timedelta(days=1)).isoformat(),
            "external_ref": "ERP-45000123",
            "lines": [
                {"product_id": s.ids["vaccine"], "lot_id": s.ids["vax1"], "quantity": 200, "unit": "box"},
                {"product_id": s.ids["insulin"], "lot_id": s.ids["ins1"], "quantity": 50, "unit": "box"},
            ],
        },
    )
    await s.add(
        "shipment",
        "shipments",
        {
            "number": SHIPMENT,
            "status": "in_transit",
            "origin_site_id": s.ids["dc"],
            "destination_site_id": s.ids["store"],
            "carrier_organization_id": s.ids["carrier"],
            "order_id": order,
            "planned_departure_at": (now - timedelta(hours=2)).isoformat(),
            "planned_arrival_at": (now + timedelta(hours=6)).isoformat(),
            "actual_departure_at": (now - timedelta(hours=1, minutes=40)).isoformat(),
            "lots": [
                {"lot_id": s.ids["vax1"], "quantity": 200, "unit": "box"},
                {"lot_id": s.ids["ins1"], "quantity": 50, "unit": "box"},
            ],
            "devices": [{"device_id": s.ids[TRACKER], "assigned_at": (now - timedelta(hours=2)).isoformat()}],
            "assets": [{"asset_id": s.ids[REEFER]}],
        },
    )


async def _cold_chain_rule(s: Seeder) -> None:
    """The rule the demo's story is about, and who its alarms go to (so they carry an SLA).

    A plain threshold with hysteresis: raised by the first reading above LIMIT_C, cleared below
    CLEAR_C, so the failing compressor's excursion turns into an alarm and holds within a
    reading or two.
    """
    await s.add(
        "escalation",
        "escalation-policies",
        {
            "code": "cold-chain-qa",
            "name": "Cold-chain quality assurance",
            "organization_id": None,
            "levels": [
                {"after_s": 900, "assignee": "qa-on-call@alpine-pharma.example"},
                {"after_s": 1800, "assignee": "qa-manager@alpine-pharma.example"},
            ],
        },
    )
    await s.add(
        "rule",
        "rules",
        {
            "code": RULE,
            "name": f"Vaccines above {LIMIT_C} C",
            "description": f"2-{LIMIT_C} C goods: a reading above {LIMIT_C} C raises a critical alarm "
            f"and holds the shipment's lots for inspection; cleared below {CLEAR_C} C.",
            "severity": "critical",
            "condition": {
                "kind": "threshold",
                "metric": "temperature_c",
                "op": ">",
                "value": LIMIT_C,
                "clear_at": CLEAR_C,
            },
            "actions": [{"type": "raise_alarm"}, {"type": "hold_lots"}, {"type": "record_compliance"}],
        },
    )
