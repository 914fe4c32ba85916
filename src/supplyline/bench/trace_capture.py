"""How fast EPCIS 2.0 events are captured on SQLite: validated, hashed, indexed and stored.

Events go through ``epcis.capture`` as the API calls it (schema, CBV and namespace checks, the
Event Hash ID, canonical keys, lineage edges, platform refs, the ledger's platform event), in
documents of ``per_document`` events, each its own transaction. The mix is a cold chain's:
commissioning with ILMD, packing into pallets, shipping with business transactions, sensor
readings, and a transformation now and then.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from supplyline import access, epcis
from supplyline.bootstrap import build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "https://ns.example.com/epcis/"},
]


def _event(n: int) -> dict[str, Any]:
    """The ``n``-th event of the mix; every one distinct, so each has its own hash ID."""
    at = f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{(n // 60) % 60:02d}.{n % 1000:03d}+01:00"
    base: dict[str, Any] = {"eventTime": at, "eventTimeZoneOffset": "+01:00"}
    site = {"id": f"urn:epc:id:sgln:4012345.{n % 50:05d}.0"}
    kind = n % 10
    if kind < 4:
        return {
            **base,
            "type": "ObjectEvent",
            "action": "ADD",
            "epcList": [f"urn:epc:id:sgtin:4012345.067890.{n}", f"urn:epc:id:sgtin:4012345.067890.{n}9"],
            "quantityList": [{"epcClass": f"urn:epc:class:lgtin:4012345.067890.L{n % 97}", "quantity": 10}],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": site,
            "ilmd": {"cbvmda:bestBeforeDate": "2027-03-01", "example:farm": f"F{n % 13}"},
        }
    if kind < 6:
        return {
            **base,
            "type": "AggregationEvent",
            "action": "ADD",
            "parentID": f"urn:epc:id:sscc:4012345.{n:010d}",
            "childEPCs": [f"https://id.gs1.org/01/04012345678901/21/{n - 1}"],
            "bizStep": "urn:epcglobal:cbv:bizstep:packing",
            "disposition": "in_progress",
            "readPoint": site,
        }
    if kind < 8:
        return {
            **base,
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "epcList": [f"urn:epc:id:sscc:4012345.{n - 2:010d}"],
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": site,
            "bizTransactionList": [
                {"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:4012345000016:PO-{n}"}
            ],
            "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:4012345.00000"}],
        }
    if kind < 9:
        return {
            **base,
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "bizStep": "sensor_reporting",
            "readPoint": site,
            "sensorElementList": [
                {
                    "sensorMetadata": {"deviceID": f"urn:epc:id:giai:4012345.TRK-{n % 40}"},
                    "sensorReport": [{"type": "gs1:Temperature", "value": 2 + n % 7, "uom": "CEL"}],
                }
            ],
        }
    return {
        **base,
        "type": "TransformationEvent",
        "inputQuantityList": [
            {"epcClass": f"urn:epc:class:lgtin:4012345.011111.R{n}", "quantity": 5, "uom": "KGM"}
        ],
        "outputQuantityList": [
            {"epcClass": f"urn:epc:class:lgtin:4012345.022222.P{n}", "quantity": 4, "uom": "KGM"}
        ],
        "bizStep": "commissioning",
        "readPoint": site,
    }


def document(start: int, count: int) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00Z",
        "epcisBody": {"eventList": [_event(n) for n in range(start, start + count)]},
    }


def _fresh(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return path


async def measure_capture(workdir: Path, events: int = 20000, per_document: int = 1000) -> dict[str, Any]:
    """Capture ``events`` events into a fresh SQLite database in ``workdir``, timed."""
    db_path = _fresh(workdir / "trace-capture.db")
    url = f"sqlite+aiosqlite:///{db_path}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(Settings(database_url=url, data_dir=workdir))
    documents = [document(s, min(per_document, events - s)) for s in range(0, events, per_document)]
    try:
        async with svc.uow() as uow:
            tenant, _ = await access.create_tenant(uow, Scope.platform(), "bench", "Bench")
            await uow.commit()
        start, cpu = time.perf_counter(), time.process_time()
        for doc in documents:
            async with svc.uow() as uow:
                await epcis.capture(uow, tenant.id, doc, actor="bench")
                await uow.commit()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await svc.close()
    return {
        "capture_events_per_s": round(events / seconds, 1),
        "events": events,
        "per_document": per_document,
        "seconds": round(seconds, 3),
        # CPU seconds of the process (both threads: aiosqlite runs SQLite in its own): on a
        # shared machine the rate per CPU second is the steadier figure.
        "cpu_seconds": round(cpu, 3),
        "capture_events_per_cpu_s": round(events / cpu, 1) if cpu > 0 else None,
        "backend": "sqlite",
    }
