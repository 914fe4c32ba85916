"""One more record of every resource on top of ``tests.factories.world``, and problem checks.

``SAMPLES`` is keyed by the URL segment of each resource; tests use it to exercise every
resource the same way and to fail when a resource is added that they do not know.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from supplyline import alarms, logistics
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.rules.model import RuleIn
from supplyline.telemetry.mapping.resources import PayloadMappingIn
from supplyline.telemetry.mapping.vendors import builtin_mapping_documents
from tests.factories import post

Body = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Sample:
    body: Body  # a new record, given the world
    patch: dict[str, Any]  # a change of one mutable field
    filter: tuple[str, Body]  # a list filter that selects the new record: (name, world -> value)


def _const(value: Any) -> Body:
    return lambda w: value


SAMPLES: dict[str, Sample] = {
    "organizations": Sample(
        lambda w: {"code": "CUS1", "name": "Good Shop", "kind": "customer"},
        {"name": "Better Shop"},
        ("kind", _const("customer")),
    ),
    "regions": Sample(
        lambda w: {"code": "NA", "name": "North America"},
        {"description": "US and Canada"},
        ("code", _const("NA")),
    ),
    "sites": Sample(
        lambda w: {"code": "DP-1", "name": "Depot 1", "kind": "depot", "region_id": w["region"]["id"]},
        {"name": "Depot One"},
        ("kind", _const("depot")),
    ),
    "zones": Sample(
        lambda w: {
            "site_id": w["dc"]["id"],
            "code": "Z-CHILL",
            "name": "Chilled",
            "kind": "chilled",
            "storage_min_c": 2,
            "storage_max_c": 8,
        },
        {"name": "Chilled room"},
        ("site_id", lambda w: w["dc"]["id"]),
    ),
    "asset-types": Sample(
        lambda w: {"code": "pallet", "name": "Pallet", "kind": "pallet"},
        {"name": "Euro pallet"},
        ("kind", _const("pallet")),
    ),
    "assets": Sample(
        lambda w: {
            "code": "TRL-2",
            "name": "Reefer 2",
            "asset_type_id": w["trailer_type"]["id"],
            "site_id": w["store"]["id"],
            "attributes": {"setpoint_c": -18},
        },
        {"status": "maintenance"},
        ("site_id", lambda w: w["store"]["id"]),
    ),
    "device-profiles": Sample(
        lambda w: {"code": "gw-1", "name": "Gateway", "device_kind": "gateway"},
        {"vendor": "Acme"},
        ("device_kind", _const("gateway")),
    ),
    "devices": Sample(
        lambda w: {
            "code": "trk-002",
            "kind": "tracker",
            "device_profile_id": w["profile"]["id"],
            "asset_id": w["trailer"]["id"],
        },
        {"status": "inactive"},
        ("asset_id", lambda w: w["trailer"]["id"]),
    ),
    "products": Sample(
        lambda w: {"sku": "VAC-02", "gtin": "4006381333931", "name": "Vaccine 2", "unit": "each"},
        {"name": "Vaccine 2x"},
        ("sku", _const("VAC-02")),
    ),
    "lots": Sample(
        lambda w: {"product_id": w["product"]["id"], "lot_code": "L-2", "quantity": 50, "unit": "each"},
        {"quantity": 40},
        ("product_id", lambda w: w["product"]["id"]),
    ),
    "orders": Sample(
        lambda w: {
            "number": "SO-1",
            "kind": "sales",
            "organization_id": w["carrier"]["id"],
            "from_site_id": w["dc"]["id"],
            "lines": [
                {"product_id": w["product"]["id"], "lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}
            ],
        },
        {"status": "allocated"},
        ("kind", _const("sales")),
    ),
    "shipments": Sample(
        lambda w: {
            "number": "SH-1",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "carrier_organization_id": w["carrier"]["id"],
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}],
            "devices": [{"device_id": w["tracker"]["id"]}],
            "assets": [{"asset_id": w["trailer"]["id"]}],
        },
        {"status": "in_transit"},
        ("origin_site_id", lambda w: w["dc"]["id"]),
    ),
    "payload-mappings": Sample(
        # As stored: the spec normalised, defaults filled in.
        lambda w: PayloadMappingIn.model_validate(builtin_mapping_documents()["acme-reefer@1"]).model_dump(
            mode="json"
        ),
        {"name": "Acme reefer, renamed"},
        ("code", _const("acme-reefer")),
    ),
    "retention-policies": Sample(
        lambda w: {"device_profile_id": w["profile"]["id"], "days": 90},
        {"days": 120},
        ("device_profile_id", lambda w: w["profile"]["id"]),
    ),
    "rules": Sample(
        # As stored: defaults filled in.
        lambda w: RuleIn.model_validate(
            {
                "code": "dc-cold-room",
                "name": "Lyon cold room",
                "site_id": w["dc"]["id"],
                "condition": {
                    "kind": "duration",
                    "metric": "temperature_c",
                    "op": ">",
                    "value": 8,
                    "for_s": 600,
                },
            }
        ).model_dump(mode="json"),
        {"severity": "critical"},
        ("site_id", lambda w: w["dc"]["id"]),
    ),
    "escalation-policies": Sample(
        lambda w: {
            "code": "cold-chain",
            "name": "Cold chain",
            "organization_id": w["carrier"]["id"],  # alarms on the carrier's assets
            "levels": [
                {"after_s": 900, "assignee": "dispatch", "notify_url": None},
                {"after_s": 1800, "assignee": "qa-manager", "notify_url": None},
            ],
        },
        {"name": "Cold chain escalation"},
        ("code", _const("cold-chain")),
    ),
    "inventory-positions": Sample(
        lambda w: {
            "site_id": w["dc"]["id"],
            "product_id": w["product"]["id"],
            "lot_id": w["lot"]["id"],
            "on_hand": 100,
            "allocated": 20,
            "held": 5,
            "unit": "each",
        },
        {"on_hand": 90},
        ("site_id", lambda w: w["dc"]["id"]),
    ),
}


async def create_all_samples(client: httpx.AsyncClient, headers: dict[str, str], w: dict[str, Any]) -> None:
    """Add one record of every resource to the world, under the resource's name."""
    for name, sample in SAMPLES.items():
        w[name] = await post(client, headers, name, sample.body(w))


