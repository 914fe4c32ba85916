"""What the evaluator remembers between batches: each tenant's live rules, compiled, and the
rule states of (rule, device) pairs; both mirror rows of ``rules_rule`` and ``rules_state``,
and this module holds the SQL that reads them (the states a batch changed are written by
``rules.effects``, with the events they cause).

Only non-default states are kept: a (rule, device) pair absent here starts from ``State()``,
so a tenant of 10,000 quiet devices costs nothing per device.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.kernel.scope import Scope
from supplyline.rules.compiled import RuleSet
from supplyline.rules.conditions import Area
from supplyline.rules.devices import Devices
from supplyline.rules.engine import State
from supplyline.rules.tables import rules_rule, rules_state

Key = tuple[uuid.UUID, uuid.UUID]  # (rule, device)


class RuleStates:
    """Non-default states by (rule, device), and each tenant's devices (``Devices``) with a
    flag on those that have a state, so that a batch looks states up for these only."""

    def __init__(self) -> None:
        self._states: dict[Key, State] = {}
        self._loaded: set[uuid.UUID] = set()  # tenants whose stored states are in _states
        self._stated: dict[uuid.UUID, set[uuid.UUID]] = {}  # rule -> devices with a state
        self._rules_of: dict[uuid.UUID, set[uuid.UUID]] = {}  # device -> rules with a state
        self._devices: dict[uuid.UUID, Devices] = {}

    def clear(self) -> None:
        self._states.clear()
        self._stated.clear()
        self._rules_of.clear()
        self._loaded.clear()
        self._devices.clear()

    def devices(self, tenant_id: uuid.UUID) -> Devices:
        return self._devices.setdefault(tenant_id, Devices())

    def get(self, rule_id: uuid.UUID, device: uuid.UUID) -> State | None:
        return self._states.get((rule_id, device))

    def of(self, rule: Mapping[str, Any], device: uuid.UUID) -> State:
        """The pair's state, a fresh one from now on if it had none."""
        key = (rule["id"], device)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = State()
            self._mark(rule["tenant_id"], rule["id"], [device])
        return state

    def restart(self, rule_id: uuid.UUID, device: uuid.UUID, state: State) -> State:
        """The pair starts again from ``state`` (a budget counted for another shipment)."""
        self._states[(rule_id, device)] = state
        return state

    def rules_of(self, device: uuid.UUID) -> set[uuid.UUID]:
        return self._rules_of.get(device, set())

    def stated(self, rule_id: uuid.UUID) -> Iterator[tuple[uuid.UUID, State]]:
        """The devices with a state for the rule, and their states; a state may be stepped, and
        the pairs may change, while this is iterated (it walks a copy of the devices)."""
        for device in list(self._stated.get(rule_id, ())):
            yield device, self._states[(rule_id, device)]

    def _mark(self, tenant_id: uuid.UUID, rule_id: uuid.UUID, devices: list[uuid.UUID]) -> None:
        self._stated.setdefault(rule_id, set()).update(devices)
        for device in devices:
            self._rules_of.setdefault(device, set()).add(rule_id)
        devs = self.devices(tenant_id)
        rows = devs.rows_of(devices)  # first: it may grow ``stated``
        devs.stated[rows] = True

    async def load(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
        """Every stored state of the tenant, once: absent pairs start fresh."""
        if tenant_id in self._loaded:
            return
        st = rules_state
        stmt = select(st.c.rule_id, st.c.device_id, st.c.state).where(st.c.tenant_id == tenant_id)
        for row in await conn.execute(stmt):
            if row.state:
                self._states.setdefault((row.rule_id, row.device_id), State.from_dict(row.state))
                self._mark(tenant_id, row.rule_id, [row.device_id])
        self._loaded.add(tenant_id)

    async def forget_changed(
        self, conn: AsyncConnection, before: list[dict[str, Any]], after: list[dict[str, Any]]
    ) -> None:
        """A rule whose condition changed (or that was switched off and on) starts afresh: its
        states belong to the old definition. Its open alarms are cleared with the change as
        the reason by the actions consumer, so nothing in progress is dropped silently."""
        old = {r["id"]: (r["condition"], r["enabled"]) for r in before}
        stale = [r["id"] for r in after if r["id"] in old and old[r["id"]] != (r["condition"], r["enabled"])]
        stale += [rule_id for rule_id in old if rule_id not in {r["id"] for r in after}]
        for rule_id in stale:
            for device in self._stated.pop(rule_id, set()):
                self._states.pop((rule_id, device), None)
                self._rules_of.get(device, set()).discard(rule_id)
        if stale:
            await conn.execute(rules_state.delete().where(rules_state.c.rule_id.in_(stale)))


@dataclass
class _Loaded:
    checked_at: datetime  # when the rules were last compared with the database
    fingerprint: tuple[int, int]
    rules: RuleSet


class RuleCache:
    """Each tenant's live rules, compiled (``RuleSet``). They are compared with the database
    every ``ttl`` seconds by a fingerprint of ids and versions, and compiled again only when
    it changed: a batch every few milliseconds must not read every rule."""

    def __init__(self, states: RuleStates, ttl: float) -> None:
        self.states = states
        self.ttl = ttl
        self._tenants: dict[uuid.UUID, _Loaded] = {}

    def clear(self) -> None:
        self._tenants.clear()

    def loaded(self) -> list[RuleSet]:
        return [t.rules for t in self._tenants.values()]

    async def get(self, conn: AsyncConnection, tenant_id: uuid.UUID, now: datetime) -> RuleSet | None:
        """The tenant's live rules as of ``now``; None when it has none."""
        found = self._tenants.get(tenant_id)
        # A clock set back (negative age) counts as expired rather than as fresh for ever.
        if found is not None and 0 <= (now - found.checked_at).total_seconds() < self.ttl:
            return found.rules if found.rules.rules else None
        r = rules_rule
        fingerprint_q = select(r.c.id, r.c.version).where(
            r.c.tenant_id == tenant_id, r.c.archived_at.is_(None)
        )
        fingerprint = tuple(sorted((row.id.int, row.version) for row in await conn.execute(fingerprint_q)))
        fp = (len(fingerprint), hash(fingerprint))
        if found is not None and found.fingerprint == fp:
            found.checked_at = now
            return found.rules if found.rules.rules else None
        stmt = select(r).where(r.c.tenant_id == tenant_id, r.c.archived_at.is_(None))
        rules = [dict(row) for row in (await conn.execute(stmt)).mappings()]
        sites = [uuid.UUID(s) for s in _geofence_sites(rules)]
        circles = await registry.site_circles(conn, Scope.system(tenant_id), sites) if sites else {}
        areas = {str(k): Area(circle=v, polygon=None) for k, v in circles.items()}
        self._tenants[tenant_id] = _Loaded(now, fp, RuleSet.build(rules, areas))
        if found is not None:
            await self.states.forget_changed(conn, found.rules.rules, rules)
        if not rules:
            return None
        await self.states.load(conn, tenant_id)
        return self._tenants[tenant_id].rules

    @staticmethod
    async def live_tenants(conn: AsyncConnection) -> list[uuid.UUID]:
        """Tenants with a rule that is not archived."""
        r = rules_rule
        found = await conn.execute(select(r.c.tenant_id).where(r.c.archived_at.is_(None)).distinct())
        return [tenant_id for (tenant_id,) in found.all()]


def _geofence_sites(rules: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()

    def walk(node: Mapping[str, Any]) -> None:
        if node.get("kind") == "geofence" and node.get("site_id"):
            found.add(str(node["site_id"]))
        for child in node.get("conditions") or ():
            walk(child)

    for rule in rules:
        walk(rule["condition"])
    return found
