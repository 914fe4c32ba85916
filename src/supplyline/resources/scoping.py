"""The single place that confines a query to what a caller may see.

Every read and write of tenant data goes through ``scoped``: the tenant, then, for a caller
whose grants reach less than the whole tenant (a site subtree, a partner organisation's
relationships), the visibility rules each capability declares for its tables. Rules are data:
``Visibility`` entries, gathered into one ``VisibilityRules`` by the composition root and carried
by every narrowed Scope. A table without a rule shows a narrowed caller nothing, so a new table
cannot leak by being forgotten.

A rule answers, for one reach, a condition on its table's rows (or None: nothing). Rules that
follow a relationship ask for the rows of another resource in the same reach with
``rules.in_reach("shipments", reach, tenant)``, so each capability only names its own columns.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, false, or_, select, true

from supplyline.kernel.scope import Action, Reach, ReachKind, Scope

S = TypeVar("S", bound=Select[Any])


@dataclass(frozen=True)
class Visibility:
    """How rows of ``table`` (permission resource ``resource``) relate to a reach. Several
    entries for one table are OR-ed: a capability above can add a relationship (logistics adds
    "devices travelling with the carrier's shipments" to the registry's devices)."""

    resource: str
    table: Table | None  # None: the table of ``resource``, declared by the capability owning it
    rule: Rule


class VisibilityRules:
    """Every capability's visibility entries, gathered once by the composition root and carried
    by each narrowed Scope (``Scope.visibility``): nothing module-wide to fill or forget."""

    def __init__(self, entries: Sequence[Visibility]) -> None:
        self.by_table: dict[str, list[Visibility]] = {}
        self.tables: dict[str, Table] = {}
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
        # Built once per table, reach and tenant, then reused by every request of that caller:
        # SQL elements are immutable, and the rules that follow relationships nest selects
        # several levels deep (a partner's event filter is hundreds of elements: about 5 ms to
        # build, more than the query itself took). So a rule must be pure: its SQL follows
        # from the table, reach and tenant.
        self._cached = functools.lru_cache(maxsize=4096)(self._build)

    def resource_of(self, table: Table) -> str | None:
        entries = self.by_table.get(table.name)
        return entries[0].resource if entries else None

    def condition(self, table: Table, reach: Reach, tenant: uuid.UUID) -> ColumnElement[bool]:
        """Rows of ``table`` inside ``reach``: the OR of its rules (false without one)."""
        if reach.kind is ReachKind.TENANT:
            return true()
        return self._cached(table, reach, tenant)

    def _build(self, table: Table, reach: Reach, tenant: uuid.UUID) -> ColumnElement[bool]:
        rules = self.by_table.get(table.name, ())
        parts = [c for v in rules if (c := v.rule(table, reach, tenant, self)) is not None]
        return or_(*parts) if parts else false()

    def in_reach(self, resource: str, reach: Reach, tenant: uuid.UUID) -> Select[Any]:
        """The ids of a resource's rows inside one reach: what relationship rules join on."""
        table = self.tables.get(resource)
        if table is None:
            raise LookupError(f"no visibility rule declares resource '{resource}'")
        return select(table.c.id).where(table.c.tenant_id == tenant, self.condition(table, reach, tenant))


# A rule answers, for one reach, a condition on its table's rows (None: nothing); ``rules`` is
# the whole set, for rules that follow a relationship (``rules.in_reach("shipments", ...)``).
Rule = Callable[[Table, Reach, uuid.UUID, VisibilityRules], ColumnElement[bool] | None]


def rules_of(scope: Scope) -> VisibilityRules:
    rules = scope.visibility
    if not isinstance(rules, VisibilityRules):
        # Narrowed scopes are minted by access with the rules; one without them is a bug.
        raise LookupError(f"the scope of {scope.actor} is narrowed but carries no visibility rules")
    return rules


def reach_condition(
    table: Table, scope: Scope, action: str = Action.READ, resource: str | None = None
) -> ColumnElement[bool] | None:
    """The narrowing of ``scope`` on ``table``; None when the caller sees the whole tenant."""
    tenant = scope.require_tenant()
    if scope.visibility is None and all(g.reach.kind is ReachKind.TENANT for g in scope.grants):
        # The platform's own scopes (Scope.system: every grant, over the whole tenant) are not
        # minted with the rules and need none: nothing of theirs is narrowed.
        if resource is None:
            return None
        return None if scope.reaches(resource, action) is None else false()
    rules = rules_of(scope)
    name = resource or rules.resource_of(table)
    if name is None:
        # No rule: only a caller with some tenant-wide grant sees these rows.
        wide = any(g.reach.kind is ReachKind.TENANT for g in scope.grants)
        return None if wide else false()
    reaches = scope.reaches(name, action)
    if reaches is None:
        return None
    if not reaches:
        return false()
    return or_(*(rules.condition(table, r, tenant) for r in reaches))


def scoped(stmt: S, table: Table, scope: Scope, action: str = Action.READ, resource: str | None = None) -> S:
    """``stmt`` confined to the caller's tenant and to the rows their grants reach."""
    stmt = stmt.where(table.c.tenant_id == scope.require_tenant())
    narrowing = reach_condition(table, scope, action, resource)
    return stmt if narrowing is None else stmt.where(narrowing)
