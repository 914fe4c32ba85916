"""Storing EPCIS events: columns, canonical keys, lineage edges and the ledger's platform event."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.epcis import EPCIS_EVENT_RECORDED, index_event, insert_events
from supplyline.epcis.tables import epcis_event, epcis_event_key, epcis_lineage_edge
from supplyline.eventlog.tables import eventlog_event
from supplyline.trace import document_events
from tests.conftest import TenantCtx

EXAMPLES = Path(__file__).parent.parent / "trace" / "epcis_examples"

TRANSFORM = {
    "type": "TransformationEvent",
    "eventTime": "2026-03-01T08:00:00+01:00",
    "eventTimeZoneOffset": "+01:00",
    "inputQuantityList": [
        {"epcClass": "urn:epc:class:lgtin:4012345.011111.LOT-A", "quantity": 40, "uom": "KGM"}
    ],
    "outputEPCList": ["urn:epc:id:sgtin:4012345.022222.1"],
    "outputQuantityList": [{"epcClass": "https://id.gs1.org/01/04012345222227/10/LOT-B", "quantity": 80}],
    "bizStep": "commissioning",
}


async def test_events_are_stored_with_canonical_keys_and_edges(services: Services, tenant: TenantCtx) -> None:
    events, context = document_events(json.loads((EXAMPLES / "reference_example3.jsonld").read_text()))
    records = [index_event(e, context) for e in events] + [index_event(TRANSFORM)]
    async with services.uow() as uow:
        seqs = await insert_events(uow, tenant.id, records, source="capture", actor="test")
        await uow.commit()
    assert seqs == sorted(seqs) and len(seqs) == 2
    async with services.engine.connect() as conn:
        rows = (await conn.execute(select(epcis_event).order_by(epcis_event.c.seq))).mappings().all()
        keys = (await conn.execute(select(epcis_event_key.c.role, epcis_event_key.c.value))).all()
        edges = (await conn.execute(select(epcis_lineage_edge.c.from_id, epcis_lineage_edge.c.to_id))).all()
        logged = (
            (
                await conn.execute(
                    select(eventlog_event.c.data).where(eventlog_event.c.type == EPCIS_EVENT_RECORDED.type)
                )
            )
            .scalars()
            .all()
        )
    assert rows[1]["event_id"] == rows[1]["hash_id"] == records[1].hash_id  # no eventID: the hash is the id
    assert rows[1]["biz_step"] == "https://ref.gs1.org/cbv/BizStep-commissioning"
    assert rows[1]["event_time_zone_offset"] == "+01:00"
    assert ("input_class", "https://id.gs1.org/01/04012345111118/10/LOT-A") in keys
    assert ("output", "https://id.gs1.org/01/04012345222227/21/1") in keys
    assert (
        "https://id.gs1.org/01/04012345111118/10/LOT-A",
        "https://id.gs1.org/01/04012345222227/10/LOT-B",
    ) in edges
    assert [d["hash_id"] for d in logged] == [r.hash_id for r in records]
