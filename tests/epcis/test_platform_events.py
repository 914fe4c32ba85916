"""The platform's own custody events are stored as EPCIS 2.0 events: a shipment departs and
arrives (its receipt), a reading breaks the cold chain (a sensor report with ALARM_CONDITION),
the rule holds the lot and an approver releases it. Identifiers are GS1 Digital Links where the
records carry GTINs and GLNs, refs name the platform records, and a replay stores nothing twice."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.epcis import EPCIS_EVENT_RECORDED, PLATFORM_EVENTS_CONSUMER
from supplyline.epcis.tables import epcis_event, epcis_event_ref
from supplyline.eventlog.tables import eventlog_event
from supplyline.trace import event_hash_id
from tests.conftest import TenantCtx
from tests.factories import post
from tests.rules import support
from tests.telemetry.fleet import Device, fleet, now_ms, send

CBV = "https://ref.gs1.org/cbv/"
GLN = "4012345000009"
LGTIN = "https://id.gs1.org/01/04012345678901/10/L2026-11"
SGLN = f"https://id.gs1.org/414/{GLN}"
# What EPCIS 2.0 requires of every ObjectEvent (JSON schema: event base and ObjectEvent).
REQUIRED = {"type", "eventTime", "eventTimeZoneOffset", "action"}


@pytest.fixture
async def w(client: httpx.AsyncClient, tenant: TenantCtx, services: Services) -> dict[str, Any]:
    services.telemetry.writer.evaluators[:] = [support.evaluator(services)]
    w = await fleet(client, tenant)
    h = tenant.headers
    r = await client.patch(f"/v1/sites/{w['dc']['id']}", json={"attributes": {"gln": GLN}}, headers=h)
    assert r.status_code == 200, r.text
    await post(
        client,
        h,
        "inventory-positions",
        {
            "site_id": w["dc"]["id"],
            "product_id": w["product"]["id"],
            "lot_id": w["lot"]["id"],
            "on_hand": 600,
            "unit": "each",
        },
    )
    w["order"] = await post(
        client,
        h,
        "orders",
        {
            "number": "PO-7",
            "kind": "purchase",
            "to_site_id": w["store"]["id"],
            "lines": [
                {"product_id": w["product"]["id"], "lot_id": w["lot"]["id"], "quantity": 400, "unit": "each"}
            ],
        },
    )
    w["shipment"] = await post(
        client,
        h,
        "shipments",
        {
            "number": "SHP-1",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "order_id": w["order"]["id"],
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 400, "unit": "each"}],
            "devices": [{"device_id": w["tracker"]["id"], "assigned_at": "2026-01-01T00:00:00Z"}],
        },
    )
    await post(
        client,
        h,
        "rules",
        {
            "code": "cold-chain-max",
            "name": "Vaccines above 8 C",
            "severity": "critical",
            "condition": {
                "kind": "threshold",
                "metric": "temperature_c",
                "op": ">",
                "value": 8,
                "clear_at": 7,
            },
            # The compliance record of a shipment's excursion says what its exception says:
            # it is not stored a second time.
            "actions": [{"type": "hold_lots"}, {"type": "record_compliance"}],
        },
    )
    return w


async def settle(services: Services) -> None:
    for name in ("rules.actions", PLATFORM_EVENTS_CONSUMER):
        await services.consumers.catch_up(name)


async def patch(client: httpx.AsyncClient, tenant: TenantCtx, path: str, body: dict[str, Any]) -> None:
    r = await client.patch(path, json=body, headers=tenant.headers)
    assert r.status_code == 200, r.text


async def stored(services: Services) -> list[dict[str, Any]]:
    """The platform's EPCIS events in record order, each with its document and refs."""
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(epcis_event).where(epcis_event.c.source == "platform").order_by(epcis_event.c.seq)
            )
        ).mappings()
        out = [dict(r) for r in rows]
        refs = (await conn.execute(select(epcis_event_ref))).all()
    for row in out:
        row["refs"] = {(r.kind, str(r.ref_id)) for r in refs if r.seq == row["seq"]}
    return out


def check_valid(document: dict[str, Any]) -> None:
    """Members EPCIS 2.0 requires, and an Event Hash ID the GS1 algorithm computes. The JSON
    schema wants an ObjectEvent to name objects (an epcList, or a quantityList of one or more)
    or to be a sensor report at a read point."""
    assert set(document) >= REQUIRED, document
    sensor_only = bool(document.get("sensorElementList")) and "id" in document.get("readPoint", {})
    assert "epcList" in document or document.get("quantityList") or sensor_only, document
    assert all("epcClass" in q for q in document.get("quantityList", ()))
    assert document["eventID"].startswith("urn:uuid:")
    assert event_hash_id({k: v for k, v in document.items() if k != "recordTime"}).startswith(
        "ni:///sha-256;"
    )


