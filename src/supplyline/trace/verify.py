"""Verification: recompute every checkpoint from the log and from the chain, and say what changed.

A tenant's checkpoints are read in seq order, a page at a time. Each one must hash to its own
fields at its seq, link to the one before it, carry the key's signature, and match its event
in the log. Only when something is out of place is the whole chain indexed by hash (in memory),
to tell a moved checkpoint (reordered) from a deleted one (removed) or an edited one (changed).

Where retention purged the start of a chain, the chain starts from the newest purge anchor
whose signature verifies: the first checkpoint kept must follow it, and events of the checked
types at or below its event's log position are purged, not uncovered. An anchor that does not
verify is reported and ignored, so the checkpoints it claims were purged are reported removed.

The Merkle log is checked too: a leaf stored for an event (its EPCIS Event Hash ID) must be the
one the recorder's rule gives for it, and every stored subtree hash must be the root of its
leaves, since tree heads and proofs are served from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import eventlog
from supplyline.kernel.events import StoredEvent
from supplyline.trace.canonical import GENESIS, anchor_signed, chain_hash, event_hash, signed
from supplyline.trace.consumer import Coverage, LeafRule
from supplyline.trace.leaves import LogGap, log_size
from supplyline.trace.purge import Anchor, anchors
from supplyline.trace.subtree import mismatches
from supplyline.trace.tables import trace_anchor, trace_checkpoint

ProblemKind = Literal["changed", "removed", "reordered", "bad_signature", "event_missing"]

_MAX_WALK = 256  # links followed to find where a misplaced checkpoint came from
_MAX_SHIFT = 1024  # seqs tried on either side when the walk finds nothing
_MAX_UNCOVERED = 1000  # uncovered events reported, at most


@dataclass(frozen=True)
class Problem:
    tenant_id: uuid.UUID
    seq: int | None  # None: an event with no checkpoint at all
    kind: ProblemKind
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"tenant_id": str(self.tenant_id), "seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass
class VerifyReport:
    checked: int = 0  # checkpoints examined
    tenants: int = 0  # tenant chains examined
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "tenants": self.tenants,
            "problems": [p.as_dict() for p in self.problems],
        }


async def verify(
    conn: AsyncConnection,
    key: bytes,
    tenant_id: uuid.UUID | None = None,
    *,
    coverage: Coverage | None = None,
    page_size: int = 1000,
) -> VerifyReport:
    """Check one tenant's chain, or every tenant's when ``tenant_id`` is None.

    With ``coverage`` (see ``recorder_coverage``) it also reports events the recorder has read
    past that have no checkpoint: the only trace of deleting the newest checkpoints.
    """
    report = VerifyReport()
    tenants = [tenant_id] if tenant_id is not None else await _tenants(conn)
    leaf_of = coverage.leaf_of if coverage is not None else None
    for tenant in tenants:
        check = _TenantCheck(conn, key, tenant, leaf_of)
        report.checked += await check.run(page_size)
        report.tenants += 1
        report.problems += check.problems
        report.problems += await _subtree_problems(conn, tenant)
    if coverage is not None and coverage.types:
        report.problems += await _uncovered(conn, coverage, tenant_id)
    return report


async def _subtree_problems(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Problem]:
    """Stored subtree hashes that are not the root of their leaves: heads served from them lie."""
    try:
        size = await log_size(conn, tenant_id)
    except LogGap:
        return []
    return [
        Problem(
            tenant_id,
            (index << level) + 1,
            "changed",
            f"the stored hash of leaves {(index << level) + 1}-{(index + 1) << level} (subtree {index} of "
            f"level {level}) is not the root of those leaves: tree heads and proofs served from it are wrong",
        )
        for level, index in await mismatches(conn, tenant_id, size)
    ]


def _recompute(prev_hash: str, seq: int, digest: str) -> str | None:
    try:
        return chain_hash(prev_hash, seq, digest)
    except (ValueError, TypeError):
        return None


def _link(prev: _Prev | None) -> str:
    """The prev_hash the next checkpoint must carry."""
    if prev is None:
        return GENESIS
    return prev.rehash or ""


@dataclass(frozen=True)
class _Entry:
    seq: int
    prev_hash: str
    hash: str
    event_hash: str
    intact: bool  # its hash matches its fields at the seq where it sits


@dataclass(frozen=True)
class _Prev:
    seq: int
    rehash: str | None  # its hash recomputed from its fields
    intact: bool


class _Index:
    """Every checkpoint of a tenant by its hash and by its prev_hash."""

    def __init__(self, entries: list[_Entry], anchor: Anchor | None) -> None:
        self.by_hash = {e.hash: e for e in entries}
        self.by_prev = {e.prev_hash: e for e in entries}
        self.anchor = anchor

    def walk_back(self, start: str) -> int | None:
        """The seq a checkpoint chained after ``start`` was made as: counted from the nearest
        intact checkpoint behind it, or from the start of the chain."""
        link, steps, seen = start, 1, set()
        while link not in seen and steps <= _MAX_WALK:
            if self.anchor is not None and link == self.anchor.hash:
                return self.anchor.seq + steps
            if link == GENESIS:
                return steps
            seen.add(link)
            entry = self.by_hash.get(link)
            if entry is None:
                return None
            if entry.intact:
                return entry.seq + steps
            link, steps = entry.prev_hash, steps + 1
        return None

    def walk_forward(self, start: str) -> int | None:
        """The same, counted back from the nearest intact checkpoint after it."""
        link, steps, seen = start, 1, set()
        while link not in seen and steps <= _MAX_WALK:
            seen.add(link)
            entry = self.by_prev.get(link)
            if entry is None:
                return None
            if entry.intact:
                return entry.seq - steps
            link, steps = entry.hash, steps + 1
        return None


class _TenantCheck:
    def __init__(
        self, conn: AsyncConnection, key: bytes, tenant_id: uuid.UUID, leaf_of: Mapping[str, LeafRule] | None
    ) -> None:
        self.conn = conn
        self.leaf_of = leaf_of
        self.key = key
        self.tenant_id = tenant_id
        self.problems: list[Problem] = []
        self._reported: set[tuple[int, str]] = set()
        self._index: _Index | None = None
        self._shift = 0  # how far the last misplaced checkpoint had moved: runs move together
        self.anchor: Anchor | None = None

    async def run(self, page_size: int) -> int:
        t = trace_checkpoint
        self.anchor = await self._anchor()
        checked, after = 0, 0
        prev: _Prev | None = None
        if self.anchor is not None:
            after = self.anchor.seq
            prev = _Prev(self.anchor.seq, self.anchor.hash, True)
        while True:
            stmt = (
                select(t)
                .where(t.c.tenant_id == self.tenant_id, t.c.seq > after)
                .order_by(t.c.seq)
                .limit(page_size)
            )
            rows = (await self.conn.execute(stmt)).mappings().all()
            if not rows:
                return checked
            events = await eventlog.events_by_id(self.conn, [r["event_id"] for r in rows])
            for row in rows:
                prev = await self._check(row, prev, events.get(row["event_id"]))
            checked += len(rows)
            after = rows[-1]["seq"]

    async def _anchor(self) -> Anchor | None:
        """The newest anchor that verifies; every one that does not is reported."""
        good: Anchor | None = None
        for a in await anchors(self.conn, self.tenant_id):
            if anchor_signed(self.key, a.tenant_id, a.seq, a.hash, a.event_position, a.cutoff, a.signature):
                good = good or a
            else:
                self._add(
                    a.seq,
                    "bad_signature",
                    f"the purge anchor at checkpoint {a.seq} does not carry the platform key's signature: "
                    "it was forged or altered, and the chain is checked without it",
                )
        return good

    def _add(self, seq: int, kind: ProblemKind, message: str) -> None:
        """One problem of each kind per checkpoint: the first reason found is the one told."""
        if (seq, kind) not in self._reported:
            self._reported.add((seq, kind))
            self.problems.append(Problem(self.tenant_id, seq, kind, message))

    async def _check(self, row: RowMapping, prev: _Prev | None, event: StoredEvent | None) -> _Prev:
        seq: int = row["seq"]
        expected = prev.seq + 1 if prev is not None else 1
        gap = seq > expected
        if gap:
            which = (
                f"checkpoint {expected} is"
                if seq == expected + 1
                else f"checkpoints {expected}-{seq - 1} are"
            )
            self._add(expected, "removed", f"{which} missing from the chain")
        rehash = _recompute(row["prev_hash"], seq, row["event_hash"])
        intact = rehash is not None and rehash == row["hash"]
        # Links are checked between intact checkpoints only: after an altered or moved one, the
        # break is its consequence, already reported.
        clean = intact
        if not intact:
            self._add(seq, *await self._misfit(row, rehash, prev))
        elif not gap and (prev is None or prev.intact) and row["prev_hash"] != _link(prev):
            self._add(seq, *await self._broken_link(row, prev))
            clean = False
        if clean and not signed(self.key, row["hash"], row["signature"]):
            self._add(
                seq,
                "bad_signature",
                f"checkpoint {seq}'s signature does not verify: the chain was re-hashed without the "
                "platform key from here on, or the platform secret changed",
            )
        self._check_event(row, event)
        return _Prev(seq, rehash, intact)

    async def _load(self) -> _Index:
        if self._index is None:
            t = trace_checkpoint
            stmt = select(t.c.seq, t.c.prev_hash, t.c.hash, t.c.event_hash).where(
                t.c.tenant_id == self.tenant_id
            )
            entries = [
                _Entry(
                    r.seq,
                    r.prev_hash,
                    r.hash,
                    r.event_hash,
                    _recompute(r.prev_hash, r.seq, r.event_hash) == r.hash,
                )
                for r in await self.conn.execute(stmt)
            ]
            self._index = _Index(entries, self.anchor)
        return self._index

    def _origin(self, row: RowMapping, index: _Index) -> int | None:
        """The seq this checkpoint was made as, when it is not the one where it sits."""

        def made_as(candidate: int | None) -> bool:
            return (
                candidate is not None
                and candidate > 0
                and candidate != row["seq"]
                and _recompute(row["prev_hash"], candidate, row["event_hash"]) == row["hash"]
            )

        seq: int = row["seq"]
        walked = [index.walk_back(row["prev_hash"]), index.walk_forward(row["hash"]), seq + self._shift]
        for candidate in walked:
            if made_as(candidate):
                return candidate
        for distance in range(1, _MAX_SHIFT + 1):
            for candidate in (seq + distance, seq - distance):
                if made_as(candidate):
                    return candidate
        return None

    async def _misfit(
        self, row: RowMapping, rehash: str | None, prev: _Prev | None
    ) -> tuple[ProblemKind, str]:
        """A checkpoint whose hash does not match its own fields at its seq: moved, or edited."""
        if rehash is None:
            return "changed", f"checkpoint {row['seq']} has hash fields that are not 64 lower-case hex digits"
        seq: int = row["seq"]
        index = await self._load()
        origin = self._origin(row, index)
        if origin is not None:
            self._shift = origin - seq
            follows_anchor = self.anchor is not None and row["prev_hash"] == self.anchor.hash
            known = row["prev_hash"] == GENESIS or row["prev_hash"] in index.by_hash or follows_anchor
            if not known:
                return "removed", (
                    f"checkpoint {origin - 1} is gone and the later ones were renumbered: the one at "
                    f"seq {seq} was made as checkpoint {origin}"
                )
            return (
                "reordered",
                f"the checkpoint at seq {seq} was made as checkpoint {origin}: rows were moved",
            )
        if prev is not None and _recompute(_link(prev), seq, row["event_hash"]) == row["hash"]:
            return "changed", f"checkpoint {seq}'s prev_hash was altered"
        return "changed", f"checkpoint {seq}'s hash does not match its prev_hash, seq and event_hash"

    async def _broken_link(self, row: RowMapping, prev: _Prev | None) -> tuple[ProblemKind, str]:
        """An intact checkpoint whose prev_hash is not the hash of the intact one before it."""
        seq: int = row["seq"]
        index = await self._load()
        before = index.by_hash.get(row["prev_hash"])
        if self.anchor is not None and row["prev_hash"] == self.anchor.hash:
            after = f"not after {prev.seq}" if prev is not None else "out of place"
            return "reordered", f"checkpoint {seq} was made to follow the purge anchor, {after}"
        if row["prev_hash"] == GENESIS:
            return "reordered", f"checkpoint {seq} was made as the first checkpoint of the chain"
        if before is None or prev is None:
            return "removed", f"the checkpoint that checkpoint {seq} was chained after is no longer there"
        return (
            "reordered",
            f"checkpoint {seq} was chained after checkpoint {before.seq}, not after {prev.seq}",
        )

    def _check_event(self, row: RowMapping, event: StoredEvent | None) -> None:
        seq: int = row["seq"]
        what = f"event {row['event_id']} ({row['event_type']}) of checkpoint {seq}"
        if event is None:
            self._add(seq, "event_missing", f"{what} is no longer in the event log")
            return
        if event.tenant_id != self.tenant_id:
            self._add(seq, "changed", f"{what} now belongs to another tenant")
        elif event_hash(event) != row["event_hash"]:
            self._add(
                seq,
                "changed",
                f"{what} no longer matches the hash recorded for it: the event or the checkpoint was altered",
            )
        elif not self._leaf_fits(row, event):
            self._add(
                seq,
                "changed",
                f"the leaf recorded with {what} is not the one its event gives: the log's leaf was altered",
            )
        else:
            copies = {
                "event_type": event.type,
                "subject": event.subject,
                "correlation_id": event.correlation_id,
                "event_position": event.position,
            }
            for name, value in copies.items():
                if row[name] != value:
                    self._add(seq, "changed", f"the {name} recorded with {what} differs from the log's")
                    break

    def _leaf_fits(self, row: RowMapping, event: StoredEvent) -> bool:
        """Whether the checkpoint's stored leaf is the recorder's rule applied to its event (or
        none for a type without a rule); without the recorder's rules it cannot be judged."""
        if self.leaf_of is None:
            return True
        rule = self.leaf_of.get(event.type)
        try:
            expected = rule(event) if rule is not None else None
        except (KeyError, TypeError, ValueError):
            expected = None
        return bool(row["leaf"] == expected)


