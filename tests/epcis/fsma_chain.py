"""A small produce chain as EPCIS 2.0 events, one per FSMA 204 CTE, for the export tests.

Romaine is harvested at a farm (lot LET-01), cooled, packed into cases (the TLC PK-01 is
assigned), shipped to a processor, received there, made into salad kits (SAL-01) and shipped
on; a fish landing (FISH-9) is a first land-based receiving. The receiving at the processor
names no business document: its reference document KDEs are missing on purpose.
"""

from __future__ import annotations

from typing import Any

from supplyline.bootstrap import Services
from supplyline.epcis import index_event, insert_events
from tests.conftest import TenantCtx

EX = "https://example.com/fsma/"
LETTUCE, CASES, SALAD, FISH = "00614141000012", "00614141000029", "00614141000036", "00614141000043"
FARM, COOLER, PACKHOUSE, PROCESSOR, RETAIL_DC, DOCK = (
    "0614141000012",
    "0614141000029",
    "0614141000036",
    "0614141000043",
    "0614141000050",
    "0614141000067",
)
# How each event of the chain reads in the spreadsheet's CTE column, in time order.
CTE_OF = {
    "harvest": "Harvesting",
    "cool": "Cooling",
    "pack": "Initial Packing",
    "ship-cases": "Shipping",
    "receive-cases": "Receiving",
    "make-salad": "Transformation",
    "ship-salad": "Shipping",
    "land-fish": "First Land-Based Receiving",
}


def loc(gln: str) -> dict[str, str]:
    return {"id": f"https://id.gs1.org/414/{gln}"}


def lot(gtin: str, code: str, quantity: float, uom: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"epcClass": f"https://id.gs1.org/01/{gtin}/10/{code}", "quantity": quantity}
    return {**item, "uom": uom} if uom else item


def _places(field: str, kind: str, gln: str) -> list[dict[str, str]]:
    return [{"type": kind, field: f"https://id.gs1.org/414/{gln}"}]


def event(name: str, time: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:example:fsma:{name}",
        "eventTime": time,
        "eventTimeZoneOffset": time[-6:] if time[-6] in "+-" else "+00:00",
        "action": "OBSERVE",
        **fields,
    }


def chain() -> dict[str, dict[str, Any]]:
    """The chain's events by name (eventIDs fixed, times in March 2026)."""
    return {
        "harvest": event(
            "harvest",
            "2026-03-01T07:00:00-08:00",
            action="ADD",
            bizStep=EX + "harvesting",
            bizLocation=loc(FARM),
            quantityList=[lot(LETTUCE, "LET-01", 500, "KGM")],
            destinationList=_places("destination", "location", COOLER),
            bizTransactionList=[
                {"type": "bol", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:BOL-7"}
            ],
            ilmd={"ex:fieldName": "North 40", "ex:commodity": "Romaine lettuce"},
        ),
        "cool": event(
            "cool",
            "2026-03-01T11:00:00-08:00",
            bizStep=EX + "cooling",
            bizLocation=loc(COOLER),
            quantityList=[lot(LETTUCE, "LET-01", 500, "KGM")],
            destinationList=_places("destination", "location", PACKHOUSE),
            bizTransactionList=[
                {"type": "bol", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:BOL-7"}
            ],
            **{"ex:harvestLocation": "Green Acres Farm", "ex:commodity": "Romaine lettuce"},
        ),
        "pack": event(
            "pack",
            "2026-03-02T06:30:00-08:00",
            action="ADD",
            bizStep="commissioning",
            bizLocation=loc(PACKHOUSE),
            quantityList=[lot(CASES, "PK-01", 100, "CS")],
            bizTransactionList=[{"type": "prodorder", "bizTransaction": "https://example.com/po/PO-PK-1"}],
            ilmd={
                "ex:harvestDate": "2026-03-01",
                "ex:harvestLocation": "Green Acres Farm",
                "ex:coolingDate": "2026-03-01",
            },
        ),
        "ship-cases": event(
            "ship-cases",
            "2026-03-02T15:00:00-08:00",
            bizStep="shipping",
            bizLocation=loc(PACKHOUSE),
            quantityList=[lot(CASES, "PK-01", 100, "CS")],
            sourceList=_places("source", "location", PACKHOUSE),
            destinationList=_places("destination", "location", PROCESSOR),
            bizTransactionList=[
                {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000036:DA-1"}
            ],
        ),
        "receive-cases": event(
            "receive-cases",
            "2026-03-03T09:00:00-05:00",
            bizStep="urn:epcglobal:cbv:bizstep:receiving",
            bizLocation=loc(PROCESSOR),
            quantityList=[lot(CASES, "PK-01", 100, "CS")],
            sourceList=_places("source", "location", PACKHOUSE),
        ),
        "make-salad": {
            **event(
                "make-salad", "2026-03-04T10:00:00-05:00", bizStep="transforming", bizLocation=loc(PROCESSOR)
            ),
            "type": "TransformationEvent",
            "inputQuantityList": [
                {"epcClass": "urn:epc:class:lgtin:0614141.000002.PK-01", "quantity": 40, "uom": "CS"}
            ],
            "outputQuantityList": [lot(SALAD, "SAL-01", 300)],
            "bizTransactionList": [{"type": "prodorder", "bizTransaction": "https://example.com/po/MO-9"}],
        },
        "ship-salad": event(
            "ship-salad",
            "2026-03-05T08:00:00-05:00",
            bizStep="shipping",
            bizLocation=loc(PROCESSOR),
            quantityList=[lot(SALAD, "SAL-01", 300)],
            destinationList=_places("destination", "location", RETAIL_DC),
            bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000050:PO-55"}],
        ),
        "land-fish": event(
            "land-fish",
            "2026-03-10T05:00:00+00:00",
            action="ADD",
            bizStep=EX + "first_land_based_receiving",
            bizLocation=loc(DOCK),
            quantityList=[lot(FISH, "FISH-9", 900, "KGM")],
            bizTransactionList=[{"type": "inv", "bizTransaction": "https://example.com/inv/INV-3"}],
            ilmd={"ex:species": "Yellowfin tuna", "ex:harvestDate": "2026-03-08"},
        ),
    }


CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"ex": "https://example.com/fsma/"}]


async def store(services: Services, tenant: TenantCtx, events: list[dict[str, Any]]) -> None:
    records = [index_event(e, CONTEXT) for e in events]
    async with services.uow() as uow:
        await insert_events(uow, tenant.id, records, source="capture", actor="test")
        await uow.commit()