def assert_problem(
    r: httpx.Response, status: int, field: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with this status; with ``field``, one of its errors names it."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json", r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:supplyline:problem:")
    assert body["title"] and body["detail"]
    if field is not None:
        errors = body["errors"]
        assert all(set(e) == {"field", "reason"} and e["reason"] for e in errors), errors
        named = [e for e in errors if e["field"] == field]
        assert named, f"no error names {field!r}: {errors}"
        if reason is not None:
            assert any(reason in e["reason"] for e in named), named
    return body


async def events_of(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    r = await client.get("/v1/events", params={"limit": 1000, **params}, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def raise_alarm_and_hold(services: Services, tenant_id: uuid.UUID, w: dict[str, Any]) -> None:
    """An alarm on the tracker and a hold on the lot, as a rule's actions make them, for the
    tests that walk every endpoint (w["alarm"], w["hold"])."""
    async with services.uow() as uow:
        # A lot of its own: the hold changes its lot and positions, which other tests compare.
        lot = await services.resources.create(
            uow,
            Scope.system(tenant_id),
            "lots",
            {"product_id": w["product"]["id"], "lot_code": "HOLD-1", "quantity": 5, "unit": "each"},
        )
        alarm = await alarms.raise_alarm(
            uow,
            tenant_id,
            alarms.RaiseAlarm(
                type="cold-chain-max",
                severity="critical",
                originator_kind="device",
                originator_id=uuid.UUID(w["tracker"]["id"]),
                originator="trk-001",
                at=utcnow(),
                lot_ids=[lot["id"]],
            ),
        )
        hold, _ = await logistics.hold_lot(
            uow,
            tenant_id,
            logistics.HoldLot(uuid.UUID(str(lot["id"])), "inspection", "test", alarm_id=alarm["id"]),
        )
        await uow.commit()
    w["alarm"], w["hold"] = {"id": str(alarm["id"])}, {"id": str(hold["id"])}