async def _tenants(conn: AsyncConnection) -> list[uuid.UUID]:
    """Tenants with a chain: checkpoints, or an anchor where retention purged them all."""
    c, a = trace_checkpoint, trace_anchor
    both = union(select(c.c.tenant_id), select(a.c.tenant_id)).subquery()
    return list((await conn.execute(select(both.c.tenant_id).order_by(both.c.tenant_id))).scalars())


async def _uncovered(conn: AsyncConnection, coverage: Coverage, tenant_id: uuid.UUID | None) -> list[Problem]:
    """Events the recorder has read past and that have no checkpoint, above the purge anchor."""
    e, c, a = eventlog.event_view(), trace_checkpoint, trace_anchor
    purged = (
        select(a.c.tenant_id, func.max(a.c.event_position).label("through"))
        .group_by(a.c.tenant_id)
        .subquery()
    )
    joined = e.outerjoin(c, and_(c.c.tenant_id == e.c.tenant_id, c.c.event_id == e.c.id)).outerjoin(
        purged, purged.c.tenant_id == e.c.tenant_id
    )
    stmt = (
        select(e.c.id, e.c.position, e.c.type, e.c.tenant_id)
        .select_from(joined)
        .where(
            e.c.type.in_(sorted(coverage.types)),
            e.c.position <= coverage.through,
            e.c.tenant_id.is_not(None),
            c.c.event_id.is_(None),
            or_(purged.c.through.is_(None), e.c.position > purged.c.through),
        )
        .order_by(e.c.position)
        .limit(_MAX_UNCOVERED)
    )
    if tenant_id is not None:
        stmt = stmt.where(e.c.tenant_id == tenant_id)
    return [
        Problem(
            r.tenant_id,
            None,
            "removed",
            f"event {r.id} ({r.type}, log position {r.position}) has no checkpoint, "
            "though the recorder has read past it",
        )
        for r in await conn.execute(stmt)
    ]
