"""A generated supply network with its ground truth (seeded random).

Raw lots from two suppliers are merged, split and transformed into intermediates, those into
products (some by repacking), and the products split into packs and serials: three levels of
transformation. Packs and serials go onto pallets, pallets into containers; one pallet is
repacked onto another, containers are shipped to customers, received and unpacked. One wrong
transformation is declared an error and corrected. Events name identifiers as EPC URNs or
Digital Links at random.

The generator knows what came from what (``made_from``) and what held what (``contains``),
and ``reach`` walks that model in plain Python by the documented rules of
``supplyline.epcis.traceability``: transformations are directed; a container reached from one
of its contents is a carrier only, while a container exposed in its own right exposes all it held.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from supplyline.epcis import canonical_id

CP = "4012345"
T0 = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
RAW, INTER, PRODUCT, PACK, SERIAL = 1, 2, 3, 4, 5
GTIN_ITEMS = (RAW, PRODUCT, PACK, SERIAL)  # the intermediate's product has no GTIN: no platform lot


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin(item: int) -> str:
    body = f"0{CP}{item:05d}"
    return body + check_digit(body)


@dataclass
class PlatformLot:
    item: int
    code: str
    quantity: float
    supplier: str | None = None  # supplier name


@dataclass
class Network:
    rng: random.Random
    events: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # event index -> (kind, name)
    made_from: dict[str, set[str]] = field(default_factory=dict)
    contains: dict[str, set[str]] = field(default_factory=dict)
    made: dict[str, float] = field(default_factory=dict)  # lot -> quantity its transformations made
    lots: dict[str, PlatformLot] = field(default_factory=dict)  # canonical id -> platform lot
    kinds: dict[str, str] = field(
        default_factory=dict
    )  # canonical id -> raw|inter|product|pack|serial|pallet|container
    orders: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # number -> (customer, lot ids)
    shipments: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # number -> (customer, lot ids)
    shipping: list[tuple[str, set[str], str]] = field(default_factory=list)  # (event id, named ids, party)
    declared: str = ""
    serial_no: int = 0
    sscc_no: int = 0

    # identifiers: (urn, canonical)
    def lot(self, item: int, code: str, kind: str) -> tuple[str, str]:
        urn = f"urn:epc:class:lgtin:{CP}.0{item:05d}.{code}"
        cid = canonical_id(urn)
        self.kinds[cid] = kind
        return (urn if self.rng.random() < 0.5 else cid), cid

    def serial(self) -> tuple[str, str]:
        self.serial_no += 1
        urn = f"urn:epc:id:sgtin:{CP}.0{SERIAL:05d}.{self.serial_no}"
        cid = canonical_id(urn)
        self.kinds[cid] = "serial"
        return (urn if self.rng.random() < 0.5 else cid), cid

    def sscc(self, kind: str) -> tuple[str, str]:
        self.sscc_no += 1
        urn = f"urn:epc:id:sscc:{CP}.{self.sscc_no:010d}"
        cid = canonical_id(urn)
        self.kinds[cid] = kind
        return (urn if self.rng.random() < 0.5 else cid), cid

    def add(self, event: dict[str, Any], refs: list[tuple[str, str]] | None = None) -> str:
        event_id = f"urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128))}"
        at = T0 + timedelta(minutes=7 * len(self.events))
        self.events.append(
            {"eventID": event_id, "eventTime": at.isoformat(), "eventTimeZoneOffset": "+00:00", **event}
        )
        if refs:
            self.refs[len(self.events) - 1] = refs
        return event_id


def _q(ident: str, quantity: float) -> dict[str, Any]:
    return {"epcClass": ident, "quantity": quantity, "uom": "KGM"}


def _transform(
    net: Network, inputs: list[tuple[str, str]], outputs: list[tuple[str, str, float]], step: str
) -> str:
    for _, out, quantity in outputs:
        net.made_from.setdefault(out, set()).update(c for _, c in inputs)
        if net.kinds[out] != "serial":
            net.made[out] = net.made.get(out, 0.0) + quantity
    return net.add(
        {
            "type": "TransformationEvent",
            "inputQuantityList": [_q(i, 100.0) for i, _ in inputs],
            "outputQuantityList": [_q(o, q) for o, c, q in outputs if net.kinds[c] != "serial"],
            "outputEPCList": [o for o, c, _ in outputs if net.kinds[c] == "serial"],
            "bizStep": step,
        }
    )


def _level(
    net: Network, inputs: list[tuple[str, str]], item: int, kind: str, count: int
) -> list[tuple[str, str]]:
    """Transform ``inputs`` into about ``count`` new lots by merges, splits and 1:1 steps."""
    pool, made = list(inputs), []
    net.rng.shuffle(pool)
    while pool and len(made) < count:
        op = net.rng.choice(("merge", "split", "one"))
        step = "repacking" if kind == "product" and net.rng.random() < 0.4 else "commissioning"
        take = pool[: net.rng.randint(2, 3)] if op == "merge" else pool[:1]
        pool = pool[len(take) :]
        outs = [
            net.lot(item, f"{kind[0].upper()}{len(made) + k}", kind) for k in range(3 if op == "split" else 1)
        ]
        _transform(net, take, [(o, c, round(net.rng.uniform(5, 50), 1)) for o, c in outs], step)
        made += outs
    return made


def _aggregate(
    net: Network, parent: tuple[str, str], children: list[tuple[str, str]], action: str, step: str
) -> None:
    net.contains.setdefault(parent[1], set()).update(c for _, c in children)
    lots = [c for c in children if net.kinds[c[1]] != "serial" and net.kinds[c[1]] not in ("pallet",)]
    epcs = [c for c in children if c not in lots]
    net.add(
        {
            "type": "AggregationEvent",
            "action": action,
            "parentID": parent[0],
            "childEPCs": [e for e, _ in epcs],
            "childQuantityList": [_q(i, 10.0) for i, _ in lots],
            "bizStep": step,
        }
    )


def _ship(net: Network, unit: tuple[str, str], customer: int, number: str | None) -> None:
    party = f"urn:epc:id:pgln:{CP}.{100 + customer:05d}"
    refs = [("shipment", number)] if number else None
    event_id = net.add(
        {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "epcList": [unit[0]],
            "bizStep": "shipping",
            "bizLocation": {"id": f"urn:epc:id:sgln:{CP}.00001.0"},
            "bizTransactionList": [
                {"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:{CP}000016:PO-{customer}"}
            ],
            "destinationList": [{"type": "owning_party", "destination": party}],
        },
        refs,
    )
    net.shipping.append((event_id, {unit[1]}, canonical_id(party)))
    net.add(
        {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "epcList": [unit[0]],
            "bizStep": "receiving",
            "bizLocation": {"id": f"urn:epc:id:sgln:{CP}.{100 + customer:05d}.0"},
        }
    )


def _declare_error(net: Network, raws: list[tuple[str, str]], inters: list[tuple[str, str]]) -> None:
    """A transformation naming the wrong input, declared an error; its corrective names the right one."""
    wrong_in, right_in, out = raws[-1], raws[0], inters[-1]
    wrong = {
        "type": "TransformationEvent",
        "inputQuantityList": [_q(wrong_in[0], 1.0)],
        "outputQuantityList": [_q(out[0], 1.0)],
        "bizStep": "commissioning",
    }
    wrong_id = net.add(wrong)
    corrective = _transform(net, [right_in], [(out[0], out[1], 1.0)], "commissioning")
    at = T0 + timedelta(minutes=7 * len(net.events))
    declaration = {
        "declarationTime": at.isoformat(),
        "reason": "incorrect_data",
        "correctiveEventIDs": [corrective],
    }
    original = next(e for e in net.events if e["eventID"] == wrong_id)
    net.events.append({**original, "errorDeclaration": declaration})
    net.declared = wrong_id


def generate(seed: int) -> Network:
    net = Network(random.Random(seed))
    raws = [net.lot(RAW, f"R{i}", "raw") for i in range(6)]
    for i, (_, cid) in enumerate(raws):
        net.lots[cid] = PlatformLot(RAW, f"R{i}", 100.0, supplier=f"SUP{i % 2}")
    inters = _level(net, raws, INTER, "inter", 7)
    products = _level(net, inters, PRODUCT, "product", 6)
    _declare_error(net, raws, inters)
    units: list[tuple[str, str]] = []
    for p in products:
        if net.rng.random() < 0.35:
            outs = [(*net.serial(), 1.0) for _ in range(3)]
        else:
            outs = [(*net.lot(PACK, f"K{len(units) + k}", "pack"), 20.0) for k in range(2)]
        _transform(net, [p], [(o, c, q) for o, c, q in outs], "commissioning")
        units += [(o, c) for o, c, _ in outs]
    for _, c in units:
        if net.kinds[c] == "pack" and net.rng.random() < 0.6:
            net.lots[c] = PlatformLot(PACK, c.rsplit("/", 1)[1], 20.0)
    net.rng.shuffle(units)
    pallets = []
    for k in range(0, len(units), 3):
        pallet = net.sscc("pallet")
        _aggregate(net, pallet, units[k : k + 3], "ADD", "packing")
        pallets.append((pallet, units[k : k + 3]))
    # Repack the first pallet's contents onto a new pallet.
    (old, moved), new = pallets[0], net.sscc("pallet")
    _aggregate(net, old, moved, "DELETE", "unpacking")
    _aggregate(net, new, moved, "ADD", "repacking")
    pallets[0] = (new, moved)
    for n, k in enumerate(range(0, len(pallets), 2)):
        container, group = net.sscc("container"), pallets[k : k + 2]
        _aggregate(net, container, [p for p, _ in group], "ADD", "loading")
        customer = n % 3
        carried = [c for _, kids in group for _, c in kids if c in net.lots]
        number = f"SH-{n}" if carried else None
        if number:
            net.shipments[number] = (f"CUS{customer}", carried)
            net.orders[f"SO-{n}"] = (f"CUS{customer}", carried)
        _ship(net, container, customer, number)
        _aggregate(net, container, [p for p, _ in group], "DELETE", "unloading")
    return net


def reach(
    net: Network, seeds: list[str], direction: str, depth: int | None = None
) -> dict[str, tuple[int, str]]:
    """identifier -> (hops, seed | object | carrier) by the model's own relations."""
    derived: dict[str, set[str]] = {}
    for out, ins in net.made_from.items():
        for i in ins:
            if direction == "forward":
                derived.setdefault(i, set()).add(out)
            else:
                derived.setdefault(out, set()).add(i)
    held_in: dict[str, set[str]] = {}
    for parent, kids in net.contains.items():
        for kid in kids:
            held_in.setdefault(kid, set()).add(parent)
    state = dict.fromkeys(seeds, "object")
    hops = dict.fromkeys(seeds, 0)
    frontier, hop = dict(state), 0
    while frontier and (depth is None or hop < depth):
        hop += 1
        after: dict[str, str] = {}
        for node, st in frontier.items():
            steps = [(n, "object") for n in derived.get(node, ())] + [
                (n, "carrier") for n in held_in.get(node, ())
            ]
            if st == "object":
                steps += [(n, "object") for n in net.contains.get(node, ())]
            for target, new in steps:
                if target not in state or (state[target] == "carrier" and new == "object"):
                    state[target] = new
                    hops.setdefault(target, hop)
                    after[target] = new
        frontier = after
    return {n: (hops[n], "seed" if hops[n] == 0 else state[n]) for n in hops}


