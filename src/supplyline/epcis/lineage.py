"""Lineage edges: what an event says went from one identifier into another.

A transformation turns every input (instances and classes) into every output; an aggregation
puts children into a parent (a case into a pallet, a pallet into a container) and its DELETE
takes them out again. Object and transaction events move custody without changing what the
objects are, so they justify no edge here: traces find them by the identifiers they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from supplyline.trace import normalise_uri

Prefixes = Mapping[str, str]


@dataclass(frozen=True)
class Edge:
    from_id: str
    to_id: str
    kind: str  # transform | aggregate | disaggregate
    quantity: float | None = None
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
) -> list[tuple[str, Any, Any]]:
    out: dict[str, tuple[str, Any, Any]] = {}
    for epc in event.get(epcs) or ():
        if isinstance(epc, str):
            cid = normalise_uri(epc, prefixes)
            out.setdefault(cid, (cid, None, None))
    for q in event.get(quantities) or ():
        if isinstance(q, Mapping) and isinstance(q.get("epcClass"), str):
            cid = normalise_uri(q["epcClass"], prefixes)
            quantity = q.get("quantity")
            amount = float(quantity) if isinstance(quantity, int | float) else None
            out.setdefault(cid, (cid, amount, q.get("uom")))
    return list(out.values())


def edges_of(event: Mapping[str, Any], prefixes: Prefixes) -> list[Edge]:
    """The lineage edges of one event, in canonical identifiers."""
    kind = event.get("type", event.get("isA", event.get("eventType")))
    if kind == "TransformationEvent":
        inputs = _ids(event, "inputEPCList", "inputQuantityList", prefixes)
        outputs = _ids(event, "outputEPCList", "outputQuantityList", prefixes)
        return [Edge(i, o, "transform", q, u) for i, _, _ in inputs for o, q, u in outputs if i != o]
    if kind == "AggregationEvent" and isinstance(event.get("parentID"), str):
        parent = normalise_uri(event["parentID"], prefixes)
        children = _ids(event, "childEPCs", "childQuantityList", prefixes)
        if event.get("action") == "DELETE":
            return [Edge(parent, c, "disaggregate", q, u) for c, q, u in children]
        return [Edge(c, parent, "aggregate", q, u) for c, q, u in children]
    return []
