"""The EPCIS 2.0 query interface, GET /v1/epcis/events: a fixed set of events of every type,
each standard parameter filtering exactly, URN / Digital Link equivalence, time offsets,
paging by token while capture goes on, 400s naming the parameter, tenants and partners."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from supplyline.bootstrap import Services
from supplyline.db.schema import metadata
from supplyline.epcis import index_event, insert_events
from supplyline.epcis.queries import _filtered, _keyset
from supplyline.epcis.query import parse_query
from supplyline.epcis.tables import epcis_event
from supplyline.kernel.scope import Scope
from supplyline.resources import scoped
from tests.conftest import TenantCtx
from tests.factories import post

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"ex": "https://example.com/ns/"},
]
URL = "/v1/epcis/events"
A1, A1_DL = "urn:epc:id:sgtin:4012345.011111.1", "https://id.gs1.org/01/04012345111118/21/1"
A2_DL = "https://id.gs1.org/01/04012345111118/21/2"
A3, A4 = "urn:epc:id:sgtin:4012345.011111.3", "urn:epc:id:sgtin:4012345.022222.4"
GLN, GLN_DL = "urn:epc:id:sgln:4012345.00001.0", "https://id.gs1.org/414/4012345000016"
DOCK = "urn:epc:id:sgln:4012345.00001.7"  # a sub-location of GLN
SSCC = "urn:epc:id:sscc:4012345.0000000001"
LOT_A, LOT_B = "urn:epc:class:lgtin:4012345.011111.LOT-A", "urn:epc:class:lgtin:4012345.011111.LOT-B"
LOT_C = "https://id.gs1.org/01/04012345222227/10/LOT-C"
PGLN = "urn:epc:id:pgln:4012345.00001"
ALL = {"E1", "E2", "E3", "E4", "E5", "E6"}


def fixed_events(dc: str, zone: str) -> list[dict[str, Any]]:
    """One event of each type (two ObjectEvents), every queried field in more than one form."""
    return [
        {
            "type": "ObjectEvent",
            "ex:name": "E1",
            "eventTime": "2026-03-01T08:00:00+01:00",
            "eventTimeZoneOffset": "+01:00",
            "action": "ADD",
            "epcList": [A1],
            "quantityList": [{"epcClass": LOT_A, "quantity": 5, "uom": "KGM"}],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": GLN},
            "bizLocation": {"id": GLN},
            "bizTransactionList": [
                {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000016:PO-1"}
            ],
        },
        {
            "type": "ObjectEvent",
            "ex:name": "E2",
            "eventTime": "2026-03-02T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "epcList": [A2_DL],
            "bizStep": "cbv:BizStep-shipping",
            "disposition": "in_transit",
            "readPoint": {"id": DOCK},
            "sourceList": [{"type": "owning_party", "source": PGLN}],
            "destinationList": [{"type": "location", "destination": GLN}],
        },
        {
            "type": "AggregationEvent",
            "ex:name": "E3",
            "eventTime": "2026-03-03T00:00:00-05:00",
            "eventTimeZoneOffset": "-05:00",
            "action": "ADD",
            "parentID": SSCC,
            "childEPCs": [A1_DL],
            "childQuantityList": [{"epcClass": LOT_B, "quantity": 2}],
            "bizStep": "packing",
            "bizLocation": {"id": f"urn:uuid:{dc}"},
        },
        {
            "type": "TransactionEvent",
            "ex:name": "E4",
            "eventTime": "2026-03-04T12:00:00+02:00",
            "eventTimeZoneOffset": "+02:00",
            "action": "DELETE",
            "parentID": "https://id.gs1.org/00/040123450000000016",
            "epcList": [A3],
            "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
            "bizTransactionList": [
                {"type": "inv", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000016:INV-9"}
            ],
        },
        {
            "type": "TransformationEvent",
            "ex:name": "E5",
            "eventTime": "2026-03-05T09:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "inputEPCList": [A1],
            "inputQuantityList": [{"epcClass": LOT_A, "quantity": 40, "uom": "KGM"}],
            "outputEPCList": [A4],
            "outputQuantityList": [{"epcClass": LOT_C, "quantity": 80}],
            "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
        },
        {
            "type": "AssociationEvent",
            "ex:name": "E6",
            "eventID": "urn:uuid:6a1b9c3e-0f3a-4c7e-9d11-0e6d2b1a7f00",
            "eventTime": "2026-03-06T09:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "ADD",
            "parentID": "urn:epc:id:grai:4012345.00002.9",
            "childEPCs": ["urn:epc:id:sgtin:4012345.011111.2"],
            "readPoint": {"id": f"urn:uuid:{zone}"},
        },
    ]


async def store(
    services: Services,
    tenant_id: uuid.UUID,
    events: list[dict[str, Any]],
    refs: list[set[tuple[str, uuid.UUID]]] | None = None,
    organization_id: uuid.UUID | None = None,
) -> list[int]:
    records = [index_event(e, CONTEXT) for e in events]
    for record, found in zip(records, refs or [set()] * len(records), strict=True):
        record.refs = found
    async with services.uow() as uow:
        seqs = await insert_events(
            uow, tenant_id, records, source="capture", actor="test", organization_id=organization_id
        )
        await uow.commit()
    return seqs


@pytest.fixture
async def places(client: httpx.AsyncClient, tenant: TenantCtx, services: Services) -> dict[str, str]:
    h = tenant.headers
    region = await post(client, h, "regions", {"code": "EU", "name": "Europe"})
    dc = await post(
        client, h, "sites", {"code": "DC", "name": "DC", "kind": "warehouse", "region_id": region["id"]}
    )
    plant = {"code": "PL", "name": "Plant", "kind": "plant", "attributes": {"gln": "4012345000016"}}
    pl = await post(client, h, "sites", plant)
    zone = await post(
        client, h, "zones", {"site_id": dc["id"], "code": "Z1", "name": "Chilled", "kind": "chilled"}
    )
    await store(services, tenant.id, fixed_events(dc["id"], zone["id"]))
    return {"region": region["id"], "dc": dc["id"], "plant": pl["id"], "zone": zone["id"]}


async def names(client: httpx.AsyncClient, tenant: TenantCtx, params: Any = None, **kw: Any) -> set[str]:
    r = await client.get(URL, params=params or kw, headers=tenant.headers)
    assert r.status_code == 200, r.text
    events = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    found = [e["ex:name"] for e in events]
    assert len(found) == len(set(found)), found
    return set(found)


async def test_the_answer_is_an_epcis_query_document(
    client: httpx.AsyncClient, tenant: TenantCtx, places: dict[str, str]
) -> None:
    r = await client.get(URL, headers=tenant.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["type"] == "EPCISQueryDocument" and doc["schemaVersion"] == "2.0"
    assert doc["@context"] == CONTEXT  # the standard context and the events' own namespace
    results = doc["epcisBody"]["queryResults"]
    assert results["queryName"] == "SimpleEventQuery"
    events = results["resultsBody"]["eventList"]
    assert [e["ex:name"] for e in events] == ["E1", "E2", "E3", "E4", "E5", "E6"]  # record order
    assert events[0]["epcList"] == [A1]  # as captured, not as indexed
    assert events[5]["eventID"] == "urn:uuid:6a1b9c3e-0f3a-4c7e-9d11-0e6d2b1a7f00"
    assert events[0]["eventID"].startswith("ni:///sha-256;") and events[0]["recordTime"].endswith("Z")
    ld = await client.get(URL, headers={**tenant.headers, "Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json")


CASES: list[tuple[dict[str, str], set[str]]] = [
    ({"eventType": "ObjectEvent"}, {"E1", "E2"}),
    ({"eventType": "AggregationEvent|TransformationEvent"}, {"E3", "E5"}),
    ({"eventType": "AssociationEvent"}, {"E6"}),
    ({"eventType": "TransactionEvent"}, {"E4"}),
    ({"EQ_action": "ADD"}, {"E1", "E3", "E6"}),
    ({"EQ_action": "OBSERVE|DELETE"}, {"E2", "E4"}),
    ({"EQ_bizStep": "commissioning"}, {"E1", "E5"}),
    ({"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping"}, {"E2"}),
    ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-receiving"}, {"E4"}),
    ({"EQ_bizStep": "cbv:BizStep-packing|receiving"}, {"E3", "E4"}),
    ({"EQ_disposition": "in_transit"}, {"E2"}),
    ({"EQ_disposition": "urn:epcglobal:cbv:disp:active"}, {"E1"}),
    ({"EQ_readPoint": GLN_DL}, {"E1"}),
    ({"EQ_readPoint": "https://id.gs1.org/414/4012345000016/254/7"}, {"E2"}),
    ({"EQ_bizLocation": GLN}, {"E1"}),
    ({"WD_readPoint": GLN}, {"E1", "E2"}),  # the GLN and its sub-location
    ({"MATCH_epc": A1_DL}, {"E1", "E3"}),  # epcList and childEPCs
    ({"MATCH_epc": "urn:epc:id:sgtin:4012345.011111.2"}, {"E2", "E6"}),
    ({"MATCH_epc": "urn:epc:idpat:sgtin:4012345.011111.*"}, {"E1", "E2", "E3", "E4", "E6"}),
    ({"MATCH_anyEPC": A1}, {"E1", "E3", "E5"}),
    ({"MATCH_anyEPC": "https://id.gs1.org/00/040123450000000016"}, {"E3", "E4"}),
    ({"MATCH_parentID": SSCC}, {"E3", "E4"}),
    ({"MATCH_parentID": "urn:epc:id:grai:4012345.00002.9"}, {"E6"}),
    ({"MATCH_inputEPC": A1_DL}, {"E5"}),
    ({"MATCH_outputEPC": "https://id.gs1.org/01/04012345222227/21/4"}, {"E5"}),
    ({"MATCH_outputEPC": A1}, set()),
    ({"MATCH_epcClass": "https://id.gs1.org/01/04012345111118/10/LOT-A"}, {"E1"}),
    ({"MATCH_epcClass": LOT_B}, {"E3"}),
    ({"MATCH_inputEPCClass": LOT_A}, {"E5"}),
    ({"MATCH_outputEPCClass": "urn:epc:class:lgtin:4012345.022222.LOT-C"}, {"E5"}),
    ({"MATCH_anyEPCClass": LOT_A}, {"E1", "E5"}),
    ({"EQ_bizTransaction_po": "urn:epcglobal:cbv:bt:4012345000016:PO-1"}, {"E1"}),
    ({"EQ_bizTransaction_inv": "urn:epcglobal:cbv:bt:4012345000016:PO-1"}, set()),
    ({"EQ_bizTransaction_inv": "urn:epcglobal:cbv:bt:4012345000016:INV-9"}, {"E4"}),
    ({"EQ_source_owning_party": "https://id.gs1.org/417/4012345000016"}, {"E2"}),
    ({"EQ_source_possessing_party": PGLN}, set()),
    ({"EQ_destination_location": GLN_DL}, {"E2"}),
    ({"EQ_eventID": "urn:uuid:6a1b9c3e-0f3a-4c7e-9d11-0e6d2b1a7f00"}, {"E6"}),
    ({"GE_eventTime": "2026-03-02T11:00:00+01:00"}, {"E2", "E3", "E4", "E5", "E6"}),
    ({"LT_eventTime": "2026-03-02T11:00:00+01:00"}, {"E1"}),
    ({"GE_eventTime": "2026-03-03T05:00:00Z", "LT_eventTime": "2026-03-04T10:00:00Z"}, {"E3"}),
    ({"GE_eventTime": "2026-03-04T10:00:00.000+00:00", "LT_eventTime": "2026-03-04T10:00:01Z"}, {"E4"}),
    ({"GE_recordTime": "2020-01-01T00:00:00Z"}, ALL),
    ({"LT_recordTime": "2020-01-01T00:00:00Z"}, set()),
    ({"EQ_action": "ADD", "MATCH_anyEPC": A1, "eventType": "AggregationEvent"}, {"E3"}),
]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[str(c[0]) for c in CASES])
async def test_each_parameter_filters_exactly(
    client: httpx.AsyncClient,
    tenant: TenantCtx,
    places: dict[str, str],
    params: dict[str, str],
    expected: set[str],
) -> None:
    assert await names(client, tenant, params) == expected


async def test_within_a_place_of_the_registry(
    client: httpx.AsyncClient, tenant: TenantCtx, places: dict[str, str]
) -> None:
    region, dc, zone, plant = (f"urn:uuid:{places[k]}" for k in ("region", "dc", "zone", "plant"))
    assert await names(client, tenant, WD_bizLocation=region) == {"E3"}  # the region's DC
    assert await names(client, tenant, WD_readPoint=dc) == {"E6"}  # the DC's zone
    assert await names(client, tenant, EQ_readPoint=dc) == set()
    assert await names(client, tenant, WD_readPoint=zone) == {"E6"}
    assert await names(client, tenant, WD_readPoint=plant) == {"E1", "E2"}  # the plant's GLN
    assert await names(client, tenant, WD_bizLocation=GLN_DL) == {"E1"}


async def test_repeated_parameters_add_values_and_plus_signs_survive(
    client: httpx.AsyncClient, tenant: TenantCtx, places: dict[str, str]
) -> None:
    both = [("EQ_bizStep", "packing"), ("EQ_bizStep", "shipping")]
    assert await names(client, tenant, both) == {"E2", "E3"}
    # An unencoded '+' arrives as a space: it is still the offset.
    r = await client.get(f"{URL}?LT_eventTime=2026-03-02T11:00:00+01:00", headers=tenant.headers)
    assert [e["ex:name"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == ["E1"]


async def test_order_and_count_limit(
    client: httpx.AsyncClient, tenant: TenantCtx, places: dict[str, str]
) -> None:
    async def ordered(**params: str) -> list[str]:
        r = await client.get(URL, params=params, headers=tenant.headers)
        return [e["ex:name"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]

    assert await ordered(orderBy="eventTime") == ["E6", "E5", "E4", "E3", "E2", "E1"]
    assert await ordered(orderBy="eventTime", orderDirection="ASC", eventCountLimit="3") == ["E1", "E2", "E3"]


def _token(raw: str) -> str:
    """A token as a client could forge one."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


