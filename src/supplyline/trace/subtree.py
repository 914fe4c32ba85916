"""Stored subtree hashes: roots and proofs of a large log without rehashing every leaf.

``trace_subtree`` holds, for each level of ``LEVELS``, the root of every complete subtree of
2**level leaves (the one at ``index`` starts at leaf ``index * 2**level``). A complete subtree
never changes, so the recorder stores each one in the transaction that appends its last leaf
(``extend``), and catches up on older logs the first time it appends to them.

``TreeReader`` computes the hash of any range of leaves the RFC 9162 algorithms ask for:
an aligned power-of-two range is combined from the stored roots of the highest level that
covers it, and only ranges no stored subtree covers (the incomplete right edge, the one
subtree a proof descends into) are hashed from their leaves. The results are byte for byte
those of ``supplyline.trace.merkle`` over all leaves (the tests compare them around every
level boundary). The stored hashes are a cache the served heads trust: ``mismatches``
recomputes them from the leaves, and ``trace.verify`` reports any that differ.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.trace import merkle
from supplyline.trace.leaves import LogGap, leaf_hashes
from supplyline.trace.tables import trace_subtree

LEVELS: tuple[int, ...] = (8, 16)
_CACHED = 256  # stored roots a reader reads at a time
_READ = 1 << 16  # leaves read at a time when subtrees are computed from them


def _blocks(level: int) -> int:
    """Subtrees of ``level`` computed per read of leaves (or of the level below)."""
    return max(1, _READ >> level)


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


async def stored_counts(
    conn: AsyncConnection, tenant_id: uuid.UUID, levels: Sequence[int] = LEVELS
) -> dict[int, int]:
    """How far subtrees are stored per level: one past the highest index (they are stored
    from index 0 on, in order; a missing one is found when its range is read). One index
    lookup per level, not a scan: the recorder asks on every append."""
    s = trace_subtree
    ends = [
        select(func.max(s.c.index)).where(s.c.tenant_id == tenant_id, s.c.level == level).scalar_subquery()
        for level in levels
    ]
    row = (await conn.execute(select(*ends))).one()
    return {level: int(top) + 1 for level, top in zip(levels, row, strict=True) if top is not None}


async def stored_hashes(
    conn: AsyncConnection, tenant_id: uuid.UUID, level: int, lo: int, hi: int
) -> list[bytes] | None:
    """The stored roots of subtrees ``lo`` to ``hi - 1`` of ``level``; None if one is missing."""
    s = trace_subtree
    stmt = (
        select(s.c.hash)
        .where(s.c.tenant_id == tenant_id, s.c.level == level, s.c.index >= lo, s.c.index < hi)
        .order_by(s.c.index)
    )
    found = [bytes.fromhex(h) for h in (await conn.execute(stmt)).scalars()]
    return found if len(found) == hi - lo and all(len(h) == merkle.HASH_SIZE for h in found) else None


class TreeReader:
    """Hashes and proofs over one tenant's log, from stored subtrees and the leaves between."""

    def __init__(self, conn: AsyncConnection, tenant_id: uuid.UUID, levels: Sequence[int] = LEVELS) -> None:
        self.conn, self.tenant_id = conn, tenant_id
        self.levels = sorted(levels)
        self._counts: dict[int, int] | None = None
        # Stored roots are read _CACHED at a time (a proof's siblings in one subtree of the
        # level above share a read): each query costs more than the rows it returns.
        self._chunks: dict[tuple[int, int], list[bytes] | None] = {}
        self._leaves: dict[tuple[int, int], list[bytes]] = {}

    async def _hashes(self, level: int, lo: int, hi: int) -> list[bytes] | None:
        """Stored roots ``lo`` to ``hi - 1`` of ``level``, read by chunks; None if one is missing."""
        out: list[bytes] = []
        for chunk in range(lo // _CACHED, (hi - 1) // _CACHED + 1):
            key = (level, chunk)
            if key not in self._chunks:
                first = chunk * _CACHED
                last = min(first + _CACHED, (await self._stored()).get(level, 0))
                self._chunks[key] = await stored_hashes(self.conn, self.tenant_id, level, first, last)
            got = self._chunks[key]
            if got is None:
                return None
            start = max(lo - chunk * _CACHED, 0)
            out += got[start : min(hi - chunk * _CACHED, len(got))]
        return out if len(out) == hi - lo else None

    async def _stored(self) -> dict[int, int]:
        if self._counts is None:
            self._counts = await stored_counts(self.conn, self.tenant_id, self.levels)
        return self._counts

    async def _from_subtrees(self, lo: int, hi: int) -> bytes | None:
        """The root of the aligned range [lo, hi) of 2**k leaves, combined from stored roots."""
        n = hi - lo
        if n & (n - 1) or lo % n:
            return None
        counts = await self._stored()
        for level in reversed(self.levels):
            if n >= 1 << level and hi >> level <= counts.get(level, 0):
                got = await self._hashes(level, lo >> level, hi >> level)
                if got is not None:
                    return merkle.root_of_hashes(got)
        return None

    async def _covered(self, lo: int, hi: int) -> bool:
        """Whether some stored subtree lies inside [lo, hi): otherwise read its leaves at once."""
        counts = await self._stored()
        for level in self.levels:
            size = 1 << level
            first = -(-lo // size)  # the first aligned subtree starting at or after lo
            if (first + 1) * size <= hi and first < counts.get(level, 0):
                return True
        return False

    async def leaves(self, lo: int, hi: int) -> list[bytes]:
        if (lo, hi) not in self._leaves:
            self._leaves[lo, hi] = await leaf_hashes(self.conn, self.tenant_id, lo, hi)
        return self._leaves[lo, hi]

    async def hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi)."""
        if hi <= lo:
            return merkle.EMPTY_ROOT
        stored = await self._from_subtrees(lo, hi)
        if stored is not None:
            return stored
        if hi - lo == 1 or not await self._covered(lo, hi):
            return merkle.root_of_hashes(await self.leaves(lo, hi))
        k = _split(hi - lo)
        return merkle.node_hash(await self.hash(lo, lo + k), await self.hash(lo + k, hi))

    async def inclusion(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """The leaf hash at ``index`` and its audit path in the tree of ``size`` leaves (PATH)."""
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1 and await self._covered(lo, hi):
            k = _split(hi - lo)
            if index < lo + k:
                path.append(await self.hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(await self.hash(lo, lo + k))
                lo = lo + k
        # The one subtree the proof descends into that no stored subtree splits: its leaves.
        block = await self.leaves(lo, hi)
        rest = merkle.inclusion_proof(index - lo, block)
        return block[index - lo], rest + path[::-1]

    async def consistency(self, first: int, size: int) -> list[bytes]:
        """The proof that the first ``first`` leaves are a prefix of the tree of ``size`` (PROOF)."""
        if first in (0, size):
            return []
        return await self._subproof(first, 0, size, True)

    async def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [await self.hash(lo, hi)]
        if not await self._covered(lo, hi):
            return merkle.subproof(m, await self.leaves(lo, hi), complete)
        k = _split(n)
        if m <= k:
            return [*await self._subproof(m, lo, lo + k, complete), await self.hash(lo + k, hi)]
        return [*await self._subproof(m - k, lo + k, hi, False), await self.hash(lo, lo + k)]


async def _block_roots(
    conn: AsyncConnection, tenant_id: uuid.UUID, level: int, lo: int, hi: int
) -> list[bytes]:
    """The roots of subtrees ``lo`` to ``hi - 1`` of ``level``, computed from their leaves."""
    size = 1 << level
    hashes = await leaf_hashes(conn, tenant_id, lo * size, hi * size)
    return [merkle.root_of_hashes(hashes[i * size : (i + 1) * size]) for i in range(hi - lo)]


async def extend(
    conn: AsyncConnection, tenant_id: uuid.UUID, size: int, levels: Sequence[int] = LEVELS
) -> int:
    """Store the roots of the complete subtrees of the first ``size`` leaves not stored yet;
    returns how many were stored. Runs in the recorder's transaction, after its inserts."""
    ordered, added = sorted(levels), 0
    counts = await stored_counts(conn, tenant_id, ordered)
    for i, level in enumerate(ordered):
        have, want = counts.get(level, 0), size >> level
        for start in range(have, want, _blocks(level)):
            stop = min(want, start + _blocks(level))
            roots = None
            if i:  # from the level below, stored just before
                below = ordered[i - 1]
                per = 1 << (level - below)
                lower = await stored_hashes(conn, tenant_id, below, start * per, stop * per)
                if lower is not None:
                    roots = [
                        merkle.root_of_hashes(lower[j * per : (j + 1) * per]) for j in range(stop - start)
                    ]
            if roots is None:
                roots = await _block_roots(conn, tenant_id, level, start, stop)
            rows = [
                {"tenant_id": tenant_id, "level": level, "index": start + j, "hash": h.hex()}
                for j, h in enumerate(roots)
            ]
            await conn.execute(trace_subtree.insert(), rows)
            added += len(rows)
    return added


async def mismatches(
    conn: AsyncConnection, tenant_id: uuid.UUID, size: int, levels: Sequence[int] = LEVELS
) -> list[tuple[int, int]]:
    """(level, index) of every stored subtree whose hash is not the root of its leaves."""
    s = trace_subtree
    found: list[tuple[int, int]] = []
    for level in sorted(levels):
        stmt = select(s.c.index, s.c.hash).where(s.c.tenant_id == tenant_id, s.c.level == level)
        stored = {int(i): str(h) for i, h in await conn.execute(stmt)}
        complete = size >> level
        found += [(level, i) for i in sorted(stored) if i >= complete]  # beyond the log's leaves
        for start in range(0, complete, _blocks(level)):
            stop = min(complete, start + _blocks(level))
            try:
                roots = await _block_roots(conn, tenant_id, level, start, stop)
            except LogGap:
                continue  # a leaf missing: the chain's check reports it
            found += [
                (level, start + j)
                for j, h in enumerate(roots)
                if start + j in stored and stored[start + j] != h.hex()
            ]
    return found
