"""Visibility rules are carried by the scope that needs them, never looked up module-wide."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from supplyline.bootstrap import visibility_rules
from supplyline.kernel.scope import Grant, Reach, ReachKind, Scope
from supplyline.registry.tables import registry_site
from supplyline.resources import scoped


def _narrowed(visibility: object | None) -> Scope:
    tenant = uuid.uuid4()
    reach = Reach(ReachKind.SITES, site_ids=frozenset({uuid.uuid4()}))
    return Scope(tenant, (Grant("site_operator", frozenset({"sites:read"}), reach),), visibility=visibility)


def test_a_narrowed_scope_without_rules_is_refused_rather_than_left_open() -> None:
    with pytest.raises(LookupError, match="carries no visibility rules"):
        scoped(select(registry_site), registry_site, _narrowed(None))


def test_the_rules_a_scope_carries_narrow_its_queries() -> None:
    sql = str(scoped(select(registry_site), registry_site, _narrowed(visibility_rules())))
    assert "registry_site.id IN" in sql


def test_the_platform_scopes_need_no_rules() -> None:
    stmt = scoped(select(registry_site), registry_site, Scope.system(uuid.uuid4()))
    assert "tenant_id" in str(stmt)
