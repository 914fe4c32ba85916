"""The checkpoint trail: chained and signed as documented, idempotent on replay, and every kind
of tampering named by verify."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.eventlog.log import to_stored
from supplyline.eventlog.tables import eventlog_event
from supplyline.trace import (
    CONSUMER_NAME,
    GENESIS,
    Coverage,
    VerifyReport,
    chain_hash,
    derive_key,
    event_hash,
    recorder_coverage,
    verify,
)
from supplyline.trace.canonical import sign
from tests.conftest import TenantCtx
from tests.trace.conftest import (
    KEY,
    SECRET,
    TYPES,
    checkpoints,
    delete_checkpoint,
    delete_event,
    record,
    set_checkpoint,
    set_event,
)


async def run_verify(svc: Services, tenant_id: uuid.UUID | None = None, **kw: Any) -> VerifyReport:
    async with svc.read_engine.connect() as conn:
        return await verify(conn, kw.pop("key", KEY), tenant_id, **kw)


def found(report: VerifyReport) -> list[tuple[int | None, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def auditor_canonical(row: Any) -> bytes:
    """The canonical event rebuilt from the documentation alone, with the standard library."""
    doc = {
        "actor": row["actor"],
        "correlation_id": row["correlation_id"],
        "data": row["data"],
        "id": str(row["id"]),
        "source": row["source"],
        "subject": row["subject"],
        "tenant_id": str(row["tenant_id"]),
        "time": row["time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "type": row["type"],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def test_checkpoints_are_chained_and_signed_as_documented(
    services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await record(services, tenant, 3)
    await record(services, other_tenant, 2)
    await record(services, tenant, 1, start=3)
    mine = await checkpoints(services, tenant.id)
    assert [c["seq"] for c in mine] == [1, 2, 3, 4]
    assert [c["seq"] for c in await checkpoints(services, other_tenant.id)] == [1, 2]
    # Log order, and only the chosen types (the region events were not recorded).
    assert [c["event_position"] for c in mine] == sorted(c["event_position"] for c in mine)
    assert {c["event_type"] for c in mine} == TYPES

    async with services.read_engine.connect() as conn:
        events = {
            r["id"]: r
            for r in (
                await conn.execute(select(eventlog_event).where(eventlog_event.c.tenant_id == tenant.id))
            )
            .mappings()
            .all()
        }
    prev = GENESIS
    for c in mine:
        event = events[c["event_id"]]
        assert (c["subject"], c["correlation_id"]) == (event["subject"], event["correlation_id"])
        assert c["event_hash"] == hashlib.sha256(auditor_canonical(event)).hexdigest()
        layout = bytes.fromhex(prev) + c["seq"].to_bytes(8, "big") + bytes.fromhex(c["event_hash"])
        assert c["prev_hash"] == prev
        assert c["hash"] == hashlib.sha256(layout).hexdigest() == chain_hash(prev, c["seq"], c["event_hash"])
        assert c["signature"] == hmac.new(KEY, bytes.fromhex(c["hash"]), "sha256").hexdigest()
        prev = c["hash"]
    assert hmac.digest(SECRET.encode(), b"supplyline.trace.checkpoint-key.v1", "sha256") == KEY


async def test_a_replay_records_nothing_twice(services: Services, tenant: TenantCtx) -> None:
    await record(services, tenant, 3)
    before = await checkpoints(services, tenant.id)
    # From the start: reset forgets nothing, and every event is found already recorded.
    await services.consumers.replay(CONSUMER_NAME, 1)
    assert await checkpoints(services, tenant.id) == before
    await services.consumers.replay(CONSUMER_NAME, before[1]["event_position"])
    assert await checkpoints(services, tenant.id) == before
    await record(services, tenant, 2, start=3)
    after = await checkpoints(services, tenant.id)
    assert after[:3] == before
    assert [c["seq"] for c in after] == [1, 2, 3, 4, 5]
    assert after[3]["prev_hash"] == before[2]["hash"]
    assert (await run_verify(services)).ok


async def test_verify_passes_on_an_untouched_ledger(
    services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await record(services, tenant, 5)
    await record(services, other_tenant, 2)
    report = await run_verify(services, coverage=await recorder_coverage(services.consumers))
    assert report.as_dict() == {"ok": True, "checked": 7, "tenants": 2, "problems": []}
    one = await run_verify(services, tenant.id)
    assert (one.ok, one.checked, one.tenants) == (True, 5, 1)


Tamper = Callable[[Services, uuid.UUID, list[dict[str, Any]]], Awaitable[None]]


async def edit_event_data(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    async with svc.read_engine.connect() as conn:
        stmt = select(eventlog_event.c.data).where(eventlog_event.c.id == cps[1]["event_id"])
        data = dict((await conn.execute(stmt)).scalar_one())
    await set_event(svc, cps[1]["event_id"], data={**data, "value": 4.0})


async def edit_checkpoint_hash(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await set_checkpoint(svc, tenant_id, 2, hash="f" * 64)


async def edit_checkpoint_subject(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await set_checkpoint(svc, tenant_id, 4, subject="device/someone-else")


async def delete_middle_checkpoint(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await delete_checkpoint(svc, tenant_id, 3)


async def delete_and_renumber(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await delete_checkpoint(svc, tenant_id, 3)
    await set_checkpoint(svc, tenant_id, 4, seq=3)
    await set_checkpoint(svc, tenant_id, 5, seq=4)


async def swap(svc: Services, tenant_id: uuid.UUID, a: int, b: int) -> None:
    await set_checkpoint(svc, tenant_id, a, seq=1000)
    await set_checkpoint(svc, tenant_id, b, seq=a)
    await set_checkpoint(svc, tenant_id, 1000, seq=b)


async def swap_neighbours(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await swap(svc, tenant_id, 2, 3)


async def swap_far_apart(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await swap(svc, tenant_id, 1, 5)


async def delete_log_event(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    await delete_event(svc, cps[1]["event_id"])


async def rehash_without_key(svc: Services, tenant_id: uuid.UUID, cps: list[dict[str, Any]]) -> None:
    """Edit an event, then recompute its checkpoint and every later one: all but the signatures."""
    await set_event(svc, cps[2]["event_id"], subject="device/forged")
    async with svc.read_engine.connect() as conn:
        stmt = select(eventlog_event).where(eventlog_event.c.id == cps[2]["event_id"])
        forged = event_hash(to_stored((await conn.execute(stmt)).mappings().one()))
    prev = cps[1]["hash"]
    for c in cps[2:]:
        digest = forged if c["seq"] == 3 else c["event_hash"]
        link = chain_hash(prev, c["seq"], digest)
        values = {"prev_hash": prev, "event_hash": digest, "hash": link, "signature": sign(b"guessed", link)}
        if c["seq"] == 3:
            values["subject"] = "device/forged"
        await set_checkpoint(svc, tenant_id, c["seq"], **values)
        prev = link


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (edit_event_data, [(2, "changed")]),
        (edit_checkpoint_hash, [(2, "changed")]),
        (edit_checkpoint_subject, [(4, "changed")]),
        (delete_middle_checkpoint, [(3, "removed")]),
        (delete_and_renumber, [(3, "removed"), (4, "reordered")]),
        (swap_neighbours, [(2, "reordered"), (3, "reordered")]),
        (swap_far_apart, [(1, "reordered"), (5, "reordered")]),
        (delete_log_event, [(2, "event_missing")]),
        (rehash_without_key, [(3, "bad_signature"), (4, "bad_signature"), (5, "bad_signature")]),
    ],
)
async def test_verify_names_what_was_tampered_with(
    services: Services,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    tamper: Tamper,
    expected: list[tuple[int, str]],
) -> None:
    await record(services, tenant, 5)
    await record(services, other_tenant, 2)
    await tamper(services, tenant.id, await checkpoints(services, tenant.id))
    report = await run_verify(services)
    assert not report.ok
    assert found(report) == expected, report.problems
    assert {p.tenant_id for p in report.problems} == {tenant.id}
    assert all(p.message for p in report.problems)
    assert (await run_verify(services, other_tenant.id)).ok


async def test_deleting_the_newest_checkpoints_needs_the_recorders_coverage(
    services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 3)
    cps = await checkpoints(services, tenant.id)
    await delete_checkpoint(services, tenant.id, 3)
    # The chain alone cannot tell a truncated ledger from a shorter one ...
    assert (await run_verify(services)).ok
    # ... but the recorder has read past the event, so it must have a checkpoint.
    coverage = await recorder_coverage(services.consumers)
    assert coverage is not None and coverage.types == TYPES
    report = await run_verify(services, tenant.id, coverage=coverage)
    assert found(report) == [(None, "removed")]
    assert str(cps[2]["event_id"]) in report.problems[0].message
    # Events past what the recorder has read are not expected to have one yet.
    assert (await run_verify(services, coverage=Coverage(TYPES, cps[2]["event_position"] - 1))).ok


async def test_another_key_fails_every_signature(services: Services, tenant: TenantCtx) -> None:
    await record(services, tenant, 2)
    report = await run_verify(services, key=derive_key(b"not the platform secret"))
    assert found(report) == [(1, "bad_signature"), (2, "bad_signature")]
