"""The purge job: only what is older than the cutoff, one audit entry per purge, nothing a
consumer has not handled, nothing whose checkpoint is kept, nothing under a legal hold."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from supplyline.bootstrap import Services
from supplyline.governance import Purged
from supplyline.kernel.clock import utcnow
from tests.audit.conftest import entries
from tests.conftest import TenantCtx
from tests.governance.conftest import (
    AUDIT,
    REGION_CREATED,
    catch_up,
    count,
    make_history,
    place_hold,
    release,
    set_retention,
)

YEAR = timedelta(days=365)


def by_class(purged: list[Purged]) -> dict[str, Purged]:
    return {p.data_class: p for p in purged}


async def test_a_purge_deletes_only_what_is_older_and_leaves_one_entry_per_class(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await make_history(services, tenant, "old")
    await make_history(services, other_tenant, "theirs")
    await catch_up(services)
    cutoff = utcnow()
    await asyncio.sleep(0.01)
    await make_history(services, tenant, "new")
    await set_retention(client, tenant, events=365, audit=365, traceability=365)
    await catch_up(services)
    old_events = await count(services, tenant.id, not_type=AUDIT) - 3  # the new conditions, region
    theirs = await count(services, other_tenant.id)

    done = by_class(await services.purger.run(now=cutoff + YEAR))

    assert set(done) == {"traceability", "audit", "events"}
    assert {p.cutoff for p in done.values()} == {cutoff}
    # The old conditions' and the old entry's checkpoints, from the start of the chain.
    assert done["traceability"].deleted == 3 and done["traceability"].detail["anchor_seq"] == 3
    assert done["audit"].deleted == 1  # the old entry; the new one and the PUT's are younger
    assert done["events"].deleted == old_events  # the old conditions and region, the tenant's own
    assert await count(services, tenant.id, subject="regions/R-old") == 0
    assert await count(services, tenant.id, type=REGION_CREATED) == 1
    assert await count(services, other_tenant.id) == theirs  # no retention there

    made = await entries(services, tenant.id, action="retention.purge")
    assert [(e["subject"], e["after"]["deleted"]) for e in made] == [
        ("retention/traceability", 3),
        ("retention/audit", 1),
        ("retention/events", old_events),
    ]
    assert {e["actor"] for e in made} == {"retention"}
    assert made[0]["after"]["cutoff"] == cutoff.isoformat()

    # Nothing older is left: a second run deletes nothing and records nothing.
    await catch_up(services)
    again = await services.purger.run(now=cutoff + YEAR)
    assert [p.deleted for p in again] == [0, 0, 0]
    assert len(await entries(services, tenant.id, action="retention.purge")) == 3


async def test_a_checkpointed_event_is_kept_while_its_checkpoint_is(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await make_history(services, tenant, "old")
    await set_retention(client, tenant, events=1, audit=365)
    await catch_up(services)

    done = by_class(await services.purger.run(now=utcnow() + 2 * YEAR))

    assert set(done) == {"audit", "events"}  # no traceability retention: the chain stays whole
    assert done["audit"].deleted == 0 and done["audit"].detail["kept_for_ledger"] == 2
    assert await count(services, tenant.id, type=REGION_CREATED) == 0
    assert await count(services, tenant.id, not_type=AUDIT) == 2  # the conditions alone
    assert done["events"].detail["kept_for_ledger"] == 2
    r = await client.get("/v1/ledger/verify", headers=tenant.headers)
    assert r.json()["ok"] is True, r.text


async def test_events_a_consumer_has_not_handled_are_kept(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await make_history(services, tenant, "a")
    await set_retention(client, tenant, events=1)
    await catch_up(services)
    await make_history(services, tenant, "b")
    await catch_up(services, but="entity-index")
    later = utcnow() + timedelta(days=2)

    await services.purger.run(now=later)
    assert await count(services, tenant.id, subject="regions/R-a") == 0
    assert await count(services, tenant.id, type=REGION_CREATED) == 1  # b's: entity-index is behind

    await catch_up(services)
    await services.purger.run(now=later)
    assert await count(services, tenant.id, type=REGION_CREATED) == 0


async def test_a_legal_hold_suspends_purging_and_its_release_resumes_it(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await make_history(services, tenant, "old")
    await set_retention(client, tenant, events=1, audit=365, traceability=365)
    everything = await place_hold(client, tenant, None)
    await catch_up(services)
    before = await count(services, tenant.id), await count(services, tenant.id, checkpoints=True)
    later = utcnow() + 2 * YEAR

    done = await services.purger.run(now=later)
    assert [(p.data_class, p.held, p.deleted) for p in done] == [
        ("traceability", True, 0),
        ("audit", True, 0),
        ("events", True, 0),
    ]
    assert (await count(services, tenant.id), await count(services, tenant.id, checkpoints=True)) == before
    assert await entries(services, tenant.id, action="retention.purge") == []

    # A hold on audit entries holds the ledger's checkpoints too: they prove the entries intact.
    audit_only = await place_hold(client, tenant, "audit")
    await release(client, tenant, everything)
    await catch_up(services)
    done = await services.purger.run(now=later)
    assert [(p.data_class, p.held) for p in done] == [
        ("traceability", True),
        ("audit", True),
        ("events", False),
    ]
    assert await count(services, tenant.id, type=REGION_CREATED) == 0

    await release(client, tenant, audit_only)
    await catch_up(services)
    done = await services.purger.run(now=later)
    assert all(not p.held and p.deleted for p in done), done
    assert await count(services, tenant.id, checkpoints=True) == 0
    # Two years on, the earlier purge's own entry was past the audit retention too: it went
    # with the rest, and this run's entries say so.
    made = await entries(services, tenant.id, action="retention.purge")
    assert [e["subject"] for e in made] == ["retention/traceability", "retention/audit", "retention/events"]
    assert await count(services, tenant.id, type=AUDIT) == 3  # this run's, not yet checkpointed


async def test_the_workers_job_purges_only_when_a_tenant_set_a_retention(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    assert await services.purger.due() is False
    await set_retention(client, tenant, telemetry=30)  # telemetry is the compactor's
    assert await services.purger.due() is False
    await set_retention(client, tenant, events=1)
    assert await services.purger.due() is True
    assert await services.purger.run_all() == 0  # nothing is a day old yet
