"""EPCIS 2.0 capture over HTTP: documents written from the standard are stored whole with their
hash IDs; an invalid one is refused whole, naming the event and the field, and stores nothing."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from supplyline.bootstrap import Services
from supplyline.epcis import EPCIS_EVENT_RECORDED
from supplyline.epcis.tables import (
    epcis_capture,
    epcis_event,
    epcis_event_key,
    epcis_event_ref,
    epcis_lineage_edge,
)
from supplyline.eventlog.tables import eventlog_event
from supplyline.trace import event_hash_id
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import post, world

DOCUMENTS = Path(__file__).parent / "documents"
ALL_TYPES = [
    "object_event",
    "aggregation_event",
    "transaction_event",
    "transformation_event",
    "association_event",
]
LD = {"Content-Type": "application/ld+json"}


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DOCUMENTS / f"{name}.jsonld").read_text())
    return document


async def counts(services: Services) -> dict[str, int]:
    """Rows of every table a capture writes to (the ledger's input included)."""
    out = {}
    async with services.engine.connect() as conn:
        for table in (epcis_event, epcis_event_key, epcis_event_ref, epcis_lineage_edge):
            out[table.name] = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
        logged = select(func.count()).where(eventlog_event.c.type == EPCIS_EVENT_RECORDED.type)
        out["eventlog"] = (await conn.execute(logged)).scalar_one()
    return out


async def capture(client: httpx.AsyncClient, tenant: TenantCtx, document: Any) -> httpx.Response:
    return await client.post(
        "/v1/epcis/capture", content=json.dumps(document), headers={**tenant.headers, **LD}
    )


@pytest.mark.parametrize("name", [*ALL_TYPES, "error_declaration"])
async def test_each_document_is_captured_with_its_hash_ids(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, name: str
) -> None:
    if name == "error_declaration":  # it declares an event of the ObjectEvent document
        assert (await capture(client, tenant, load("object_event"))).status_code == 202
    before = await counts(services)
    document = load(name)
    events = document["epcisBody"]["eventList"]
    r = await capture(client, tenant, document)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["Location"] == f"/v1/epcis/capture/{job['captureID']}"
    got = await client.get(r.headers["Location"], headers=tenant.headers)
    assert got.status_code == 200
    assert got.json() == job
    assert job["success"] is True and job["running"] is False and job["errors"] == []
    assert job["captureErrorBehaviour"] == "rollback" and job["eventCount"] == len(events)
    async with services.engine.connect() as conn:
        stmt = (
            select(epcis_event)
            .where(epcis_event.c.capture_id == uuid.UUID(job["captureID"]))
            .order_by(epcis_event.c.seq)
        )
        rows = (await conn.execute(stmt)).mappings().all()
    context = document["@context"]
    assert [row["hash_id"] for row in rows] == [event_hash_id(e, context) for e in events]
    assert [row["event_id"] for row in rows] == [e.get("eventID", event_hash_id(e, context)) for e in events]
    assert (await counts(services))["eventlog"] == before["eventlog"] + len(events)


def _fields(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(key)
            _fields(item, out)
    elif isinstance(value, list):
        for item in value:
            _fields(item, out)
    return out


def test_the_documents_cover_every_field_of_the_standard() -> None:
    named = set()
    types = set()
    for name in [*ALL_TYPES, "error_declaration"]:
        events = load(name)["epcisBody"]["eventList"]
        types |= {e["type"] for e in events}
        named |= _fields(events, set())
    assert types == {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
    assert named >= {
        "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList", "ilmd",
        "sourceList", "destinationList", "bizTransactionList", "sensorElementList", "sensorMetadata",
        "sensorReport", "persistentDisposition", "set", "unset", "certificationInfo", "errorDeclaration",
        "declarationTime", "reason", "correctiveEventIDs", "readPoint", "bizLocation", "transformationID",
        "example:temperatureSetpoint", "example:dock", "example:firmware", "example:probe",
    }  # fmt: skip


def _base() -> dict[str, Any]:
    """A valid two-event document whose second event each case breaks."""
    document = load("transformation_event")
    document["epcisBody"]["eventList"].insert(
        0, copy.deepcopy(load("association_event")["epcisBody"]["eventList"][0])
    )
    return document


INVALID = {
    "unknown bizStep": ("bizStep", "shipping2", "'shipping2' is neither a CBV 2.0 business step nor a URI"),
    "cbv bizStep typo": ("bizStep", "cbv:BizStep-shiping", "is not a CBV 2.0 business step"),
    "disposition": ("disposition", "urn:epcglobal:cbv:disp:sold_out", "is not a CBV 2.0 disposition"),
    "ILMD key without namespace": ("ilmd", {"lotNumber": "X"}, "(an ILMD key) has no namespace"),
    "extension without namespace": ("temperature", 4, "is not a field of TransformationEvent"),
    "unknown prefix": ("other:temperature", 4, "has no namespace"),
    "bad time": ("eventTime", "2026-02-30T06:00:00+01:00", "date-time"),
    "time without offset": ("eventTime", "2026-03-06T06:00:00", "is not a date and time with its UTC offset"),
    "time beyond the calendar in UTC": ("eventTime", "9999-12-31T23:00:00-05:00", "years 1000 to 9998"),
    "bad offset": ("eventTimeZoneOffset", "+1:00", "'+1:00' is not a UTC offset"),
    "not a list": ("inputEPCList", "urn:epc:id:sgtin:4012345.067890.1001", "is not of type"),
    "not a URI": ("transformationID", "T 77", "'T 77' is not an absolute URI"),
    "bizTransaction type": (
        "bizTransactionList",
        [{"type": "invoice", "bizTransaction": "urn:x:1"}],
        "business transaction type",
    ),
    "source type": (
        "sourceList",
        [{"type": "cbv:SDT-owner", "source": "urn:x:1"}],
        "source or destination type",
    ),
    "sensor type": (
        "sensorElementList",
        [{"sensorReport": [{"type": "gs1:Temprature"}]}],
        "sensor measurement type",
    ),
    "uom": ("outputQuantityList", [{"epcClass": "urn:x:1", "quantity": 1, "uom": "kilo"}], "unit code"),
    "non-finite number": ("example:reading", 1e400, "NaN or Infinity"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
async def test_an_invalid_document_is_refused_whole(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, case: str
) -> None:
    field, value, reason = INVALID[case]
    document = _base()
    document["epcisBody"]["eventList"][1][field] = value
    before = await counts(services)
    r = await client.post(
        "/v1/epcis/capture",
        content=json.dumps(document).replace("Infinity", "1e400"),
        headers={**tenant.headers, **LD},
    )
    assert_problem(r, 422)
    problem = r.json()
    named = [e for e in problem["errors"] if e["field"].startswith(f"eventList[1].{field}")]
    assert named and reason in named[0]["reason"], problem
    assert all(e["field"].startswith("eventList[1].") for e in problem["errors"]), problem
    assert await counts(services) == before
    job = await client.get(f"/v1/epcis/capture/{problem['captureID']}", headers=tenant.headers)
    assert job.json()["success"] is False and job.json()["eventCount"] == 0
    assert {
        "eventIndex": 1,
        "field": named[0]["field"].removeprefix("eventList[1]."),
        "reason": named[0]["reason"],
    } in job.json()["errors"]


MISSING = {
    "ObjectEvent": ("object_event", 0, "action"),
    "AggregationEvent": ("aggregation_event", 0, "parentID"),
    "TransactionEvent": ("transaction_event", 0, "bizTransactionList"),
    "AssociationEvent": ("association_event", 0, "parentID"),
    "any event": ("association_event", 0, "eventTimeZoneOffset"),
    "error declaration": ("error_declaration", 0, "errorDeclaration.declarationTime"),
}


@pytest.mark.parametrize("case", sorted(MISSING))
async def test_a_missing_required_member_is_named(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, case: str
) -> None:
    name, index, field = MISSING[case]
    document = load(name)
    event = document["epcisBody"]["eventList"][index]
    *parents, last = field.split(".")
    for parent in parents:
        event = event[parent]
    del event[last]
    r = await capture(client, tenant, document)
    assert_problem(r, 422)
    assert {"field": f"eventList[{index}].{field}", "reason": "is required"} in r.json()["errors"]
    assert (await counts(services))["epcis_event"] == 0


async def test_a_sensor_only_object_event_needs_no_epc_list_but_one_without_anything_is_refused(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    document = load("object_event")
    sensor_only = document["epcisBody"]["eventList"][1]
    assert "epcList" not in sensor_only
    r = await capture(client, tenant, sensor_only)
    assert_problem(r, 422)  # a bare event has no @context: its "example:" members have no namespace
    assert "sensorElementList[0].sensorMetadata.example:firmware" in [e["field"] for e in r.json()["errors"]]
    sensor_only["@context"] = document["@context"]
    assert (await capture(client, tenant, sensor_only)).status_code == 202
    del sensor_only["sensorElementList"]
    r = await capture(client, tenant, sensor_only)
    assert_problem(r, 422)
    assert r.json()["errors"][0]["field"] == "event"  # a single event: fields are its own
    assert "epcList, quantityList or sensorElementList" in r.json()["errors"][0]["reason"]


async def test_ilmd_only_with_add_and_a_document_must_be_epcis_2(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    document = load("object_event")
    document["epcisBody"]["eventList"][0]["action"] = "OBSERVE"
    r = await capture(client, tenant, document)
    assert {"field": "eventList[0].action", "reason": "ilmd is only allowed with action ADD"} in r.json()[
        "errors"
    ]
    document = load("object_event")
    document["schemaVersion"] = "1.2"
    r = await capture(client, tenant, document)
    assert_problem(r, 422)
    assert r.json()["errors"][0]["field"] == "schemaVersion"


async def test_recapture_is_a_conflict_and_an_error_declaration_is_accepted_once(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    assert (await capture(client, tenant, load("object_event"))).status_code == 202
    before = await counts(services)
    r = await capture(client, tenant, load("object_event"))
    assert_problem(r, 409)
    assert [e["field"] for e in r.json()["errors"]] == ["eventList[0].eventID", "eventList[1].eventID"]
    assert await counts(services) == before
    declared = load("error_declaration")
    assert (await capture(client, tenant, declared)).status_code == 202
    again = await capture(client, tenant, declared)
    assert_problem(again, 409)
    assert "error declaration is already captured" in again.json()["errors"][0]["reason"]
    # Another tenant holds its own events: the same document is new there.
    assert (await capture(client, other_tenant, load("object_event"))).status_code == 202


async def test_two_captures_of_the_same_new_events_at_once_are_one_capture_and_one_conflict(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    document = load("object_event")
    first, second = await asyncio.gather(*(capture(client, tenant, document) for _ in range(2)))
    assert sorted([first.status_code, second.status_code]) == [202, 409], (first.text, second.text)
    assert (await counts(services))["epcis_event"] == len(document["epcisBody"]["eventList"])


async def test_an_event_twice_in_one_document_is_a_conflict(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    document = load("association_event")
    events = document["epcisBody"]["eventList"]
    events.append(copy.deepcopy(events[0]))  # no eventID: the same hash ID twice
    r = await capture(client, tenant, document)
    assert_problem(r, 409)
    assert r.json()["errors"] == [
        {"field": "eventList[1].eventID", "reason": "repeats event 0 of this document"}
    ]
    assert (await counts(services))["epcis_event"] == 0


async def test_urn_and_digital_link_of_the_same_epc_are_the_same_key(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    urn = load("association_event")["epcisBody"]["eventList"][0]
    link = copy.deepcopy(urn)
    urn["childEPCs"] = ["urn:epc:id:sgtin:4012345.067890.1001"]
    link["childEPCs"] = ["https://id.gs1.org/01/04012345678901/21/1001"]
    link["eventTime"] = "2026-03-07T09:00:00Z"
    for event in (urn, link):
        assert (await capture(client, tenant, event)).status_code == 202
    async with services.engine.connect() as conn:
        stmt = select(epcis_event_key.c.seq, epcis_event_key.c.value).where(epcis_event_key.c.role == "child")
        keys = (await conn.execute(stmt)).all()
    assert len({seq for seq, _ in keys}) == 2
    assert {value for _, value in keys} == {"https://id.gs1.org/01/04012345678901/21/1001"}


async def test_events_are_linked_to_the_lots_they_name(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)  # product GTIN 04012345678901, lot L2026-11
    order = {"number": "PO-7781", "kind": "purchase", "organization_id": w["carrier"]["id"], "lines": []}
    w["order"] = await post(client, tenant.headers, "orders", order)
    r = await capture(client, tenant, load("object_event"))
    assert r.status_code == 202
    async with services.engine.connect() as conn:
        stmt = select(epcis_event_ref.c.kind, epcis_event_ref.c.ref_id).order_by(epcis_event_ref.c.kind)
        refs = (await conn.execute(stmt)).all()
    # The LGTIN of its quantityList and the purchase order of its bizTransactionList.
    assert [(kind, str(ref)) for kind, ref in refs] == [("lot", w["lot"]["id"]), ("order", w["order"]["id"])]


async def test_a_partner_captures_as_its_organisation_and_sees_only_its_jobs(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    body = {"name": "carrier ops", "role": "partner_operator", "organization_id": w["carrier"]["id"]}
    key = (await client.post("/v1/api-keys", json=body, headers=tenant.headers)).json()
    partner = TenantCtx(tenant.id, tenant.slug, key["token"], tenant.scope)
    ours = (await capture(client, tenant, load("association_event"))).json()
    theirs = await capture(client, partner, load("transaction_event"))
    assert theirs.status_code == 202, theirs.text
    async with services.engine.connect() as conn:
        stmt = select(epcis_event.c.event_id, epcis_event.c.organization_id).order_by(epcis_event.c.seq)
        rows = (await conn.execute(stmt)).all()
    assert [str(org) if org else None for _, org in rows] == [None, w["carrier"]["id"]]
    listed = (await client.get("/v1/epcis/capture", headers=partner.headers)).json()["items"]
    assert [j["captureID"] for j in listed] == [theirs.json()["captureID"]]
    url = f"/v1/epcis/capture/{ours['captureID']}"
    assert_problem(await client.get(url, headers=partner.headers), 404)
    assert len((await client.get("/v1/epcis/capture", headers=tenant.headers)).json()["items"]) == 2
    # Another key of the same organisation sees the organisation's captures, not only its own.
    body = {"name": "carrier night shift", "role": "partner_viewer", "organization_id": w["carrier"]["id"]}
    second = (await client.post("/v1/api-keys", json=body, headers=tenant.headers)).json()
    listed = (
        await client.get("/v1/epcis/capture", headers={"Authorization": f"Bearer {second['token']}"})
    ).json()
    assert [j["captureID"] for j in listed["items"]] == [theirs.json()["captureID"]]


async def test_capture_jobs_are_listed_newest_first_and_kept_per_tenant(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    ids = []
    for name in ALL_TYPES[:3]:
        ids.append((await capture(client, tenant, load(name))).json()["captureID"])
    r = await client.get("/v1/epcis/capture", params={"limit": 2}, headers=tenant.headers)
    page = r.json()
    assert [j["captureID"] for j in page["items"]] == ids[::-1][:2]
    r = await client.get(
        "/v1/epcis/capture", params={"limit": 2, "cursor": page["next_cursor"]}, headers=tenant.headers
    )
    assert [j["captureID"] for j in r.json()["items"]] == ids[:1]
    assert (await client.get("/v1/epcis/capture", headers=other_tenant.headers)).json()["items"] == []
    assert_problem(await client.get(f"/v1/epcis/capture/{ids[0]}", headers=other_tenant.headers), 404)
    async with services.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(epcis_capture))).scalar_one() == 3


async def test_too_many_events_are_refused_before_any_is_read(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("supplyline.epcis.validation.MAX_EVENTS", 2)
    document = load("aggregation_event")
    document["epcisBody"]["eventList"].append(load("association_event")["epcisBody"]["eventList"][0])
    r = await capture(client, tenant, document)
    assert_problem(r, 422)
    assert r.json()["errors"][0]["field"] == "epcisBody.eventList"
    assert "at most 2" in r.json()["errors"][0]["reason"]
    assert (await counts(services))["epcis_event"] == 0


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    headers = {**tenant.headers, **LD, "Idempotency-Key": "capture-1"}
    body = json.dumps(load("transaction_event"))
    first = await client.post("/v1/epcis/capture", content=body, headers=headers)
    again = await client.post("/v1/epcis/capture", content=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await counts(services))["epcis_event"] == 1


async def test_a_body_that_is_no_epcis_json_is_refused(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    for content, kind in (
        ("[1, 2]", "application/json"),
        ('{"type": "EPCISDocument"}', "application/ld+json"),
    ):
        r = await client.post(
            "/v1/epcis/capture", content=content, headers={**tenant.headers, "Content-Type": kind}
        )
        assert_problem(r, 422)
    r = await client.post("/v1/epcis/capture", json={"hello": "world"}, headers=tenant.headers)
    assert_problem(r, 422)
    assert r.json()["errors"][0] == {"field": "type", "reason": "is required"}