BAD = [
    ({"MATCH_everything": "x"}, "MATCH_everything"),
    ({"eventType": "SensorEvent"}, "eventType"),
    ({"GE_eventTime": "2026-03-01T08:00:00"}, "GE_eventTime"),  # no offset
    ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
    ({"EQ_action": "UPDATE"}, "EQ_action"),
    ({"perPage": "0"}, "perPage"),
    ({"perPage": "1001"}, "perPage"),
    ({"nextPageToken": "not-a-token"}, "nextPageToken"),
    ({"nextPageToken": _token('{"a":[18446744073709551615,0,""],"k":"epcis-events"}')}, "nextPageToken"),
    ({"nextPageToken": _token('{"a":[3,0,"MATCH_nothing=1"],"k":"epcis-events"}')}, "MATCH_nothing"),
    ({"perPage": "\u00b2"}, "perPage"),  # a digit to str.isdigit, not to int()
    ({"EQ_quantity": "3"}, "EQ_quantity"),
    ({"MATCH_epc": "urn:epc:idpat:sgtin:4012345.*.*"}, "MATCH_epc"),
    ({"EQ_bizStep": ""}, "EQ_bizStep"),
    ({"EQ_eventID": "a\x07b"}, "EQ_eventID"),  # NUL is refused before (422)
    ({"orderBy": "quantity"}, "orderBy"),
]


