"""Lineage edges: what one event says went from one identifier into another.

A transformation turns every input (instances and classes) into every output: ``split`` when
one input gives several outputs, ``merge`` when several inputs give one, ``repack`` under the
CBV ``repacking`` business step, ``transform`` otherwise. An aggregation (ADD, or OBSERVE
confirming it) puts children into a parent (``aggregate``: a case into a pallet, a pallet into
a container) and its DELETE takes them out again (``disaggregate``: parent -> child).

Repacking that keeps each object's identity (cases unpacked from one pallet and packed onto
another, ObjectEvents observing the move) is already told by those aggregation edges; repacking
that gives new identifiers is a TransformationEvent, as CBV 2.0 has it. Object and transaction
events move custody without changing what the objects are, so they justify no edge here:
traces find them by the identifiers they name (``epcis_event_key``).

An event declared wrong keeps its stored edges: traces leave out the edges of any event that
has an error declaration row, and a corrective event brings its own edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from supplyline.trace import CBV_URI, normalise_uri, vocabulary_term

Prefixes = Mapping[str, str]

TRANSFORM_KINDS = ("transform", "split", "merge", "repack")
REPACKING = CBV_URI + "BizStep-repacking"


@dataclass(frozen=True)
class Edge:
    from_id: str
    to_id: str
    kind: str  # transform | split | merge | repack | aggregate | disaggregate
    quantity: float | None = None  # of the edge's target: the output, or the child
    uom: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "from_id": self.from_id,
            "to_id": self.to_id,
            "kind": self.kind,
            "quantity": self.quantity,
            "uom": self.uom,
        }


def _ids(
    event: Mapping[str, Any], epcs: str, quantities: str, prefixes: Prefixes
) -> list[tuple[str, float | None, str | None]]:
    out: dict[str, tuple[str, float | None, str | None]] = {}
    for epc in event.get(epcs) or ():
        if isinstance(epc, str):
            cid = normalise_uri(epc, prefixes)
            out.setdefault(cid, (cid, None, None))
    for q in event.get(quantities) or ():
        if isinstance(q, Mapping) and isinstance(q.get("epcClass"), str):
            cid = normalise_uri(q["epcClass"], prefixes)
            quantity = q.get("quantity")
            amount = float(quantity) if isinstance(quantity, int | float) else None
            uom = q.get("uom") if isinstance(q.get("uom"), str) else None
            out.setdefault(cid, (cid, amount, uom))
    return list(out.values())


def _transform_kind(event: Mapping[str, Any], inputs: int, outputs: int, prefixes: Prefixes) -> str:
    step = event.get("bizStep")
    if isinstance(step, str) and vocabulary_term(step, CBV_URI + "BizStep-", prefixes) == REPACKING:
        return "repack"
    if inputs == 1 and outputs > 1:
        return "split"
    if inputs > 1 and outputs == 1:
        return "merge"
    return "transform"


def edges_of(event: Mapping[str, Any], prefixes: Prefixes) -> list[Edge]:
    """The lineage edges of one event, in canonical identifiers."""
    kind = event.get("type", event.get("isA", event.get("eventType")))
    if kind == "TransformationEvent":
        inputs = _ids(event, "inputEPCList", "inputQuantityList", prefixes)
        outputs = _ids(event, "outputEPCList", "outputQuantityList", prefixes)
        label = _transform_kind(event, len(inputs), len(outputs), prefixes)
        return [Edge(i, o, label, q, u) for i, _, _ in inputs for o, q, u in outputs if i != o]
    if kind == "AggregationEvent" and isinstance(event.get("parentID"), str):
        parent = normalise_uri(event["parentID"], prefixes)
        children = _ids(event, "childEPCs", "childQuantityList", prefixes)
        if event.get("action") == "DELETE":
            return [Edge(parent, c, "disaggregate", q, u) for c, q, u in children if c != parent]
        return [Edge(c, parent, "aggregate", q, u) for c, q, u in children if c != parent]
    return []
