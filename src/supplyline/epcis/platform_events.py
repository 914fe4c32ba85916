"""The platform's own custody facts as EPCIS 2.0 events: one mapper per platform event type.

A shipment that departs (``departing``, ``in_transit``) and arrives at its destination, which
is also its receipt there (``receiving``, ``in_progress``: nothing else in the platform marks a
receipt); a lot held (``holding``, ``non_sellable_other``) and released (``inspecting``,
``sellable_accessible``); a shipment's excursion as a sensor report with ``ALARM_CONDITION``.
Each emitted event's eventID is ``urn:uuid:`` of the platform event (a second event of the same
platform event a name-based UUID of it), so a replay finds what it stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supplyline import logistics
from supplyline.epcis.platform_ids import (
    Lookup,
    epcis_time,
    lot_class,
    quantity_element,
    site_uri,
    urn,
    zone_offset,
)
from supplyline.kernel.events import StoredEvent

# A shipment's resource events, the retired version 1 included (same shape, no prices).
_SHIPMENT_TYPES = [*logistics.SHIPMENTS.retired_event_types, *logistics.SHIPMENTS.event_types.values()]
_CREATED = frozenset(t.type for t in _SHIPMENT_TYPES if t.name.endswith(".created"))
# Rules sit above this capability: their compliance record is named by its wire type.
EXCURSION_RECORDED = "supplyline.compliance.excursion_recorded.v1"
# Sensor report types (GS1 measurement types) and units of the metrics the platform knows.
_MEASURES = {
    "temperature_c": ("gs1:Temperature", "CEL"),
    "humidity_pct": ("gs1:RelativeHumidity", "P1"),
    "humidity": ("gs1:RelativeHumidity", "P1"),
}
Ref = tuple[str, uuid.UUID]
Line = tuple[uuid.UUID, float | None, str | None]  # a lot, its quantity and unit if known


@dataclass(frozen=True)
class Emitted:
    """An EPCIS event to store, the platform records it is about, and, for a step a record
    goes through once (a shipment departs once), the (kind, id) it is once for."""

    document: dict[str, Any]
    refs: frozenset[Ref]
    once_for: Ref | None = None


Mapper = Callable[[StoredEvent, Lookup], Awaitable[list[Emitted]]]


@dataclass
class _Lots:
    """The lots an event concerns as a quantityList, with their refs."""

    quantities: list[dict[str, Any]] = field(default_factory=list)
    refs: set[Ref] = field(default_factory=set)


def _event_id(event: StoredEvent, role: str | None = None) -> str:
    return urn(event.id if role is None else uuid.uuid5(event.id, role))


def _object_event(event_id: str, at: datetime, timezone: str | None, **members: Any) -> dict[str, Any]:
    """An ObjectEvent OBSERVE; members left None are omitted."""
    doc: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": epcis_time(at),
        "eventTimeZoneOffset": zone_offset(at, timezone),
        "action": "OBSERVE",
    }
    doc.update({k: v for k, v in members.items() if v is not None})
    return doc


async def _lots(lookup: Lookup, lines: Iterable[Line]) -> _Lots:
    lines = list(lines)
    found = await lookup.lots(lot for lot, _, _ in lines)
    out = _Lots()
    for lot_id, quantity, unit in lines:
        out.quantities.append(quantity_element(lot_class(lot_id, found[lot_id]), quantity, unit))
        out.refs.add(("lot", lot_id))
    return out


async def _transactions(
    lookup: Lookup, shipment_id: uuid.UUID, order_id: uuid.UUID | None
) -> tuple[list[dict[str, str]], set[Ref]]:
    """The shipment as a despatch advice, and its order as a purchase order (a transfer
    order has no CBV type: it is listed untyped)."""
    out = [{"type": "desadv", "bizTransaction": urn(shipment_id)}]
    refs: set[Ref] = {("shipment", shipment_id)}
    if order_id is not None:
        order = (await lookup.orders([order_id]))[order_id]
        item = {"bizTransaction": urn(order_id)}
        if order is not None and order.kind in ("purchase", "sales"):
            item = {"type": "po", **item}
        out.append(item)
        refs.add(("order", order_id))
    return out, refs


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _at(value: Any, default: datetime) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else default


def _departed(record: Mapping[str, Any], changed: set[str]) -> bool:
    if "actual_departure_at" in changed and record.get("actual_departure_at"):
        return True
    return (
        "status" in changed and record.get("status") == "in_transit" and not record.get("actual_departure_at")
    )


def _arrived(record: Mapping[str, Any], changed: set[str]) -> bool:
    if "actual_arrival_at" in changed and record.get("actual_arrival_at"):
        return True
    return "status" in changed and record.get("status") == "delivered" and not record.get("actual_arrival_at")


async def shipment_moved(event: StoredEvent, lookup: Lookup) -> list[Emitted]:
    """``shipment.created`` / ``shipment.updated``: a departure when the actual departure is
    set (or the status becomes in_transit without one), an arrival likewise, each once."""
    created = event.type in _CREATED
    record: Mapping[str, Any] = event.data if created else event.data["record"]
    changed = set(record) if created else set(event.data.get("changed", ()))
    out: list[Emitted] = []
    if not record.get("lots"):
        return out  # an ObjectEvent names objects: a shipment carrying no lot moves none
    if _departed(record, changed):
        out.append(await _movement(event, lookup, record, departure=True))
    if _arrived(record, changed):
        out.append(await _movement(event, lookup, record, departure=False))
    return out


async def _movement(
    event: StoredEvent, lookup: Lookup, record: Mapping[str, Any], *, departure: bool
) -> Emitted:
    shipment_id = uuid.UUID(str(record["id"]))
    origin, destination = (
        uuid.UUID(str(record["origin_site_id"])),
        uuid.UUID(str(record["destination_site_id"])),
    )
    sites = await lookup.sites([origin, destination])
    here = origin if departure else destination
    lots = await _lots(
        lookup,
        ((uuid.UUID(str(x["lot_id"])), x.get("quantity"), x.get("unit")) for x in record.get("lots", ())),
    )
    btx, refs = await _transactions(lookup, shipment_id, _uuid(record.get("order_id")))
    at = _at(record.get("actual_departure_at" if departure else "actual_arrival_at"), event.time)
    place = {"id": site_uri(here, sites[here])}
    site = sites[here]
    document = _object_event(
        # The departure takes the platform event's own id, an arrival in the same change a
        # name derived from it.
        _event_id(event, None if departure else "arrival"),
        at,
        site.timezone if site else None,
        quantityList=lots.quantities or None,
        bizStep="departing" if departure else "receiving",
        disposition="in_transit" if departure else "in_progress",
        readPoint=place,
        # CBV: goods that left a location are in transit and have no business location.
        bizLocation=None if departure else place,
        bizTransactionList=btx,
        sourceList=[{"type": "location", "source": site_uri(origin, sites[origin])}],
        destinationList=[{"type": "location", "destination": site_uri(destination, sites[destination])}],
    )
    refs |= lots.refs | {("site", origin), ("site", destination)}
    return Emitted(document, frozenset(refs), ("shipment", shipment_id))


async def lot_held(event: StoredEvent, lookup: Lookup) -> list[Emitted]:
    return [await _hold(event, lookup, "holding", "non_sellable_other")]


async def lot_released(event: StoredEvent, lookup: Lookup) -> list[Emitted]:
    return [await _hold(event, lookup, "inspecting", "sellable_accessible")]


async def _hold(event: StoredEvent, lookup: Lookup, step: str, disposition: str) -> Emitted:
    """A hold or its release, where the lot's stock is (if any position holds some)."""
    d = event.data
    lot_id = uuid.UUID(d["lot_id"])
    lots = await _lots(lookup, [(lot_id, d.get("quantity"), d.get("unit"))])
    refs = set(lots.refs)
    shipment_id = _uuid(d.get("shipment_id"))
    if shipment_id is not None:
        refs.add(("shipment", shipment_id))
    lot = (await lookup.lots([lot_id]))[lot_id]
    site_id = lot.site_id if lot else None
    site = (await lookup.sites([site_id]))[site_id] if site_id else None
    place = {"id": site_uri(site_id, site)} if site_id else None
    if site_id:
        refs.add(("site", site_id))
    document = _object_event(
        _event_id(event),
        event.time,
        site.timezone if site else None,
        quantityList=lots.quantities,
        bizStep=step,
        disposition=disposition,
        readPoint=place,
        bizLocation=place,
    )
    return Emitted(document, frozenset(refs))


