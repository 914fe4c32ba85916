"""The trail as an RFC 9162 log: signed tree heads, inclusion and consistency proofs, checked
the way a partner would, with the published key and trace.merkle alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete

from supplyline import trace
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.trace.merkle import EMPTY_ROOT, root_of_hashes, verify_consistency, verify_inclusion
from supplyline.trace.tables import trace_leaf
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.trace.conftest import record, set_checkpoint


async def head(client: httpx.AsyncClient, tenant: TenantCtx) -> tuple[trace.TreeHead, str]:
    """The tenant's tree head as a witness keeps it: opened with the published key only."""
    vkey = (await client.get("/v1/ledger/public-key", headers=tenant.headers)).json()["verifier_key"]
    r = await client.get("/v1/ledger/tree-head", headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    opened = trace.TreeHead.open(body["checkpoint"], trace.Verifier.parse(vkey))
    assert (opened.size, opened.root.hex(), opened.origin) == (
        body["tree_size"],
        body["root_hash"],
        body["origin"],
    )
    return opened, body["checkpoint"]


async def published_leaves(client: httpx.AsyncClient, tenant: TenantCtx) -> list[dict[str, Any]]:
    r = await client.get("/v1/ledger/checkpoints", params={"limit": 1000}, headers=tenant.headers)
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_every_checkpoint_is_provably_in_the_signed_tree(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await record(services, tenant, 7)
    tree, _ = await head(client, tenant)
    leaves = await published_leaves(client, tenant)
    assert tree.size == 7 and tree.origin == f"supplyline/tenants/{tenant.id}"
    # The existing chain is the log, in its order: the root follows from the published hashes.
    assert tree.root == root_of_hashes([trace.leaf_hash_of(c["event_hash"]) for c in leaves])
    for c in leaves:
        r = await client.get("/v1/ledger/proofs/inclusion", params={"seq": c["seq"]}, headers=tenant.headers)
        assert r.status_code == 200, r.text
        p = r.json()
        proof = [bytes.fromhex(h) for h in p["proof"]]
        leaf = trace.leaf_hash_of(c["event_hash"])
        assert verify_inclusion(leaf, c["seq"] - 1, tree.size, proof, tree.root), c["seq"]
        by_event = await client.get(
            "/v1/ledger/proofs/inclusion", params={"event_id": c["event_id"]}, headers=tenant.headers
        )
        assert by_event.json() == p, c["seq"]
        # Another leaf's hash does not verify at this place.
        other = trace.leaf_hash_of(leaves[c["seq"] % 7]["event_hash"])
        assert not verify_inclusion(other, c["seq"] - 1, tree.size, proof, tree.root)
    # Another tenant's log is its own: empty here, and nothing of ours shows.
    theirs, _ = await head(client, other_tenant)
    assert (theirs.size, theirs.root) == (0, EMPTY_ROOT)
    r = await client.get("/v1/ledger/proofs/inclusion", params={"seq": 1}, headers=other_tenant.headers)
    assert_problem(r, 422, "seq")


async def test_a_witness_proves_the_log_only_grew_and_catches_a_rewrite(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 5)
    kept, note = await head(client, tenant)
    await record(services, tenant, 6, start=5)
    now, _ = await head(client, tenant)
    assert now.size == 11
    params = {"first": kept.size, "second": now.size}
    p = (await client.get("/v1/ledger/proofs/consistency", params=params, headers=tenant.headers)).json()
    assert p["first_root_hash"] == kept.root.hex()
    proof = [bytes.fromhex(h) for h in p["proof"]]
    assert verify_consistency(kept.size, now.size, proof, kept.root, now.root)
    # An inclusion proof in an older tree, as a partner asks for the tree it holds.
    r = await client.get(
        "/v1/ledger/proofs/inclusion", params={"seq": 2, "tree_size": 5}, headers=tenant.headers
    )
    assert r.json()["root_hash"] == kept.root.hex()

    # Someone rewrites history under the log: the witness's kept head no longer follows.
    await set_checkpoint(services, tenant.id, 3, event_hash="ab" * 32)
    rewritten, _ = await head(client, tenant)
    p = (await client.get("/v1/ledger/proofs/consistency", params=params, headers=tenant.headers)).json()
    proof = [bytes.fromhex(h) for h in p["proof"]]
    assert not verify_consistency(kept.size, rewritten.size, proof, kept.root, rewritten.root)
    assert p["first_root_hash"] != kept.root.hex()
    # Nor can an older tree be passed off as the current one with the kept head's signature.
    vkey = trace.Verifier.parse(
        (await client.get("/v1/ledger/public-key", headers=tenant.headers)).json()["verifier_key"]
    )
    forged = note.replace(f"\n{kept.size}\n", f"\n{now.size}\n")
    try:
        trace.TreeHead.open(forged, vkey)
    except trace.NoteError:
        pass
    else:
        raise AssertionError("a head with another size verified")


async def test_proofs_of_trees_the_log_does_not_hold_are_refused(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 3)
    h = tenant.headers
    for params, field in [
        ({"seq": 4}, "seq"),
        ({"seq": 3, "tree_size": 2}, "seq"),
        ({"seq": 1, "tree_size": 9}, "tree_size"),
        ({"seq": 0}, "seq"),
    ]:
        assert_problem(await client.get("/v1/ledger/proofs/inclusion", params=params, headers=h), 422, field)
    unknown = {"event_id": "00000000-0000-0000-0000-000000000001"}
    assert_problem(
        await client.get("/v1/ledger/proofs/inclusion", params=unknown, headers=h), 422, "event_id"
    )
    assert_problem(await client.get("/v1/ledger/proofs/inclusion", headers=h), 422, "seq")
    both = {"seq": 1, **unknown}
    assert_problem(await client.get("/v1/ledger/proofs/inclusion", params=both, headers=h), 422, "seq")
    for params, field in [({"first": 4}, "first"), ({"first": 1, "second": 9}, "second")]:
        assert_problem(
            await client.get("/v1/ledger/proofs/consistency", params=params, headers=h), 422, field
        )
    same = await client.get("/v1/ledger/proofs/consistency", params={"first": 3, "second": 3}, headers=h)
    assert same.json()["proof"] == []
    assert_problem(await client.get("/v1/ledger/tree-head"), 401)


async def test_retention_keeps_the_leaf_hashes_so_proofs_outlive_a_purge(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 4)
    kept, _ = await head(client, tenant)
    async with services.engine.begin() as conn:
        await trace.purge_checkpoints(conn, tenant.id, utcnow() + timedelta(days=1), services.ledger_key)
    assert (await client.get("/v1/ledger/checkpoints", headers=tenant.headers)).json()["items"] == []
    await record(services, tenant, 2, start=4)
    now, _ = await head(client, tenant)
    assert now.size == 6
    params = {"first": kept.size}
    p = (await client.get("/v1/ledger/proofs/consistency", params=params, headers=tenant.headers)).json()
    proof = [bytes.fromhex(h) for h in p["proof"]]
    assert verify_consistency(kept.size, now.size, proof, kept.root, now.root)
    r = await client.get("/v1/ledger/proofs/inclusion", params={"seq": 2}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    # The offline export still verifies: purged leaves keep their hashes, not their events.
    vkey = trace.Verifier.parse(trace.public_key_text(services.ledger_key))
    async with services.read_engine.connect() as conn:
        doc = await trace.export_log(conn, tenant.id, services.ledger_key)
    report = trace.verify_export(doc, vkey)
    assert report.ok and (report.events_absent, report.events_checked) == (4, 2), report
    # A trail purged before the leaf hashes were kept (simulated: they are gone) has no tree.
    async with services.engine.begin() as conn:
        await conn.execute(delete(trace_leaf).where(trace_leaf.c.tenant_id == tenant.id))
    assert_problem(await client.get("/v1/ledger/tree-head", headers=tenant.headers), 409)
