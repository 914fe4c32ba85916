"""EPCIS events are in the ledger by their GS1 Event Hash ID: a partner holding the event
proves it is in the signed log with the hash both systems compute, and offline checks hold."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from supplyline import trace
from supplyline.bootstrap import Services, build_services
from supplyline.epcis import index_event, insert_events
from supplyline.kernel.clock import utcnow
from supplyline.settings import Settings
from supplyline.trace import merkle
from supplyline.trace.tables import trace_checkpoint, trace_leaf
from tests.api.samples import assert_problem
from tests.conftest import Backend, TenantCtx
from tests.trace.conftest import SECRET

EVENTS: list[dict[str, Any]] = [
    {
        "type": "ObjectEvent",
        "eventTime": f"2026-03-0{i}T08:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": [f"urn:epc:id:sgtin:4012345.011111.{i}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
    }
    for i in range(1, 6)
]


@pytest.fixture
async def services(backend: Backend, tmp_path: Path) -> AsyncIterator[Services]:
    """Services with the recorder as the composition root builds it (EPCIS events included)."""
    cfg = Settings(
        database_url=backend.url, data_dir=tmp_path / "data", admin_token="platform-secret", secret_key=SECRET
    )
    engine = backend.engine()
    read_engine = backend.engine(readonly=True) if backend.name == "sqlite" else engine
    svc = build_services(cfg, engine=engine, read_engine=read_engine)
    yield svc
    await svc.close()


async def capture(svc: Services, tenant: TenantCtx) -> list[str]:
    """Store the events as the repository does, let the recorder run; their hash IDs."""
    records = [index_event(e) for e in EVENTS]
    async with svc.uow() as uow:
        await insert_events(uow, tenant.id, records, source="capture", actor="test")
        await uow.commit()
    await svc.consumers.catch_up(trace.CONSUMER_NAME)
    return [r.hash_id for r in records]


async def epcis_leaves(svc: Services, tenant_id: uuid.UUID) -> dict[str, int]:
    t = trace_checkpoint
    async with svc.read_engine.connect() as conn:
        rows = await conn.execute(
            select(t.c.leaf, t.c.seq).where(t.c.tenant_id == tenant_id, t.c.leaf.is_not(None))
        )
        return {str(leaf): int(seq) for leaf, seq in rows}


async def test_an_epcis_event_is_provably_in_the_signed_log_by_its_hash_id(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    hash_ids = await capture(services, tenant)
    assert all(h.startswith("ni:///sha-256;") and h.endswith("?ver=CBV2.0") for h in hash_ids)
    assert set(await epcis_leaves(services, tenant.id)) == set(hash_ids)
    h = tenant.headers
    vkey = trace.Verifier.parse((await client.get("/v1/ledger/public-key", headers=h)).json()["verifier_key"])
    head = trace.TreeHead.open(
        (await client.get("/v1/ledger/tree-head", headers=h)).json()["checkpoint"], vkey
    )
    # The published checkpoints name their leaves: the signed root follows from them.
    listed = (await client.get("/v1/ledger/checkpoints", headers=h)).json()["items"]
    assert [c["leaf"] for c in listed] == hash_ids
    assert head.root == merkle.root_hash([c["leaf"].encode() for c in listed])
    for hash_id in hash_ids:
        r = await client.get("/v1/ledger/proofs/inclusion", params={"hash_id": hash_id}, headers=h)
        assert r.status_code == 200, r.text
        p = r.json()
        proof = [bytes.fromhex(x) for x in p["proof"]]
        # The partner needs the hash ID alone: the leaf is its UTF-8 bytes.
        leaf = merkle.leaf_hash(hash_id.encode())
        assert p["leaf_hash"] == leaf.hex()
        assert merkle.verify_inclusion(leaf, p["leaf_index"], head.size, proof, head.root), hash_id
        by_seq = await client.get("/v1/ledger/proofs/inclusion", params={"seq": p["seq"]}, headers=h)
        assert by_seq.json() == p
    other = hash_ids[0][:-20] + "0" * 9 + "?ver=CBV2.0"
    assert_problem(
        await client.get("/v1/ledger/proofs/inclusion", params={"hash_id": other}, headers=h), 422, "hash_id"
    )
    both = {"hash_id": hash_ids[0], "seq": 1}
    assert_problem(await client.get("/v1/ledger/proofs/inclusion", params=both, headers=h), 422, "seq")
    # Retention keeps the leaf data: the proof by hash ID outlives the checkpoint.
    async with services.engine.begin() as conn:
        await trace.purge_checkpoints(conn, tenant.id, utcnow() + timedelta(days=1), services.ledger_key)
        kept = (await conn.execute(select(trace_leaf.c.leaf).where(trace_leaf.c.leaf.is_not(None)))).scalars()
        assert set(kept) == set(hash_ids)
    r = await client.get("/v1/ledger/proofs/inclusion", params={"hash_id": hash_ids[2]}, headers=h)
    assert r.status_code == 200 and r.json()["root_hash"] == head.root.hex()


async def test_a_trace_names_each_events_leaf_and_checkpoints_filter_by_subject(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    """What a lineage names (custody and edge events) carries the Event Hash ID, the leaf a
    page asks the proof of; a lot's own checkpoints (holds, audit) are found by its subject."""
    hash_ids = await capture(services, tenant)
    h = tenant.headers
    serial = EVENTS[0]["epcList"][0]
    r = await client.get(f"/v1/traceability/lots/{serial}", params={"direction": "forward"}, headers=h)
    assert r.status_code == 200, r.text
    (node,) = r.json()["nodes"]
    assert [e["hash_id"] for e in node["custody"]] == [hash_ids[0]]
    listed = (await client.get("/v1/ledger/checkpoints", headers=h)).json()["items"]
    subject = listed[0]["subject"]
    r = await client.get("/v1/ledger/checkpoints", params={"subject": subject}, headers=h)
    assert [c["seq"] for c in r.json()["items"]] == [c["seq"] for c in listed if c["subject"] == subject]
    r = await client.get("/v1/ledger/checkpoints", params={"subject": "lots/none"}, headers=h)
    assert r.json() == {"items": [], "next_cursor": None}


