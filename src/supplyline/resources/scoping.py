"""The single place that confines a query to what a caller may see.

Every read and write of tenant data goes through ``scoped``: the tenant, then, for a caller
whose grants reach less than the whole tenant (a site subtree, a partner organisation's
relationships), the visibility rules each capability declares for its tables. Rules are data
(``Visibility`` entries installed by the composition root); a table without a rule shows a
narrowed caller nothing, so a new table cannot leak by being forgotten.

A rule answers, for one reach, a condition on its table's rows (or None: nothing). Rules that
follow a relationship ask for the rows of another resource in the same reach with
``in_reach("shipments", reach, tenant)``, so each capability only names its own columns.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, false, or_, select, true

from supplyline.kernel.scope import Action, Reach, ReachKind, Scope

S = TypeVar("S", bound=Select[Any])
Rule = Callable[[Table, Reach, uuid.UUID], ColumnElement[bool] | None]


@dataclass(frozen=True)
class Visibility:
    """How rows of ``table`` (permission resource ``resource``) relate to a reach. Several
    entries for one table are OR-ed: a capability above can add a relationship (logistics adds
    "devices travelling with the carrier's shipments" to the registry's devices)."""

    resource: str
    table: Table | None  # None: the table of ``resource``, declared by the capability owning it
    rule: Rule


class _Rules:
    def __init__(self) -> None:
        self.by_table: dict[str, list[Visibility]] = {}
        self.tables: dict[str, Table] = {}

    def install(self, entries: list[Visibility]) -> None:
        for v in entries:
            if v.table is not None:
                self.tables.setdefault(v.resource, v.table)
        for v in entries:
            table = v.table if v.table is not None else self.tables.get(v.resource)
            if table is None:
                raise ValueError(f"a visibility rule adds to '{v.resource}', which no capability declares")
            known = self.by_table.setdefault(table.name, [])
            if v not in known:
                known.append(v)


RULES = _Rules()


def install(entries: list[Visibility]) -> None:
    """Add visibility rules (the composition root calls this with every capability's)."""
    RULES.install(entries)
    _condition.cache_clear()


def resource_of(table: Table) -> str | None:
    entries = RULES.by_table.get(table.name)
    return entries[0].resource if entries else None


def condition(table: Table, reach: Reach, tenant: uuid.UUID) -> ColumnElement[bool]:
    """Rows of ``table`` inside ``reach``: the OR of its rules (false without one)."""
    if reach.kind is ReachKind.TENANT:
        return true()
    return _condition(table, reach, tenant)


# Built once per table, reach and tenant, then reused by every request of that caller: SQL
# elements are immutable, and the rules that follow relationships nest selects several levels
# deep (a partner's event filter is hundreds of elements: about 5 ms to build, more than the
# query itself took). So a rule must be pure: its SQL follows from the table, reach and tenant.
@functools.lru_cache(maxsize=4096)
def _condition(table: Table, reach: Reach, tenant: uuid.UUID) -> ColumnElement[bool]:
    parts = [c for v in RULES.by_table.get(table.name, ()) if (c := v.rule(table, reach, tenant)) is not None]
    return or_(*parts) if parts else false()


def in_reach(resource: str, reach: Reach, tenant: uuid.UUID) -> Select[Any]:
    """The ids of a resource's rows inside one reach: what relationship rules join on."""
    table = RULES.tables.get(resource)
    if table is None:
        raise LookupError(f"no visibility rule declares resource '{resource}'")
    return select(table.c.id).where(table.c.tenant_id == tenant, condition(table, reach, tenant))


def reach_condition(
    table: Table, scope: Scope, action: str = Action.READ, resource: str | None = None
) -> ColumnElement[bool] | None:
    """The narrowing of ``scope`` on ``table``; None when the caller sees the whole tenant."""
    tenant = scope.require_tenant()
    name = resource or resource_of(table)
    if name is None:
        # No rule: only a caller with some tenant-wide grant sees these rows.
        wide = any(g.reach.kind is ReachKind.TENANT for g in scope.grants)
        return None if wide else false()
    reaches = scope.reaches(name, action)
    if reaches is None:
        return None
    if not reaches:
        return false()
    return or_(*(condition(table, r, tenant) for r in reaches))


def scoped(stmt: S, table: Table, scope: Scope, action: str = Action.READ, resource: str | None = None) -> S:
    """``stmt`` confined to the caller's tenant and to the rows their grants reach."""
    stmt = stmt.where(table.c.tenant_id == scope.require_tenant())
    narrowing = reach_condition(table, scope, action, resource)
    return stmt if narrowing is None else stmt.where(narrowing)