@pytest.mark.parametrize(("params", "name"), BAD, ids=[b[1] for b in BAD])
async def test_a_bad_parameter_is_a_400_naming_it(
    client: httpx.AsyncClient, tenant: TenantCtx, params: dict[str, str], name: str
) -> None:
    r = await client.get(URL, params=params, headers=tenant.headers)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    body = r.json()
    assert body["type"] == "epcisException:QueryParameterException"
    assert [e["field"] for e in body["errors"]] == [name] and name in body["detail"]


async def test_paging_gives_each_event_once_while_capture_goes_on(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, places: dict[str, str]
) -> None:
    seen: list[str] = []
    r = await client.get(URL, params={"perPage": 2}, headers=tenant.headers)
    added = 0
    while True:
        assert r.status_code == 200, r.text
        seen += [e["ex:name"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        if added < 3:  # capture goes on between pages
            added += 1
            await store(
                services,
                tenant.id,
                [{**fixed_events(places["dc"], places["zone"])[1], "ex:name": f"N{added}"}],
            )
        link = r.headers.get("link")
        if link is None:
            break
        assert link.startswith("<http") and link.endswith('>; rel="next"')
        r = await client.get(link[1 : link.index(">")], headers=tenant.headers)
    assert sorted(seen) == sorted([*ALL, "N1", "N2", "N3"])  # each once, the new ones too

    # The token carries the query: sent alone, or with the same query, it goes on with it.
    first = await client.get(URL, params={"perPage": 1, "EQ_action": "ADD"}, headers=tenant.headers)
    link = first.headers["link"]
    token = httpx.URL(link[1 : link.index(">")]).params["nextPageToken"]
    alone = await client.get(URL, params={"nextPageToken": token}, headers=tenant.headers)
    assert alone.status_code == 200, alone.text
    events = alone.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["ex:name"] for e in events] == ["E3", "E6"]  # perPage is the page's own
    other = await client.get(
        URL, params={"nextPageToken": token, "EQ_action": "OBSERVE"}, headers=tenant.headers
    )
    assert other.status_code == 400 and other.json()["errors"][0]["field"] == "nextPageToken"


async def test_another_tenants_events_are_never_returned(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx, places: dict[str, str]
) -> None:
    assert await names(client, tenant) == ALL
    for params in ({}, {"MATCH_epc": A1}, {"EQ_eventID": "urn:uuid:6a1b9c3e-0f3a-4c7e-9d11-0e6d2b1a7f00"}):
        r = await client.get(URL, params=params, headers=other_tenant.headers)
        assert (
            r.status_code == 200 and r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
        )


async def test_a_partner_sees_only_the_events_it_reaches(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    h = tenant.headers
    carrier = await post(client, h, "organizations", {"code": "CAR", "name": "Carrier", "kind": "carrier"})
    other = await post(client, h, "organizations", {"code": "CAR2", "name": "Other", "kind": "carrier"})
    sites = [
        await post(client, h, "sites", {"code": c, "name": c, "kind": "warehouse"}) for c in ("A", "B", "C")
    ]
    product = await post(client, h, "products", {"sku": "P", "name": "P", "unit": "each"})
    lots = [
        await post(
            client, h, "lots", {"product_id": product["id"], "lot_code": c, "quantity": 5, "unit": "each"}
        )
        for c in ("L1", "L2")
    ]
    shipment = {
        "number": "SH-1",
        "origin_site_id": sites[0]["id"],
        "destination_site_id": sites[1]["id"],
        "carrier_organization_id": carrier["id"],
        "lots": [{"lot_id": lots[0]["id"], "quantity": 5, "unit": "each"}],
    }
    sh = await post(client, h, "shipments", shipment)
    u = uuid.UUID
    base = fixed_events(sites[0]["id"], sites[0]["id"])[1]
    refs: dict[str, set[tuple[str, uuid.UUID]]] = {
        "shipment": {("shipment", u(sh["id"]))},
        "lot": {("lot", u(lots[0]["id"]))},
        "origin": {("site", u(sites[0]["id"]))},
        "other-lot": {("lot", u(lots[1]["id"]))},
        "other-site": {("site", u(sites[2]["id"]))},
        "none": set(),
    }
    await store(services, tenant.id, [{**base, "ex:name": n} for n in refs], list(refs.values()))
    await store(services, tenant.id, [{**base, "ex:name": "its-own"}], organization_id=u(carrier["id"]))
    await store(services, tenant.id, [{**base, "ex:name": "others-own"}], organization_id=u(other["id"]))
    key = await post(
        client, h, "api-keys", {"name": "car", "role": "partner_viewer", "organization_id": carrier["id"]}
    )
    partner = TenantCtx(tenant.id, tenant.slug, key["token"], tenant.scope)
    assert await names(client, partner) == {"shipment", "lot", "origin", "its-own"}
    assert await names(client, partner, perPage="1", MATCH_epc=A2_DL) == {"shipment"}
    assert len(await names(client, tenant)) == 8


PLANS = [
    ([("MATCH_epc", A1)], "ix_epcis_event_key_lookup (tenant_id=? AND role=? AND value=?)"),
    (
        [("GE_eventTime", "2026-03-01T00:00:00Z"), ("LT_eventTime", "2026-03-02T00:00:00Z")],
        "ix_epcis_event_tenant_event_time",
    ),
    ([("LT_recordTime", "2026-03-01T00:00:00Z")], "ix_epcis_event_tenant_record_time"),
]


@pytest.mark.parametrize(("params", "index"), PLANS, ids=["MATCH_epc", "eventTime", "recordTime"])
async def test_sqlite_answers_by_index(params: list[tuple[str, str]], index: str) -> None:
    """The plan SQLite makes for the query's own SQL (on the schema alone: the plan is the point)."""
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    q, e, scope = parse_query(params), epcis_event, Scope.system(uuid.uuid4())
    try:
        async with engine.connect() as conn:
            await conn.run_sync(metadata.create_all)
            stmt = await _filtered(
                conn, scoped(select(e.c.seq, e.c.document), e, scope), scope.require_tenant(), q
            )
            stmt = _keyset(q).ordered(stmt).limit(31)
            sql = stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            plan = " | ".join(r[-1] for r in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    finally:
        await engine.dispose()
    assert index in plan and "SCAN epcis_event" not in plan, plan
