"""Roles as data: the built-in ones, and checking the permissions of custom ones.

A permission is ``resource:action``. Resources are the catalog's (``shipments``, ``assets``...)
plus the capabilities that are not catalog resources (``telemetry``, ``alarms``...) and five
sensitive ones a wildcard does not cover (``access``, ``audit``, ``commercial``: prices, costs
and contract terms, ``governance``: retention and legal holds, ``quotas``). Built-in roles live
in code so that an upgrade can extend them; custom roles are rows a tenant admin composes from
the same vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import ALL, SENSITIVE, Action

# Capabilities addressed by permission that are not resources of the catalog.
SERVICE_RESOURCES = (
    "telemetry",
    "integrations",
    "webhooks",
    "events",
    "alarms",
    "holds",
    "work-orders",
    "deliveries",
    "ledger",
    "dead-letters",
    "imports",
    "governance",
    "epcis",
    "traceability",
    "planning",
)
ACTIONS = frozenset(a.value for a in Action)

# What a partner's people may look at; the reach (their organisation's relationships) decides
# which rows.
PARTNER_READ = (
    "organizations",
    "sites",
    "assets",
    "asset-types",
    "devices",
    "products",
    "lots",
    "orders",
    "shipments",
    "telemetry",
    "events",
    "alarms",
    "holds",
    "work-orders",
    "epcis",
)
OPERATIONS = (
    "organizations",
    "regions",
    "sites",
    "zones",
    "asset-types",
    "assets",
    "device-profiles",
    "devices",
    "products",
    "lots",
    "orders",
    "shipments",
    "inventory-positions",
    "telemetry",
    "events",
    "alarms",
    "holds",
    "work-orders",
    "epcis",
    "traceability",
    "planning",
)


def _perms(read: Iterable[str] = (), write: Iterable[str] = (), *extra: str) -> frozenset[str]:
    return frozenset([*(f"{r}:read" for r in read), *(f"{r}:write" for r in write), *extra])


@dataclass(frozen=True)
class RoleDef:
    code: str
    name: str
    permissions: frozenset[str]
    description: str = ""
    partner: bool = False  # meant for people of partner organisations (reach: their relationships)


BUILT_IN: dict[str, RoleDef] = {
    r.code: r
    for r in (
        RoleDef("tenant_admin", "Tenant administrator", ALL, "Everything in the tenant, access included."),
        RoleDef(
            "operations_manager",
            "Operations manager",
            _perms(
                ["*"],
                [*OPERATIONS, "rules", "escalation-policies", "imports", "dead-letters", "webhooks"],
                "holds:approve",
                "commercial:read",
                "integrations:read",
                "integrations:write",
            ),
            "Runs the operation: every operational record, rules, approvals of hold releases.",
        ),
        RoleDef(
            "site_operator",
            "Site operator",
            _perms(
                OPERATIONS,
                [
                    "alarms",
                    "holds",
                    "work-orders",
                    "shipments",
                    "devices",
                    "assets",
                    "inventory-positions",
                    "epcis",
                ],
            ),
            "Works a site or region: usually granted on a site subtree.",
        ),
        RoleDef(
            "planner",
            "Planner",
            _perms(
                OPERATIONS,
                ["orders", "products", "lots", "inventory-positions", "planning"],
                "commercial:read",
            ),
            "Plans supply: orders, products, lots and inventory, with prices.",
        ),
        RoleDef(
            "quality",
            "Quality",
            _perms(
                [*OPERATIONS, "ledger"],
                ["holds", "alarms", "work-orders", "lots", "epcis", "traceability"],
                "holds:approve",
            ),
            "Quality assurance: holds and their release, recalls, the trail; no prices.",
        ),
        RoleDef(
            "auditor",
            "Auditor",
            _perms(["*", "audit", "access", "commercial", "ledger", "governance"]),
            "Reads everything, the audit trail included; changes nothing.",
        ),
        RoleDef(
            "partner_viewer",
            "Partner viewer",
            _perms([*PARTNER_READ, "webhooks"], ["webhooks"]),
            "A partner's read-only view of what concerns it (and webhooks that push it).",
            partner=True,
        ),
        RoleDef(
            "partner_operator",
            "Partner operator",
            _perms([*PARTNER_READ, "webhooks"], ["alarms", "work-orders", "shipments", "webhooks", "epcis"]),
            "A partner acting on what concerns it: alarms, work orders, shipment updates.",
            partner=True,
        ),
        RoleDef(
            "technician",
            "Technician",
            _perms(
                [
                    "assets",
                    "asset-types",
                    "devices",
                    "device-profiles",
                    "sites",
                    "telemetry",
                    "alarms",
                    "work-orders",
                    "events",
                ],
                ["alarms", "work-orders"],
            ),
            "A service provider's technician: equipment, its readings, alarms and work orders.",
            partner=True,
        ),
        # The roles API keys had before roles became data; kept so that existing keys work.
        RoleDef("admin", "Administrator (key)", ALL, "Same as tenant_admin."),
        RoleDef("operator", "Operator (key)", _perms(["*"], ["*"]), "Reads and writes records."),
        RoleDef("viewer", "Viewer (key)", _perms(["*"]), "Reads records."),
    )
}


def check_permissions(
    permissions: list[str], resources: Iterable[str], field: str = "permissions"
) -> list[str]:
    """Each permission names a known resource (or ``*``) and action (or ``*``); else Invalid
    naming the entry."""
    known = {*resources, *SERVICE_RESOURCES, *SENSITIVE, "*"}
    out: list[str] = []
    for i, perm in enumerate(permissions):
        resource, sep, action = perm.partition(":")
        if not sep:
            raise Invalid(f"{field}[{i}]", f"'{perm}' is not 'resource:action'")
        if resource not in known:
            raise Invalid(f"{field}[{i}]", f"unknown resource '{resource}'")
        if action != "*" and action not in ACTIONS:
            raise Invalid(
                f"{field}[{i}]", f"unknown action '{action}'; use one of {', '.join(sorted(ACTIONS))} or *"
            )
        out.append(perm)
    if not out:
        raise Invalid(field, "a role needs at least one permission")
    return sorted(set(out))
