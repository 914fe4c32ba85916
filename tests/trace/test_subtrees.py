"""Stored subtree hashes: heads and proofs served from them are those of the plain RFC 9162
functions over every leaf, and a stored hash that lies is found by verify."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import delete, func, select, update

from supplyline import trace
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.trace import merkle, subtree
from supplyline.trace.leaves import leaf_hashes
from supplyline.trace.tables import trace_checkpoint, trace_subtree
from tests.conftest import TenantCtx
from tests.trace.conftest import KEY, condition


async def record(svc: Services, tenant: TenantCtx, n: int) -> None:
    """``n`` exceptions the recorder appends in one batch (minutes repeat: ids differ)."""
    async with svc.uow() as uow:
        for i in range(n):
            uow.publish(condition(tenant.id, i % 50, "raised" if i % 2 == 0 else "cleared"))
        await uow.commit()
    await svc.consumers.catch_up(trace.CONSUMER_NAME)


_CHUNK = 5000


async def fill(
    svc: Services, tenant_id: uuid.UUID, n: int, levels: tuple[int, ...] = subtree.LEVELS
) -> list[bytes]:
    """A log of ``n`` leaves written straight to the table (the chain is not what is tested
    here), its subtrees stored as the recorder stores them; returns the leaf hashes."""
    now = utcnow()
    digests = [hashlib.sha256(f"{tenant_id}/{i}".encode()).hexdigest() for i in range(1, n + 1)]
    async with svc.engine.begin() as conn:
        for start in range(0, n, _CHUNK):
            rows = [
                {
                    "tenant_id": tenant_id,
                    "seq": i + 1,
                    "event_id": uuid.uuid4(),
                    "event_position": i + 1,
                    "event_type": "test.leaf",
                    "subject": "s",
                    "correlation_id": None,
                    "event_hash": digests[i],
                    "leaf": None,
                    "prev_hash": "0" * 64,
                    "hash": "0" * 64,
                    "signature": "0" * 64,
                    "recorded_at": now,
                }
                for i in range(start, min(n, start + _CHUNK))
            ]
            await conn.execute(trace_checkpoint.insert(), rows)
        await subtree.extend(conn, tenant_id, n, levels)
    return [trace.leaf_hash_of(d) for d in digests]


async def test_small_levels_give_every_root_and_proof_of_the_plain_functions(
    services: Services, tenant: TenantCtx
) -> None:
    levels = (1, 3)
    hashes = await fill(services, tenant.id, 37, levels)
    async with services.read_engine.connect() as conn:
        assert await subtree.stored_counts(conn, tenant.id, levels) == {1: 18, 3: 4}
        reader = trace.TreeReader(conn, tenant.id, levels)
        # Every tree the log has held, including older ones whose right edge is mid-subtree.
        for size in range(1, 38):
            tree = hashes[:size]
            assert await reader.hash(0, size) == merkle.root_of_hashes(tree), size
            for i in range(size):
                assert await reader.inclusion(i, size) == (tree[i], merkle.inclusion_proof(i, tree)), (
                    i,
                    size,
                )
            for m in range(size + 1):
                assert await reader.consistency(m, size) == merkle.consistency_proof(m, tree), (m, size)


async def test_real_levels_match_around_their_boundaries(services: Services, tenant: TenantCtx) -> None:
    hashes = await fill(services, tenant.id, 65537)
    async with services.read_engine.connect() as conn:
        assert await subtree.stored_counts(conn, tenant.id) == {8: 256, 16: 1}
        reader = trace.TreeReader(conn, tenant.id)
        for size in (1, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537):
            tree = hashes[:size]
            root = merkle.root_of_hashes(tree)
            assert await reader.hash(0, size) == root, size
            for i in sorted({0, 127, 254, 255, 256, size // 2, size - 2, size - 1} & set(range(size))):
                leaf, proof = await reader.inclusion(i, size)
                assert proof == merkle.inclusion_proof(i, tree), (i, size)
                assert merkle.verify_inclusion(leaf, i, size, proof, root)
        for m, size in [(255, 257), (256, 513), (257, 65536), (65535, 65537), (65536, 65537), (1, 65537)]:
            assert await reader.consistency(m, size) == merkle.consistency_proof(m, hashes[:size]), (m, size)
        # The signed head and the log's proofs are served the same way.
        head = await trace.tree_head(conn, tenant.id, KEY)
        assert (head.head.size, head.head.root) == (65537, merkle.root_of_hashes(hashes))
        p = await trace.consistency(conn, tenant.id, 65535, None)
        assert merkle.verify_consistency(65535, 65537, p.proof, p.first_root, head.head.root)


async def test_the_recorder_stores_subtrees_as_it_appends(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 200)
    await record(services, tenant, 300)  # the first subtree completes in this batch
    async with services.read_engine.connect() as conn:
        assert await subtree.stored_counts(conn, tenant.id) == {8: 1}
        hashes = await leaf_hashes(conn, tenant.id)
    body = (await client.get("/v1/ledger/tree-head", headers=tenant.headers)).json()
    assert (body["tree_size"], body["root_hash"]) == (500, merkle.root_of_hashes(hashes).hex())
    # Retention deletes checkpoints, never subtrees: the root is unchanged.
    async with services.engine.begin() as conn:
        await trace.purge_checkpoints(conn, tenant.id, utcnow() + timedelta(days=1), services.ledger_key)
    async with services.read_engine.connect() as conn:
        assert await subtree.stored_counts(conn, tenant.id) == {8: 1}
    again = (await client.get("/v1/ledger/tree-head", headers=tenant.headers)).json()
    assert again["root_hash"] == body["root_hash"]


async def test_a_tampered_subtree_changes_the_served_root_and_verify_finds_it(
    services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 600)
    async with services.read_engine.connect() as conn:
        root = merkle.root_of_hashes(await leaf_hashes(conn, tenant.id))
        assert (await trace.verify(conn, KEY, tenant.id)).ok
    s = trace_subtree
    async with services.engine.begin() as conn:
        where = (s.c.tenant_id == tenant.id) & (s.c.level == 8) & (s.c.index == 1)
        await conn.execute(update(s).where(where).values(hash="ab" * 32))
    async with services.read_engine.connect() as conn:
        served = await trace.tree_head(conn, tenant.id, KEY)
        report = await trace.verify(conn, KEY, tenant.id)
        doc = await trace.export_log(conn, tenant.id, KEY)
    assert served.head.root != root
    assert [(p.kind, p.seq) for p in report.problems] == [("changed", 257)], report.problems
    assert "subtree 1 of level 8" in report.problems[0].message
    # The export is made from the leaves: it still holds the true root, unlike the served head.
    exported = trace.TreeHead.open(doc["checkpoint"], trace.Verifier.parse(doc["verifier_key"]))
    assert exported.root == root != served.head.root

    # A stored subtree deleted is not trusted missing: the root comes from the leaves again.
    async with services.engine.begin() as conn:
        await conn.execute(delete(s).where(s.c.tenant_id == tenant.id, s.c.index == 1))
    async with services.read_engine.connect() as conn:
        assert (await trace.tree_head(conn, tenant.id, KEY)).head.root == root
        left = (await conn.execute(select(func.count()).where(s.c.tenant_id == tenant.id))).scalar()
        assert left == 1
        assert (await trace.verify(conn, KEY, tenant.id)).ok
