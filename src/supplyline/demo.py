"""The demo tenant: a small pharma cold chain, seeded through the same use cases the API calls.

Everything is written in one unit of work, so a tenant named ``demo`` is either fully seeded
or absent; a re-run finds it and reuses it instead of seeding twice.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, NotFound, Unauthorized
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import ResourceService

DEMO_SLUG = "demo"
DEMO_NAME = "Alpine Pharma Distribution"
CREDENTIALS_FILE = "demo-credentials.json"


@dataclass(frozen=True)
class DemoInfo:
    tenant_id: uuid.UUID
    slug: str
    name: str
    created: bool  # False when an existing demo tenant was reused
    counts: dict[str, int]  # live (not archived) records per resource
    first_key: str | None = None  # the tenant's first admin key, only on the run that created it


class _Seeder:
    """Creates records through the resource service and remembers their ids by a short label."""

    def __init__(self, resources: ResourceService, uow: UnitOfWork, scope: Scope) -> None:
        self.resources, self.uow, self.scope = resources, uow, scope
        self.ids: dict[str, str] = {}

    async def add(self, label: str, resource: str, body: dict[str, Any]) -> str:
        record = await self.resources.create(self.uow, self.scope, resource, body)
        self.ids[label] = str(record["id"])
        return self.ids[label]


async def seed_demo(services: Services) -> DemoInfo:
    """Create the demo tenant with realistic data, or reuse it if it exists."""
    existing = await _find_tenant(services)
    if existing is not None:
        return DemoInfo(
            existing.id, existing.slug, existing.name, False, await _counts(services, existing.id)
        )
    try:
        async with services.uow() as uow:
            tenant, key = await access.create_tenant(uow, Scope.platform("demo"), DEMO_SLUG, DEMO_NAME)
            seeder = _Seeder(services.resources, uow, Scope.system(tenant.id, "demo"))
            await _parties(seeder)
            await _fleet(seeder)
            await _goods(seeder)
            await _flows(seeder)
            await _cold_chain_rule(seeder)
            await uow.commit()
    except Conflict:
        # Another process seeded it between our look-up and our insert: reuse theirs.
        return await seed_demo(services)
    counts = await _counts(services, tenant.id)
    return DemoInfo(tenant.id, tenant.slug, tenant.name, True, counts, key.token)


async def _find_tenant(services: Services) -> access.TenantView | None:
    async with services.engine.connect() as conn:
        try:
            return await access.get_tenant_by_slug(conn, DEMO_SLUG)
        except NotFound:
            return None


async def _counts(services: Services, tenant_id: uuid.UUID) -> dict[str, int]:
    scope = Scope.system(tenant_id, "demo")
    out: dict[str, int] = {}
    async with services.engine.connect() as conn:
        for spec in services.catalog:
            total, cursor = 0, None
            while True:
                page = await services.resources.list_page(conn, scope, spec.name, cursor=cursor, limit=500)
                total += len(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
            out[spec.name] = total
    return out


async def _parties(s: _Seeder) -> None:
    """Who is involved and where: organisations, a region, three sites and their zones."""
    await s.add("own", "organizations", {"code": "APD", "name": DEMO_NAME, "kind": "own"})
    await s.add(
        "carrier",
        "organizations",
        {
            "code": "FFL",
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
    await s.add(
        "dc",
        "sites",
        {
            "code": "DC-LYON",
            "name": "Lyon distribution centre",
            "kind": "warehouse",
            "region_id": region,
            "organization_id": s.ids["own"],
            "latitude": 45.7485,
            "longitude": 4.8467,
            "timezone": "Europe/Paris",
            "address": {
                "line1": "12 Rue de l'Industrie",
                "city": "Lyon",
                "postal_code": "69007",
                "country": "FR",
            },
        },
    )
    await s.add(
        "cold_room",
        "sites",
        {
            "code": "CR-GENEVA",
            "name": "Geneva cold room",
            "kind": "cold_room",
            "region_id": region,
            "organization_id": s.ids["own"],
            "latitude": 46.2044,
            "longitude": 6.1432,
            "timezone": "Europe/Zurich",
            "address": {"city": "Geneva", "postal_code": "1201", "country": "CH"},
        },
    )
    await s.add(
        "store",
        "sites",
        {
            "code": "ST-MUNICH",
            "name": "St. Mary's hospital pharmacy",
            "kind": "store",
            "region_id": region,
            "organization_id": s.ids["customer"],
            "latitude": 48.1374,
            "longitude": 11.5755,
            "timezone": "Europe/Berlin",
            "address": {"city": "Munich", "postal_code": "80331", "country": "DE"},
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


async def _fleet(s: _Seeder) -> None:
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
    for n, (make, year) in enumerate((("Schmitz Cargobull", 2022), ("Krone", 2023)), start=1):
        trailer = await s.add(
            f"trailer{n}",
            "assets",
            {
                "code": f"TRL-10{n}",
                "name": f"Reefer trailer 10{n}",
                "asset_type_id": s.ids["reefer"],
                "site_id": s.ids["dc"],
                "owner_organization_id": s.ids["carrier"],
                "serial_number": f"WSM0000{n}4821",
                "attributes": {"setpoint_c": 5, "length_m": 13.6, "make": make, "year": year},
            },
        )
        await s.add(
            f"tracker{n}",
            "devices",
            {
                "code": f"ct200-00{n}",
                "name": f"Tracker on TRL-10{n}",
                "kind": "tracker",
                "device_profile_id": s.ids["profile"],
                "asset_id": trailer,
                "serial_number": f"CT2-7781-{n:03d}",
            },
        )


async def _goods(s: _Seeder) -> None:
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


async def _flows(s: _Seeder) -> None:
    """A sales order to the hospital and the reefer shipment carrying it, tracker assigned."""
    now = utcnow().replace(microsecond=0)
    order = await s.add(
        "order",
        "orders",
        {
            "number": "SO-1001",
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
            "number": "SHP-1001",
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
            "devices": [
                {"device_id": s.ids["tracker1"], "assigned_at": (now - timedelta(hours=2)).isoformat()}
            ],
            "assets": [{"asset_id": s.ids["trailer1"]}],
        },
    )


COLD_CHAIN_RULE = "cold-chain-max"


async def _cold_chain_rule(s: _Seeder) -> None:
    """The rule the demo's story is about, and who its alarms go to (so they carry an SLA).

    A plain threshold with hysteresis: raised by the first reading above 8 C, cleared below 7 C,
    so the failing compressor's excursion turns into an alarm and holds within a reading or two.
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
            "code": COLD_CHAIN_RULE,
            "name": "Vaccines above 8 C",
            "description": "2-8 C goods: a reading above 8 C raises a critical alarm and holds the "
            "shipment's lots for inspection; cleared below 7 C.",
            "severity": "critical",
            "condition": {
                "kind": "threshold",
                "metric": "temperature_c",
                "op": ">",
                "value": 8,
                "clear_at": 7,
            },
            "actions": [{"type": "raise_alarm"}, {"type": "hold_lots"}, {"type": "record_compliance"}],
        },
    )