async def test_the_export_verifies_offline_and_catches_an_altered_leaf_or_hash_id(
    services: Services, tenant: TenantCtx
) -> None:
    hash_ids = await capture(services, tenant)
    vkey = trace.Verifier.parse(trace.public_key_text(services.ledger_key))
    async with services.read_engine.connect() as conn:
        doc = await trace.export_log(conn, tenant.id, services.ledger_key)
    doc = orjson.loads(orjson.dumps(doc))  # as the file a partner holds
    report = trace.verify_export(doc, vkey)
    assert report.ok and report.events_checked == 5, report
    assert {leaf["leaf"] for leaf in doc["leaves"] if leaf["leaf"]} == set(hash_ids)

    altered = copy.deepcopy(doc)
    altered["leaves"][1]["leaf"] = hash_ids[0]  # another event's hash ID in its place
    assert trace.verify_export(altered, vkey).problems == [
        "leaf 2: the leaf is not the Event Hash ID its event records"
    ]
    altered["leaves"][1]["event"] = None  # and its event dropped: the root no longer matches
    assert any("root" in p for p in trace.verify_export(altered, vkey).problems)

    altered = copy.deepcopy(doc)
    event = orjson.loads(altered["leaves"][1]["event"])
    event["data"]["hash_id"] = hash_ids[0]
    altered["leaves"][1]["event"] = orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode()
    assert any("altered" in p for p in trace.verify_export(altered, vkey).problems)


async def test_a_leaf_rewritten_in_the_database_is_reported(services: Services, tenant: TenantCtx) -> None:
    hash_ids = await capture(services, tenant)
    seq = (await epcis_leaves(services, tenant.id))[hash_ids[3]]
    coverage = await trace.recorder_coverage(services.consumers)
    async with services.read_engine.connect() as conn:
        assert (await trace.verify(conn, services.ledger_key, tenant.id, coverage=coverage)).ok
    t = trace_checkpoint
    async with services.engine.begin() as conn:
        where = (t.c.tenant_id == tenant.id) & (t.c.seq == seq)
        await conn.execute(update(t).where(where).values(leaf=hash_ids[0]))
    async with services.read_engine.connect() as conn:
        report = await trace.verify(conn, services.ledger_key, tenant.id, coverage=coverage)
        # A head signed over the rewritten leaf: the offline check ties the leaf to its event.
        doc = await trace.export_log(conn, tenant.id, services.ledger_key)
    assert [(p.seq, p.kind) for p in report.problems] == [(seq, "changed")], report.problems
    problems = trace.verify_export(doc, trace.Verifier.parse(doc["verifier_key"])).problems
    assert problems == [f"leaf {seq}: the leaf is not the Event Hash ID its event records"]
