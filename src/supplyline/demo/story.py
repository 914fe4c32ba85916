"""The demo's story, told from the outside: one cold-chain loop as the API and the ERP show it.

``Story`` watches a tenant through its API key (and the mock ERP over HTTP) for one complete
loop on a shipment: the reading that crossed the rule's threshold, ``rule.condition_raised`` and
``shipment.temperature_exceeded`` with their correlation id, the alarm, the holds on the
shipment's lots (with the sellable stock before and after), the ledger checkpoints and their
verification, and the ERP's acknowledgements with the allocations now held. Each step becomes a
``Beat`` once the one before it was seen; everything is matched by the correlation id of the
reading, so what an earlier run left behind never counts.

A lot keeps one active hold, so a loop can only show new holds on lots that are not on hold:
``prepare`` releases the holds an earlier run left on the shipment's lots (an admin key
approves), which also goes to the ERP as ``release`` messages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from supplyline import trace
from supplyline.demo import plan_beat
from supplyline.demo.facts import RULE, SHIPMENT
from supplyline.sim.discovery import problem_detail

RAISED = "supplyline.rule.condition_raised.v1"
EXCEEDED = "supplyline.shipment.temperature_exceeded.v1"
HELD = "supplyline.lot.held.v1"


class DemoError(Exception):
    """Why the demo cannot go on, in a sentence a person can act on."""


STEPS = ("reading", "events", "alarm", "holds", "planning", "checkpoints", "erp")
WAITING = {
    "reading": "no reading has crossed the rule's threshold yet (rule.condition_raised)",
    "events": "shipment.temperature_exceeded has not been published (the rules.actions consumer)",
    "alarm": "no alarm was raised for the reading",
    "holds": "the shipment's lots were not put on hold, or the inventory still counts them sellable",
    "planning": "no re-forecast on lot.held yet, or the recommendation does not count the held stock",
    "checkpoints": "the ledger has no checkpoint of the exception and the holds, or does not verify",
    "erp": "the ERP has not acknowledged the exception and every hold",
}


@dataclass(frozen=True)
class Beat:
    """One step of the story: a title and (label, text) rows, ``at_s`` after the watch began."""

    step: int
    name: str
    title: str
    rows: tuple[tuple[str, str], ...]
    at_s: float


@dataclass
class _Seen:
    raised: dict[str, Any] | None = None
    holds: list[dict[str, Any]] = field(default_factory=list)


def hhmmss(iso: str) -> str:
    """The time of day of an ISO 8601 instant, to the millisecond, in UTC as stored."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%H:%M:%S.%f")[:-3] + " UTC"


