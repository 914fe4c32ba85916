"""Tenant-scoped resources declared as data: one spec per entity, one service for all of them.

A new kind of entity is a ``ResourceSpec`` (table + pydantic model + references); the API,
events, schema registry and import pick it up without further code.
"""

from supplyline.resources.catalog import ResourceCatalog
from supplyline.resources.lookup import another_live, rows_by_id
from supplyline.resources.redaction import EventRedaction, redaction_for
from supplyline.resources.scoping import Visibility, VisibilityRules, reach_condition, rules_of, scoped
from supplyline.resources.service import ResourceService
from supplyline.resources.spec import Child, Ref, ResourceSpec, Validator

__all__ = [
    "Child",
    "EventRedaction",
    "Ref",
    "ResourceCatalog",
    "ResourceService",
    "ResourceSpec",
    "Validator",
    "Visibility",
    "VisibilityRules",
    "another_live",
    "reach_condition",
    "redaction_for",
    "rows_by_id",
    "rules_of",
    "scoped",
]
