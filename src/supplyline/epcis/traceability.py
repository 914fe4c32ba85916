"""Lineage traces: breadth-first over ``epcis_lineage_edge`` by index, one batched query a hop.

Transformations (transform, split, merge, repack) are directed: forward goes from inputs to
outputs, backward from outputs to inputs. Containment is not: a pallet that carried a lot is
exposed with it whichever way the trace goes, and a container exposed in its own right exposes
everything it held. A container reached *from one of its contents* (the lot went onto the
pallet, or came off it) is exposed as a carrier only: the trace goes on to what carried it in
turn and to what it was transformed into, never to its other contents, which share a pallet
with the lot but nothing of what the lot is. Edges of an event that has an error declaration
are left out; a corrective event's own edges take their place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.epcis.custody import CustodyEvent, custody_of, undeclared
from supplyline.epcis.identity import lots_of_identifiers
from supplyline.epcis.lineage import TRANSFORM_KINDS
from supplyline.epcis.tables import epcis_event, epcis_lineage_edge

Direction = Literal["forward", "backward"]
CHUNK = 400
# How a node was reached: a seed or a derived object (its contents are exposed too), or a
# container reached from inside (a carrier only: its other contents are not).
State = Literal["object", "carrier"]


@dataclass(frozen=True)
class Justification:
    """An event that justifies an edge."""

    seq: int
    event_id: str
    hash_id: str  # its GS1 Event Hash ID: its leaf in the ledger, to prove it is in the signed log
    event_type: str
    biz_step: str | None
    event_time: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "hash_id": self.hash_id,
            "event_type": self.event_type,
            "biz_step": self.biz_step,
            "event_time": self.event_time.isoformat(),
        }


@dataclass
class LineageEdge:
    from_id: str
    to_id: str
    kind: str
    quantity: float | None
    uom: str | None
    events: list[Justification] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_id,
            "to": self.to_id,
            "kind": self.kind,
            "quantity": self.quantity,
            "uom": self.uom,
            "events": [e.as_dict() for e in sorted(self.events, key=lambda e: e.seq)],
        }


@dataclass
class Node:
    id: str
    hops: int
    role: str  # seed | object | carrier
    lot_id: uuid.UUID | None = None
    quantity: float | None = None
    uom: str | None = None
    custody: list[CustodyEvent] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hops": self.hops,
            "role": self.role,
            "lot_id": None if self.lot_id is None else str(self.lot_id),
            "quantity": self.quantity,
            "uom": self.uom,
            "custody": [c.as_dict() for c in self.custody],
        }


@dataclass
class Lineage:
    direction: Direction
    depth: int | None
    start: list[str]
    nodes: list[Node]
    edges: list[LineageEdge]
    complete: bool  # no edge was left unfollowed at the depth limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "depth": self.depth,
            "start": self.start,
            "complete": self.complete,
            "nodes": [n.as_dict() for n in self.nodes],
            "edges": [e.as_dict() for e in self.edges],
        }


@dataclass(frozen=True)
class _Row:
    seq: int
    from_id: str
    to_id: str
    kind: str
    quantity: float | None
    uom: str | None
    event_id: str
    hash_id: str
    event_type: str
    biz_step: str | None
    event_time: datetime


def _hop_query(tenant_id: uuid.UUID, ids: Sequence[str]) -> Any:
    """Every undeclared edge touching ``ids``, from either end: one statement, two index seeks."""
    e, ev = epcis_lineage_edge, epcis_event
    cols = (e.c.seq, e.c.from_id, e.c.to_id, e.c.kind, e.c.quantity, e.c.uom)
    evcols = (ev.c.event_id, ev.c.hash_id, ev.c.event_type, ev.c.biz_step, ev.c.event_time)

    def side(column: Any) -> Any:
        return (
            select(*cols, *evcols)
            .join(ev, ev.c.seq == e.c.seq)
            .where(e.c.tenant_id == tenant_id, column.in_(list(ids)), undeclared(tenant_id))
        )

    return union_all(side(e.c.from_id), side(e.c.to_id))


async def _edges_at(conn: AsyncConnection, tenant_id: uuid.UUID, ids: Iterable[str]) -> list[_Row]:
    wanted = sorted(set(ids))
    rows: dict[tuple[int, str, str, str], _Row] = {}
    for i in range(0, len(wanted), CHUNK):
        for r in await conn.execute(_hop_query(tenant_id, wanted[i : i + CHUNK])):
            row = _Row(*r)
            rows[(row.seq, row.from_id, row.to_id, row.kind)] = row
    return list(rows.values())


def _steps(row: _Row, at: str, state: State, direction: Direction) -> list[tuple[str, State]]:
    """Where ``row`` leads from node ``at`` (reached in ``state``) in ``direction``."""
    if row.kind in TRANSFORM_KINDS:
        if direction == "forward" and row.from_id == at:
            return [(row.to_id, "object")]
        if direction == "backward" and row.to_id == at:
            return [(row.from_id, "object")]
        return []
    parent, child = (row.to_id, row.from_id) if row.kind == "aggregate" else (row.from_id, row.to_id)
    if child == at:
        return [(parent, "carrier")]
    if parent == at and state == "object":
        return [(child, "object")]
    return []


@dataclass
class _Walk:
    direction: Direction
    states: dict[str, State] = field(default_factory=dict)
    hops: dict[str, int] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], LineageEdge] = field(default_factory=dict)
    # node -> seq -> (quantity, uom): what each transformation made of it, what each
    # aggregation said a container held of it. Every node is in some hop's query (the last
    # frontier in the final one), which returns all the edges that touch it.
    made: dict[str, dict[int, tuple[float, str | None]]] = field(default_factory=dict)
    held: dict[str, dict[int, tuple[float, str | None]]] = field(default_factory=dict)

    def follow(self, rows: list[_Row], frontier: dict[str, State], hop: int) -> dict[str, State]:
        after: dict[str, State] = {}
        for row in rows:
            for at in {row.from_id, row.to_id} & frontier.keys():
                for target, state in _steps(row, at, frontier[at], self.direction):
                    self._edge(row)
                    known = self.states.get(target)
                    if known is None or (known == "carrier" and state == "object"):
                        self.states[target] = state
                        self.hops.setdefault(target, hop)
                        after[target] = state
        return after

    def _edge(self, row: _Row) -> None:
        key = (row.from_id, row.to_id, row.kind)
        edge = self.edges.get(key)
        if edge is None:
            edge = self.edges[key] = LineageEdge(row.from_id, row.to_id, row.kind, None, row.uom)
        if all(j.seq != row.seq for j in edge.events):
            edge.events.append(
                Justification(
                    row.seq, row.event_id, row.hash_id, row.event_type, row.biz_step, row.event_time
                )
            )
            if row.quantity is not None:
                edge.quantity = (edge.quantity or 0.0) + row.quantity

    def amounts(self, rows: list[_Row]) -> None:
        """Note what every edge seen says of a quantity, followed or not: a lot's quantity is all
        that was made of it, not only the part the trace came through."""
        for row in rows:
            if row.quantity is not None:
                made = row.kind in TRANSFORM_KINDS
                node = row.from_id if row.kind == "aggregate" else row.to_id
                (self.made if made else self.held).setdefault(node, {})[row.seq] = (row.quantity, row.uom)

    def quantity(self, node: str) -> tuple[float | None, str | None]:
        """What the edges say of a node's quantity: the sum of what transformations made of
        it, else the largest amount of it a container held."""
        made = self.made.get(node)
        if made:
            return sum(q for q, _ in made.values()), next(iter(made.values()))[1]
        held = self.held.get(node)
        if held:
            return max(held.values(), key=lambda qu: qu[0])
        return None, None


def _grows(walk: _Walk, rows: list[_Row], frontier: dict[str, State]) -> bool:
    """Whether another hop would reach a node the walk has not (the depth cut the trace)."""
    return any(
        target not in walk.states
        for row in rows
        for at in {row.from_id, row.to_id} & frontier.keys()
        for target, _ in _steps(row, at, frontier[at], walk.direction)
    )


async def trace(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    start_ids: Sequence[str],
    direction: Direction,
    depth: int | None,
    *,
    custody: bool = True,
) -> Lineage:
    """The lineage of ``start_ids`` (canonical identifiers) up to ``depth`` hops (None: to the
    fixpoint; the walk visits a node once, so cycles end), with each node's platform lot and
    custody events."""
    walk = _Walk(direction)
    frontier: dict[str, State] = dict.fromkeys(start_ids, "object")
    walk.states.update(frontier)
    walk.hops.update(dict.fromkeys(start_ids, 0))
    hop = 0
    while frontier and (depth is None or hop < depth):
        hop += 1
        rows = await _edges_at(conn, tenant_id, frontier)
        walk.amounts(rows)
        frontier = walk.follow(rows, frontier, hop)
    rows = await _edges_at(conn, tenant_id, frontier) if frontier else []
    walk.amounts(rows)
    complete = not _grows(walk, rows, frontier)
    nodes = [
        Node(i, walk.hops[i], "seed" if walk.hops[i] == 0 else walk.states[i]) for i in sorted(walk.hops)
    ]
    edges = sorted(walk.edges.values(), key=lambda e: (e.from_id, e.to_id, e.kind))
    await _describe(conn, tenant_id, nodes, walk, custody)
    return Lineage(direction, depth, list(start_ids), nodes, edges, complete)


async def _describe(
    conn: AsyncConnection, tenant_id: uuid.UUID, nodes: list[Node], walk: _Walk, custody: bool
) -> None:
    ids = [n.id for n in nodes]
    lots = await lots_of_identifiers(conn, tenant_id, ids)
    events = await custody_of(conn, tenant_id, ids) if custody else {}
    for n in nodes:
        found = lots.get(n.id)
        n.quantity, n.uom = walk.quantity(n.id)
        if found is not None:
            n.lot_id = found.lot_id
            if n.quantity is None:
                n.quantity, n.uom = found.quantity, found.unit
        n.custody = events.get(n.id, [])