@dataclass
class Loaded:
    """The platform's ids for the network's names."""

    ids: dict[str, str] = field(default_factory=dict)  # name (org/site code, order/shipment number) -> id
    lot_ids: dict[str, str] = field(default_factory=dict)  # canonical identifier -> platform lot id

    def names(self, ids: Any) -> set[str]:
        back = {v: k for k, v in self.ids.items()}
        return {back[i] for i in ids}


async def load(
    net: Network, client: Any, headers: dict[str, str], services: Any, tenant_id: uuid.UUID
) -> Loaded:
    """Create the platform's records (through the API) and store the events with their refs."""
    from supplyline.epcis import index_event, insert_events
    from tests.factories import post

    out = Loaded()
    for code, kind in [
        ("SUP0", "supplier"),
        ("SUP1", "supplier"),
        *((f"CUS{i}", "customer") for i in range(3)),
    ]:
        out.ids[code] = (
            await post(client, headers, "organizations", {"code": code, "name": code, "kind": kind})
        )["id"]
    for code in ("DC", "ST0", "ST1", "ST2"):
        body = {"code": code, "name": code, "kind": "warehouse" if code == "DC" else "store"}
        out.ids[code] = (await post(client, headers, "sites", body))["id"]
    products = {}
    for item in GTIN_ITEMS:
        body = {"sku": f"ITEM-{item}", "gtin": gtin(item), "name": f"Item {item}", "unit": "kg"}
        products[item] = (await post(client, headers, "products", body))["id"]
    for cid, lot in net.lots.items():
        body: dict[str, Any] = {
            "product_id": products[lot.item],
            "lot_code": lot.code,
            "quantity": lot.quantity,
            "unit": "kg",
        }
        if lot.supplier:
            body["supplier_organization_id"] = out.ids[lot.supplier]
        out.lot_ids[cid] = (await post(client, headers, "lots", body))["id"]
    for number, (customer, lots) in net.orders.items():
        lines = [
            {"product_id": products[net.lots[c].item], "lot_id": out.lot_ids[c], "quantity": 5, "unit": "kg"}
            for c in lots
        ]
        body = {
            "number": number,
            "kind": "sales",
            "organization_id": out.ids[customer],
            "from_site_id": out.ids["DC"],
            "lines": lines,
        }
        out.ids[number] = (await post(client, headers, "orders", body))["id"]
    for number, (customer, lots) in net.shipments.items():
        body = {
            "number": number,
            "origin_site_id": out.ids["DC"],
            "destination_site_id": out.ids[f"ST{customer[-1]}"],
            "lots": [{"lot_id": out.lot_ids[c], "quantity": 5, "unit": "kg"} for c in lots],
        }
        out.ids[number] = (await post(client, headers, "shipments", body))["id"]
    records = []
    for i, event in enumerate(net.events):
        record = index_event(event)
        record.refs = {(kind, uuid.UUID(out.ids[name])) for kind, name in net.refs.get(i, [])}
        records.append(record)
    async with services.uow() as uow:
        await insert_events(uow, tenant_id, records, source="capture", actor="test")
        await uow.commit()
    return out