def _sensor_element(d: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    report: dict[str, Any] = {"value": d["value"], "time": epcis_time(at), "exception": "ALARM_CONDITION"}
    measure = _MEASURES.get(str(d["metric"]))
    if measure is not None:
        report = {"type": measure[0], **report, "uom": measure[1]}
    return {"sensorMetadata": {"deviceID": urn(d["device_id"])}, "sensorReport": [report]}


async def _sensor_event(
    event: StoredEvent, lookup: Lookup, lots: _Lots, btx: list[dict[str, str]] | None
) -> dict[str, Any]:
    """A ``sensor_reporting`` ObjectEvent of the excursion's reading. Without objects EPCIS
    wants a read point: the device's site, else the device itself."""
    d = event.data
    at = _at(d.get("at"), event.time)
    read_point = None
    if not lots.quantities:
        device_id = uuid.UUID(d["device_id"])
        site_id = await lookup.device_site(device_id)
        site = (await lookup.sites([site_id]))[site_id] if site_id else None
        read_point = {"id": site_uri(site_id, site) if site_id else urn(device_id)}
        if site_id:
            lots.refs.add(("site", site_id))
    return _object_event(
        _event_id(event),
        at,
        None,
        quantityList=lots.quantities or None,
        bizStep="sensor_reporting",
        readPoint=read_point,
        bizTransactionList=btx,
        sensorElementList=[_sensor_element(d, at)],
    )


async def shipment_excursion(event: StoredEvent, lookup: Lookup) -> list[Emitted]:
    """``shipment.temperature_exceeded`` / ``condition_breached``: the reading that broke the
    condition, as a sensor report on the shipment's lots with ``ALARM_CONDITION``."""
    d = event.data
    shipment_id = uuid.UUID(d["shipment_id"])
    route = (await lookup.shipments([shipment_id]))[shipment_id]
    wanted = list(dict.fromkeys(uuid.UUID(x) for x in d.get("lot_ids", ())))
    carried = {x.lot_id: x for x in route.lots} if route else {}
    # The quantity the shipment carries of each lot; a lot it no longer lists, without one.
    lines: list[Line] = [
        (lot, carried[lot].quantity, carried[lot].unit) if lot in carried else (lot, None, None)
        for lot in wanted
    ]
    lots = await _lots(lookup, lines)
    btx, refs = await _transactions(lookup, shipment_id, route.order_id if route else None)
    document = await _sensor_event(event, lookup, lots, btx)
    return [Emitted(document, frozenset(refs | lots.refs))]


async def compliance_excursion(event: StoredEvent, lookup: Lookup) -> list[Emitted]:
    """``compliance.excursion_recorded`` of a device that carried no shipment: a sensor-only
    ObjectEvent. With shipments, their own exceptions (above) already say it, with the lots."""
    if event.data.get("shipment_ids"):
        return []
    lots = _Lots()
    document = await _sensor_event(event, lookup, lots, None)
    return [Emitted(document, frozenset(lots.refs))]


MAPPERS: dict[str, Mapper] = {
    **{t.type: shipment_moved for t in _SHIPMENT_TYPES if not t.name.endswith(".archived")},
    logistics.LOT_HELD.type: lot_held,
    logistics.LOT_RELEASED.type: lot_released,
    logistics.SHIPMENT_TEMPERATURE_EXCEEDED.type: shipment_excursion,
    logistics.SHIPMENT_CONDITION_BREACHED.type: shipment_excursion,
    EXCURSION_RECORDED: compliance_excursion,
}