async def test_a_shipments_journey_is_stored_as_epcis_events(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    shipment, lot, dc, store = w["shipment"], w["lot"], w["dc"], w["store"]
    path = f"/v1/shipments/{shipment['id']}"
    await patch(client, tenant, path, {"status": "in_transit", "actual_departure_at": "2026-11-20T07:30:00Z"})
    await settle(services)

    tracker: Device = w["devices"]["tracker"]
    raw, headers = tracker.signed(
        {"device": "trk-001", "seq": 1, "ts": now_ms() - 60_000, "metrics": {"temperature_c": 9.4}}
    )
    r = await client.post("/v1/telemetry", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    await settle(services)
    r = await client.get("/v1/holds", params={"status": "active"}, headers=tenant.headers)
    (hold,) = r.json()["items"]
    r = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "probe log fine"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    await patch(client, tenant, path, {"status": "delivered", "actual_arrival_at": "2026-11-20T15:00:00Z"})
    await settle(services)

    events = await stored(services)
    steps = [e["biz_step"].removeprefix(CBV + "BizStep-") for e in events]
    assert steps == ["departing", "sensor_reporting", "holding", "inspecting", "receiving"]
    for e in events:
        check_valid(e["document"])
        assert e["hash_id"] == event_hash_id({k: v for k, v in e["document"].items() if k != "recordTime"})
    departing, sensor, held, released, receiving = (e["document"] for e in events)

    assert departing["type"] == "ObjectEvent" and departing["action"] == "OBSERVE"
    assert departing["disposition"] == "in_transit"
    assert departing["eventTime"] == "2026-11-20T07:30:00.000Z"
    assert departing["eventTimeZoneOffset"] == "+01:00"  # the Lyon DC's zone in November
    assert departing["quantityList"] == [{"epcClass": LGTIN, "quantity": 400}]
    assert departing["readPoint"] == {"id": SGLN} and "bizLocation" not in departing
    assert departing["sourceList"] == [{"type": "location", "source": SGLN}]
    assert departing["destinationList"] == [{"type": "location", "destination": f"urn:uuid:{store['id']}"}]
    assert {"type": "po", "bizTransaction": f"urn:uuid:{w['order']['id']}"} in departing["bizTransactionList"]
    assert {"type": "desadv", "bizTransaction": f"urn:uuid:{shipment['id']}"} in departing[
        "bizTransactionList"
    ]
    assert events[0]["refs"] == {
        ("shipment", shipment["id"]),
        ("lot", lot["id"]),
        ("order", w["order"]["id"]),
        ("site", dc["id"]),
        ("site", store["id"]),
    }

    (element,) = sensor["sensorElementList"]
    (report,) = element["sensorReport"]
    assert report["type"] == "gs1:Temperature" and report["value"] == 9.4 and report["uom"] == "CEL"
    assert report["exception"] == "ALARM_CONDITION"
    assert element["sensorMetadata"] == {"deviceID": f"urn:uuid:{w['tracker']['id']}"}
    assert sensor["quantityList"] == [{"epcClass": LGTIN, "quantity": 400}]
    assert ("shipment", shipment["id"]) in events[1]["refs"] and ("lot", lot["id"]) in events[1]["refs"]

    assert held["disposition"] == "non_sellable_other"
    assert released["disposition"] == "sellable_accessible"
    for doc in (held, released):
        assert doc["quantityList"] == [{"epcClass": LGTIN, "quantity": 1000}]
        assert doc["bizLocation"] == {"id": SGLN}  # where the lot's stock is
    assert ("shipment", shipment["id"]) in events[2]["refs"]

    assert receiving["disposition"] == "in_progress"
    assert receiving["readPoint"] == receiving["bizLocation"] == {"id": f"urn:uuid:{store['id']}"}
    assert receiving["eventTime"] == "2026-11-20T15:00:00.000Z"

    # Each names the platform event it came from, and the ledger is told of each, in the
    # cause's correlation (a reading's consequences share one id).
    log = eventlog_event
    async with services.engine.connect() as conn:
        logged = {r.id: r for r in await conn.execute(select(log.c.id, log.c.type, log.c.correlation_id))}
        recorded = (
            await conn.execute(
                select(log.c.data, log.c.correlation_id)
                .where(log.c.type == EPCIS_EVENT_RECORDED.type)
                .order_by(log.c.position)
            )
        ).all()
    causes = [logged[uuid.UUID(e["event_id"].removeprefix("urn:uuid:"))] for e in events[:4]]
    assert [c.type for c in causes] == [
        f"supplyline.{name}.v{version}"
        for name, version in (
            ("shipment.updated", 2),
            ("shipment.temperature_exceeded", 1),
            ("lot.held", 1),
            ("lot.released", 1),
        )
    ]
    assert [r.data["hash_id"] for r in recorded if r.data["source"] == "platform"] == [
        e["hash_id"] for e in events
    ]
    assert [r.correlation_id for r in recorded[:4]] == [c.correlation_id for c in causes]
    assert causes[1].correlation_id == causes[2].correlation_id  # the reading's, then its hold's


async def test_a_replay_and_a_restated_departure_store_nothing_twice(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    path = f"/v1/shipments/{w['shipment']['id']}"
    await patch(client, tenant, path, {"status": "in_transit"})  # departed, time not yet known
    await settle(services)
    await patch(client, tenant, path, {"actual_departure_at": "2026-11-20T07:30:00Z"})
    await patch(client, tenant, path, {"status": "delivered"})
    await settle(services)
    before = await stored(services)
    assert [e["biz_step"].removeprefix(CBV + "BizStep-") for e in before] == ["departing", "receiving"]

    await services.consumers.replay(PLATFORM_EVENTS_CONSUMER)
    assert [e["seq"] for e in await stored(services)] == [e["seq"] for e in before]


async def test_lots_without_gtin_and_sites_without_gln_get_uuid_uris(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    h = tenant.headers
    product = await post(client, h, "products", {"sku": "APL-1", "name": "Apples", "unit": "kg"})
    lot = await post(
        client, h, "lots", {"product_id": product["id"], "lot_code": "A-1", "quantity": 250, "unit": "kg"}
    )
    shipment = await post(
        client,
        h,
        "shipments",
        {
            "number": "SHP-2",
            "status": "in_transit",
            "origin_site_id": w["store"]["id"],
            "destination_site_id": w["dc"]["id"],
            "lots": [{"lot_id": lot["id"], "quantity": 250, "unit": "kg"}],
        },
    )
    # A shipment carrying no lot moves no object: nothing to say in EPCIS.
    empty = {
        "number": "SHP-3",
        "status": "in_transit",
        "origin_site_id": w["dc"]["id"],
        "destination_site_id": w["store"]["id"],
    }
    await post(client, h, "shipments", empty)
    await settle(services)
    (departing,) = [e["document"] for e in await stored(services)]
    check_valid(departing)
    assert departing["quantityList"] == [{"epcClass": f"urn:uuid:{lot['id']}", "quantity": 250, "uom": "KGM"}]
    assert departing["readPoint"] == {"id": f"urn:uuid:{w['store']['id']}"}
    assert departing["eventTimeZoneOffset"] == "+00:00"  # the store has no zone of its own (UTC)
    assert departing["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": f"urn:uuid:{shipment['id']}"}
    ]


async def test_an_excursion_of_a_device_on_no_shipment_is_a_sensor_only_event(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    rule = {
        "code": "coldroom-damp",
        "name": "Cold room above 80 %RH",
        "severity": "warning",
        "condition": {"kind": "threshold", "metric": "humidity_pct", "op": ">", "value": 80, "clear_at": 70},
        "actions": [{"type": "record_compliance"}],
    }
    await post(client, tenant.headers, "rules", rule)
    sensor: Device = w["devices"]["cr-0"]
    r = await send(
        client, sensor, {"device": "cr-0", "seq": 1, "ts": now_ms() - 60_000, "metrics": {"humidity_pct": 91}}
    )
    assert r.status_code == 200, r.text
    await settle(services)
    (event,) = await stored(services)
    document = event["document"]
    check_valid(document)
    assert event["biz_step"] == CBV + "BizStep-sensor_reporting"
    # Read where the sensor's trailer stands: the Lyon DC, by its GLN.
    assert document["readPoint"] == {"id": SGLN} and event["refs"] == {("site", w["dc"]["id"])}
    assert "quantityList" not in document and "epcList" not in document
    (element,) = document["sensorElementList"]
    assert element["sensorMetadata"] == {"deviceID": f"urn:uuid:{sensor.id}"}
    (report,) = element["sensorReport"]
    assert (report["type"], report["value"], report["uom"]) == ("gs1:RelativeHumidity", 91, "P1")
    assert report["exception"] == "ALARM_CONDITION"
