"""The single place that confines a query to what a caller may see.

Every read and write of a tenant resource goes through ``scoped``; the partner-access work
extends this function (grants by organisation relationship), not the call sites.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, Table

from supplyline.kernel.scope import Scope

S = TypeVar("S", bound=Select[Any])


def scoped(stmt: S, table: Table, scope: Scope) -> S:
    return stmt.where(table.c.tenant_id == scope.require_tenant())