# ---- the demo tenant's API key, kept in the data dir so re-runs show the same one ------------


async def demo_api_key(services: Services, info: DemoInfo, path: Path) -> str:
    """The admin key stored at ``path`` if it still works for this tenant, else a new one (saved)."""
    stored = _read_credentials(path)
    if stored.get("tenant_id") == str(info.tenant_id) and await _works(services, stored.get("api_key"), info):
        return str(stored["api_key"])
    token = info.first_key
    if token is None:
        async with services.uow() as uow:
            created = await access.create_api_key(
                uow, Scope.system(info.tenant_id, "demo"), "demo admin", "tenant_admin"
            )
            await uow.commit()
        token = created.token
    _write_credentials(path, {"tenant": info.slug, "tenant_id": str(info.tenant_id), "api_key": token})
    return token


async def _works(services: Services, token: Any, info: DemoInfo) -> bool:
    if not isinstance(token, str):
        return False
    async with services.engine.connect() as conn:
        try:
            scope = await access.authenticate(conn, token, None, rules=services.visibility)
        except Unauthorized:
            return False
    return scope.tenant_id == info.tenant_id


def _read_credentials(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_credentials(path: Path, data: dict[str, Any]) -> None:
    """Write the secret readable by its owner only (0600), replacing any older file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
