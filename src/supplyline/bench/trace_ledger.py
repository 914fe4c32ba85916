"""The ledger part of ``supplyline bench trace``: appends, proofs and tree heads on a large log.

On a fresh SQLite database, one tenant's log grows to ``leaves`` leaves of EPCIS events
(leaf data: their Event Hash IDs) through the recorder's own ``append_checkpoints``, chain,
signatures and stored subtrees included. Most of it is filled in large batches, one
transaction each, which is what a replay does; the last ``measured`` appends are timed in
batches of the consumer's size (500), one transaction per batch as the consumer commits them:
``ledger_appends_per_s``. Then ``proofs`` inclusion proofs of random leaves and as many
consistency proofs from random earlier sizes are served through ``trace.inclusion`` and
``trace.consistency`` and checked: ``proof_ms_p99`` is the 99th percentile of both;
``tree_head_ms`` is the median time of the signed tree head.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from supplyline import access, epcis, trace
from supplyline.bootstrap import Services, build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import StoredEvent
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings

BATCH = 500  # events per batch, as the consumer runner hands them to the recorder
FILL_BATCH = 20_000  # events per transaction while filling
LEAVES = {epcis.EPCIS_EVENT_RECORDED.type: epcis.ledger_leaf}


def _events(tenant_id: uuid.UUID, start: int, n: int) -> list[StoredEvent]:
    """``n`` ``epcis.event_recorded`` events as the log hands them over, positions from ``start``."""
    now = utcnow()
    out = []
    for position in range(start, start + n):
        digest = hashlib.sha256(f"{tenant_id}/{position}".encode()).hexdigest()
        data = {
            "seq": position,
            "event_id": f"urn:uuid:{uuid.UUID(int=position)}",
            "hash_id": f"ni:///sha-256;{digest}?ver=CBV2.0",
            "event_type": "ObjectEvent",
            "declaration": False,
            "source": "capture",
            "capture_id": None,
        }
        out.append(
            StoredEvent(
                position=position,
                id=uuid.uuid4(),
                type=epcis.EPCIS_EVENT_RECORDED.type,
                source="/supplyline/epcis",
                subject=f"epcis/events/{position}",
                time=now,
                tenant_id=tenant_id,
                correlation_id=None,
                data=data,
                actor="bench",
            )
        )
    return out


async def _append(svc: Services, tenant_id: uuid.UUID, start: int, n: int, batch: int) -> int:
    """Append ``n`` events from position ``start`` in transactions of ``batch``."""
    for at in range(start, start + n, batch):
        events = _events(tenant_id, at, min(batch, start + n - at))
        async with svc.engine.begin() as conn:
            await trace.append_checkpoints(conn, events, svc.ledger_key, LEAVES)
    return start + n


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _proofs(svc: Services, tenant_id: uuid.UUID, size: int, n: int) -> tuple[list[float], list[float]]:
    """Milliseconds of ``n`` inclusion and ``n`` consistency proofs, each checked."""
    rng = random.Random(9)  # noqa: S311 - repeatable picks, not a secret
    incl: list[float] = []
    cons: list[float] = []
    async with svc.read_engine.connect() as conn:
        head = (await trace.tree_head(conn, tenant_id, svc.ledger_key)).head
        for _ in range(n):
            seq = rng.randint(1, size)
            t0 = time.perf_counter()
            p = await trace.inclusion(conn, tenant_id, seq, None)
            incl.append((time.perf_counter() - t0) * 1000)
            if not trace.merkle.verify_inclusion(p.leaf_hash, p.leaf_index, size, p.proof, head.root):
                raise RuntimeError(f"the inclusion proof of leaf {seq} does not verify")
            first = rng.randint(1, size)
            t0 = time.perf_counter()
            c = await trace.consistency(conn, tenant_id, first, None)
            cons.append((time.perf_counter() - t0) * 1000)
            if not trace.merkle.verify_consistency(first, size, c.proof, c.first_root, head.root):
                raise RuntimeError(f"the consistency proof from {first} leaves does not verify")
    return incl, cons


async def _tree_head_ms(svc: Services, tenant_id: uuid.UUID, rounds: int = 21) -> float:
    times = []
    async with svc.read_engine.connect() as conn:
        for _ in range(rounds):
            t0 = time.perf_counter()
            await trace.tree_head(conn, tenant_id, svc.ledger_key)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _fresh_db(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "ledger.db"
    for old in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        old.unlink(missing_ok=True)
    return db


async def _services(workdir: Path) -> tuple[Services, uuid.UUID]:
    db = _fresh_db(workdir)
    settings = Settings(
        database_url=f"sqlite:///{db}", data_dir=workdir / "data", secret_key=Fernet.generate_key().decode()
    )
    engine = create_engine(settings.resolved_database_url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(settings)
    async with svc.uow() as uow:
        _, key = await access.create_tenant(uow, Scope.platform(), "bench", "Bench")
        await uow.commit()
    if key.key.tenant_id is None:
        raise RuntimeError("the tenant's first key belongs to no tenant")
    return svc, key.key.tenant_id


async def measure_ledger(workdir: Path, leaves: int = 1_000_000, proofs: int = 200) -> dict[str, Any]:
    """Fill a log of ``leaves`` leaves, time the last appends, then proofs and tree heads."""
    if leaves < 1:
        raise ValueError("the log needs at least one leaf")
    svc, tenant_id = await _services(workdir)
    try:
        measured = min(max(BATCH, leaves // 20), 50_000, leaves)
        t0 = time.perf_counter()
        at = await _append(svc, tenant_id, 1, leaves - measured, FILL_BATCH)
        fill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await _append(svc, tenant_id, at, measured, BATCH)
        appends = measured / (time.perf_counter() - t0)
        incl, cons = await _proofs(svc, tenant_id, leaves, proofs)
        return {
            "ledger_appends_per_s": round(appends),
            "proof_ms_p99": round(_p(incl + cons, 0.99), 2),
            "inclusion_ms_p99": round(_p(incl, 0.99), 2),
            "consistency_ms_p99": round(_p(cons, 0.99), 2),
            "tree_head_ms": round(await _tree_head_ms(svc, tenant_id), 2),
            "fill_s": round(fill_s, 1),
            "leaves": leaves,
        }
    finally:
        await svc.close()