class Story:
    def __init__(
        self,
        api: httpx.AsyncClient,
        erp: httpx.AsyncClient,
        api_key: str,
        shipment: str = SHIPMENT,
        rule: str = RULE,
    ) -> None:
        self.api, self.erp = api, erp
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.number, self.rule_code = shipment, rule
        self.beats: list[Beat] = []
        self.seen = _Seen()
        self.started = time.monotonic()
        self.shipment: dict[str, Any] = {}
        self.rule: dict[str, Any] = {}
        self.lots: dict[str, str] = {}  # lot id -> lot code
        self.sites: dict[str, str] = {}  # site id -> site code
        self.before: dict[str, dict[str, Any]] = {}  # inventory position id -> position at start
        self.after_event = 0  # rule.condition_raised events up to this log position are history
        self.after_seq = 0  # so are checkpoints up to this seq
        self.plan = plan_beat.PlanView()

    @property
    def complete(self) -> bool:
        return len(self.beats) == len(STEPS)

    @property
    def correlation_id(self) -> str | None:
        return self.seen.raised["correlationid"] if self.seen.raised else None

    def missing(self) -> str:
        """What the story waits for, in a sentence (why a loop did not complete)."""
        if self.complete:
            return "nothing: the loop is complete"
        return WAITING[STEPS[len(self.beats)]]

    # ---- before the readings -----------------------------------------------------------------

    async def prepare(self) -> list[str]:
        """Find the shipment, its lots and the rule; remember where history ends; release the
        holds an earlier run left on the lots. Returns what it did, a sentence each."""
        found = await self._items("/v1/shipments", number=self.number)
        if not found:
            raise DemoError(f"the tenant has no shipment {self.number}")
        self.shipment = found[0]
        rules = [r for r in await self._items("/v1/rules", code=self.rule_code) if r.get("enabled")]
        if not rules:
            raise DemoError(
                f"the tenant has no enabled rule '{self.rule_code}': a demo tenant seeded by an older "
                "version lacks it (remove the data dir, or create the rule through POST /v1/rules)"
            )
        self.rule = rules[0]
        self.sites = {s["id"]: s["code"] for s in await self._items("/v1/sites")}
        for line in self.shipment["lots"]:
            lot = await self._get(f"/v1/lots/{line['lot_id']}")
            self.lots[lot["id"]] = lot["lot_code"]
        notes = await self._release_earlier_holds()
        for lot_id in self.lots:
            for p in await self._items("/v1/inventory-positions", lot_id=lot_id):
                self.before[p["id"]] = p
        await self._plan_baseline()
        self.after_event = await self._last_position()
        self.after_seq = await self._last_seq()
        self.started = time.monotonic()
        return notes

    async def _plan_baseline(self) -> None:
        """Planning's view of each product the lots are of, at the site the shipment leaves
        (where its demand is), before the loop."""
        self.plan.names.update(self.sites)
        origin = self.shipment.get("origin_site_id")
        for p in self.before.values():
            if origin and p["site_id"] != origin:
                continue
            key = (p["product_id"], p["site_id"])
            if key not in self.plan.series:
                self.plan.series.append(key)
                self.plan.names[p["product_id"]] = (await self._get(f"/v1/products/{p['product_id']}"))["sku"]
        await plan_beat.baseline(self.plan, self._get_or_none, self._post)

    async def _release_earlier_holds(self) -> list[str]:
        notes = []
        for lot_id, code in self.lots.items():
            for hold in await self._items("/v1/holds", status="active", lot_id=lot_id):
                reason = "demo restart: inspected and released so the loop can run again"
                await self._call("POST", f"/v1/holds/{hold['id']}/release", json={"reason": reason})
                notes.append(
                    f"released the hold on lot {code} left by an earlier run (held by {hold['held_by']})"
                )
        return notes

    async def _last_position(self) -> int:
        after = 0
        while True:
            page = await self._get("/v1/events", type=RAISED, after=after, limit=1000)
            if not page["items"]:
                return after
            after = page["items"][-1]["position"]

    async def _last_seq(self) -> int:
        after = 0
        while True:
            page = await self._get("/v1/ledger/checkpoints", after=after, limit=1000)
            if not page["items"]:
                return after
            after = page["items"][-1]["seq"]

    # ---- watching ------------------------------------------------------------------------------

    async def poll(self) -> list[Beat]:
        """The beats that became visible since the last poll, in story order."""
        new: list[Beat] = []
        steps = (
            self._reading,
            self._events,
            self._alarm,
            self._holds,
            self._planning,
            self._checkpoints,
            self._erp,
        )
        while not self.complete:
            rows = await steps[len(self.beats)]()
            if rows is None:
                break
            title, body = rows
            n = len(self.beats)
            beat = Beat(n + 1, STEPS[n], title, tuple(body), time.monotonic() - self.started)
            self.beats.append(beat)
            new.append(beat)
        return new

    async def _reading(self) -> tuple[str, list[tuple[str, str]]] | None:
        devices = {d["device_id"] for d in self.shipment["devices"] if not d.get("unassigned_at")}
        page = await self._get("/v1/events", type=RAISED, after=self.after_event, limit=1000)
        for e in page["items"]:
            d = e["data"]
            if d["rule_id"] == self.rule["id"] and d["device_id"] in devices and not d["late"]:
                self.seen.raised = e
                break
        else:
            if page["items"]:
                self.after_event = page["items"][-1]["position"]
            return None
        d = self.seen.raised["data"]
        ms = int(datetime.fromisoformat(d["at"]).timestamp() * 1000)
        series = await self._get("/v1/telemetry", device=d["device"], metric=d["metric"], **{"from": d["at"]})
        stored = any(p[0] == ms for s in series["series"] for p in s["points"])
        return f"Reading: {d['device']} measured {d['value']:g} C", [
            ("device", f"{d['device']} (tracker of {self.number})"),
            ("value", f"{d['metric']} = {d['value']:g}, above {self._threshold()}"),
            ("time", hhmmss(d["at"])),
            ("stored", "yes, in GET /v1/telemetry" if stored else "accepted (not yet queryable)"),
        ]

    def _threshold(self) -> str:
        c = self.rule["condition"]
        return (
            f"{c.get('value', '?')} (rule {self.rule_code})"
            if c.get("kind") == "threshold"
            else self.rule_code
        )

    async def _events(self) -> tuple[str, list[tuple[str, str]]] | None:
        cid = self.correlation_id
        page = await self._get("/v1/events", correlation_id=cid, limit=1000)
        exceeded = [e for e in page["items"] if e["type"] == EXCEEDED]
        if not exceeded:
            return None
        raised = self.seen.raised or {}
        severity = raised["data"]["severity"]
        counts: dict[str, int] = {}
        for e in page["items"]:
            counts[_short(e["type"])] = counts.get(_short(e["type"]), 0) + 1
        together = ", ".join(f"{t}{f' x{n}' if n > 1 else ''}" for t, n in counts.items())
        return "Events: rule.condition_raised -> shipment.temperature_exceeded", [
            ("correlation", str(cid)),
            (
                "rule",
                f"#{raised['position']} rule.condition_raised {self.rule_code} ({severity})",
            ),
            *(
                ("shipment", f"#{e['position']} shipment.temperature_exceeded {e['data']['shipment_number']}")
                for e in exceeded
            ),
            ("together", f"{len(page['items'])} events with this correlation id: {together}"),
        ]

    async def _alarm(self) -> tuple[str, list[tuple[str, str]]] | None:
        items = await self._items("/v1/alarms", rule_id=self.rule["id"], shipment_id=self.shipment["id"])
        mine = [a for a in items if a.get("correlation_id") == self.correlation_id]
        if not mine:
            return None
        a = mine[0]
        sla = a.get("sla") or {}
        if sla.get("ack_due_at"):
            left = f"{sla['remaining_s']:.0f} s left"
            due = f"acknowledge by {hhmmss(sla['ack_due_at'])} ({left}), then it escalates"
        else:
            due = "no escalation policy applies"
        return f"Alarm: {a['severity']} {a['type']} on {a['originator']}", [
            ("alarm", f"{a['id']} {a['status']}"),
            ("SLA", due),
        ]

    async def _holds(self) -> tuple[str, list[tuple[str, str]]] | None:
        holds = await self._items("/v1/holds", status="active", shipment_id=self.shipment["id"])
        mine = [h for h in holds if h.get("correlation_id") == self.correlation_id]
        if not mine or {h["lot_id"] for h in mine} != set(self.lots):
            return None
        rows = []
        for h in sorted(mine, key=lambda h: self.lots[h["lot_id"]]):
            rows.append(
                (f"lot {self.lots[h['lot_id']]}", f"quarantined, {h['quantity']:g} {h['unit']} on hold")
            )
        for pid, was in self.before.items():
            now = await self._get(f"/v1/inventory-positions/{pid}")
            if now["held"] <= was["held"] and now["on_hand"] > 0:
                return None  # the positions are updated with the hold; not yet visible
            where = self.sites.get(now["site_id"], now["site_id"])
            rows.append(
                (
                    f"sellable {self.lots.get(now['lot_id'], '')} @ {where}",
                    f"{was['sellable']:g} -> {now['sellable']:g} {now['unit']} (held {now['held']:g})",
                )
            )
        self.seen.holds = mine
        return f"Holds: {len(mine)} lot(s) of {self.number} quarantined", rows

    async def _planning(self) -> tuple[str, list[tuple[str, str]]] | None:
        return await plan_beat.observe(self.plan, self._get_or_none, self._post)

    async def _checkpoints(self) -> tuple[str, list[tuple[str, str]]] | None:
        page = await self._get("/v1/ledger/checkpoints", after=self.after_seq, limit=1000)
        mine = [c for c in page["items"] if c["correlation_id"] == self.correlation_id]
        kinds = [c["event_type"] for c in mine]
        if EXCEEDED not in kinds or kinds.count(HELD) < len(self.seen.holds):
            return None
        verified = await self._get("/v1/ledger/verify")
        if not verified["ok"]:
            problems = "; ".join(p["message"] for p in verified["problems"][:3])
            raise DemoError(f"the ledger does not verify: {problems}")
        rows = [(f"seq {c['seq']}", f"{c['hash'][:12]}  {_short(c['event_type'])}") for c in mine]
        rows.append(("verify", f"ok: {verified['checked']} checkpoint(s) chained and matching the event log"))
        rows.extend(await self._tree_head(mine[-1]))
        return f"Ledger: {len(mine)} checkpoint(s), signed Merkle tree head verified", rows

    async def _tree_head(self, newest: dict[str, Any]) -> list[tuple[str, str]]:
        """Check the signed tree head and the newest checkpoint's place in it as a partner
        would: with the published key and the RFC 9162 verification alone."""
        verifier = trace.Verifier.parse((await self._get("/v1/ledger/public-key"))["verifier_key"])
        head = trace.TreeHead.open((await self._get("/v1/ledger/tree-head"))["checkpoint"], verifier)
        proof = await self._get("/v1/ledger/proofs/inclusion", seq=newest["seq"], tree_size=head.size)
        # An EPCIS event's leaf is its Event Hash ID; any other event's, the ni URI of its hash.
        stored = newest.get("leaf")
        leaf = trace.merkle.leaf_hash(stored.encode()) if stored else trace.leaf_hash_of(newest["event_hash"])
        path = [bytes.fromhex(h) for h in proof["proof"]]
        if not trace.merkle.verify_inclusion(leaf, newest["seq"] - 1, head.size, path, head.root):
            raise DemoError(f"checkpoint {newest['seq']} is not proven in the signed tree head")
        signer = f"signed by {verifier.name} (Ed25519, C2SP checkpoint)"
        return [
            ("tree head", f"{head.size} leaves, root {head.root.hex()[:12]}, {signer}: verified"),
            ("inclusion", f"seq {newest['seq']} proven in it by {len(path)} hash(es) (RFC 9162)"),
        ]

    async def _erp(self) -> tuple[str, list[tuple[str, str]]] | None:
        try:
            r = await self.erp.get("/erp/v1/messages")
            r.raise_for_status()
            messages = r.json()["items"]
            a = await self.erp.get("/erp/v1/allocations")
            a.raise_for_status()
            allocations = a.json()["items"]
        except (httpx.HTTPError, ValueError, KeyError):
            return None
        mine = [m for m in messages if m["message"].get("correlation_id") == self.correlation_id]
        exceptions = [m for m in mine if m["type"] == "exception"]
        holds = [m for m in mine if m["type"] == "hold"]
        held = {x["lot_id"]: x for x in allocations if x["status"] == "held" and x["lot_id"] in self.lots}
        if not exceptions or len(holds) < len(self.seen.holds) or set(held) != set(self.lots):
            return None
        rows = [("exception", f"{m['ack']} for {self.number}") for m in exceptions]
        rows += [("hold", f"{m['ack']} lot {m['message']['lot']['lot_code']}") for m in holds]
        rows += [
            (
                f"allocation {x['lot_code']}",
                f"{x['status']} ({x['quantity']:g} {x['unit']}, hold {x['hold_id']})",
            )
            for x in sorted(held.values(), key=lambda x: x["lot_code"])
        ]
        return "ERP: acknowledged, allocations held", rows

    # ---- HTTP ----------------------------------------------------------------------------------

    async def _items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params = {"limit": 500, **params}
        while True:
            page = await self._get(path, **params)
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    async def _get(self, path: str, **params: Any) -> Any:
        return (await self._call("GET", path, params=params)).json()

    async def _get_or_none(self, path: str, *, missing_ok: bool = False, **params: Any) -> Any:
        """``_get``, or None for a 404 when ``missing_ok`` (a forecast not made yet)."""
        if missing_ok:
            try:
                r = await self.api.get(path, headers=self.headers, params=params)
            except httpx.TransportError as exc:
                raise DemoError(f"cannot reach the API at {self.api.base_url}: {exc}") from None
            if r.status_code == 404:
                return None
        return await self._get(path, **params)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return (await self._call("POST", path, json=body)).json()

    async def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = await self.api.request(method, path, headers=self.headers, **kw)
        except httpx.TransportError as exc:
            raise DemoError(f"cannot reach the API at {self.api.base_url}: {exc}") from None
        if r.status_code >= 400:
            raise DemoError(f"{method} {path} answered {r.status_code}: {problem_detail(r)}")
        return r


def _short(event_type: str) -> str:
    """supplyline.lot.held.v1 -> lot.held"""
    return event_type.removeprefix("supplyline.").rsplit(".v", 1)[0]
