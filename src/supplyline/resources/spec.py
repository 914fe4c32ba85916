"""How a resource is declared. The read and update models are derived from the create model."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import FieldError
from supplyline.kernel.events import EventType
from supplyline.kernel.scope import Scope

# (conn, scope, values of each record, its current row or None when new) -> errors by index.
# Batch-shaped so that checking a 1,000-row import costs one query per table, not per row.
Validator = Callable[
    [AsyncConnection, Scope, Sequence[dict[str, Any]], Sequence[dict[str, Any] | None]],
    Awaitable[list[tuple[int, FieldError]]],
]
Derive = Callable[[dict[str, Any]], dict[str, Any]]


class EntityBase(BaseModel):
    """Fields every stored entity has."""

    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    tenant_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    version: int


@dataclass(frozen=True)
class Ref:
    """A field that names another resource of the same tenant, e.g. ``site_id -> sites``."""

    field: str
    target: str
    # A resource that may not be pointed at once archived (a new asset on an archived site).
    refuse_archived: bool = True


@dataclass(frozen=True)
class Child:
    """A list field stored as rows of a child table (order lines, shipment lots)."""

    field: str
    table: Table
    parent_fk: str
    model: type[BaseModel]
    refs: tuple[Ref, ...] = ()

    @cached_property
    def columns(self) -> list[str]:
        return list(self.model.model_fields)


def constrained(model: type[BaseModel], name: str) -> Any:
    """A field's type with its constraints (bounds, lengths, patterns, validators) attached."""
    info = model.model_fields[name]
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


@dataclass(frozen=True)
class ResourceSpec:
    name: str  # URL segment and subject prefix: "sites"
    entity: str  # event aggregate: "site"
    title: str  # OpenAPI model name: "Site"
    capability: str  # event source: "registry"
    table: Table
    fields: type[BaseModel]  # the create model; extra="forbid"
    refs: tuple[Ref, ...] = ()
    natural_keys: tuple[tuple[str, ...], ...] = ()
    filters: tuple[str, ...] = ()
    children: tuple[Child, ...] = ()
    immutable: frozenset[str] = frozenset()
    validate: Validator | None = None
    derive: Derive | None = None
    derived_model: type[BaseModel] | None = None
    description: str = ""
    import_keys: dict[str, str] = field(default_factory=dict)  # "site" -> "site_id" in files
    # Prices, costs and contract terms ("lines.unit_price" for a child's field): absent from
    # every answer, export and event shown to a caller without "commercial:read".
    commercial: frozenset[str] = frozenset()
    # The version of the created/updated/archived events; earlier versions stay registered
    # (with the fields they had: the commercial ones came in version 2).
    event_version: int = 1

    @cached_property
    def child_fields(self) -> frozenset[str]:
        return frozenset(c.field for c in self.children)

    @cached_property
    def columns(self) -> list[str]:
        return [f for f in self.fields.model_fields if f not in self.child_fields]

    @cached_property
    def update_model(self) -> type[BaseModel]:
        """Every mutable field optional; what the client sends is what changes (merge patch)."""
        defs: dict[str, Any] = {}
        for name, info in self.fields.model_fields.items():
            if name not in self.immutable:
                # The field's own bounds and patterns stay in the schema (a client generated
                # from the OpenAPI refuses what the server would); null is not a value, absence is.
                defs[name] = (
                    constrained(self.fields, name) | None,
                    Field(None, description=info.description),
                )
        return create_model(
            f"{self.title}Update",
            __config__=ConfigDict(extra="forbid"),
            __doc__=f"Fields of a {self.entity} to change; absent fields stay as they are.",
            **defs,
        )

    def filter_value(self, name: str, raw: str) -> Any:
        """A query-string filter as the field's type, checked against the field's constraints: a
        value the field could never hold is refused, not sent to the database to overflow there."""
        adapters = self._filter_adapters
        if name not in adapters:
            adapters[name] = TypeAdapter(constrained(self.fields, name))
        return adapters[name].validate_strings(raw)

    @cached_property
    def _filter_adapters(self) -> dict[str, TypeAdapter[Any]]:
        return {}

    @cached_property
    def read_model(self) -> type[BaseModel]:
        defs: dict[str, Any] = {
            name: (info.annotation, info) for name, info in self.fields.model_fields.items()
        }
        if self.derived_model is not None:
            defs.update({n: (i.annotation, i) for n, i in self.derived_model.model_fields.items()})
        return create_model(self.title, __base__=EntityBase, __doc__=self.description or None, **defs)

    @cached_property
    def updated_model(self) -> type[BaseModel]:
        return create_model(
            f"{self.title}Updated",
            __config__=ConfigDict(extra="forbid"),
            record=(self.read_model, ...),
            changed=(list[str], ...),
        )

    @cached_property
    def event_types(self) -> dict[str, EventType]:
        return self._event_types(self.event_version, self.read_model, self.updated_model)

    @cached_property
    def retired_event_types(self) -> list[EventType]:
        """Version 1 of a resource whose events gained commercial fields in version 2."""
        if self.event_version == 1:
            return []
        read = _without(self.read_model, self.commercial, f"{self.title}V1")
        updated = create_model(
            f"{self.title}UpdatedV1",
            __config__=ConfigDict(extra="forbid"),
            record=(read, ...),
            changed=(list[str], ...),
        )
        return list(self._event_types(1, read, updated).values())

    def _event_types(
        self, version: int, read: type[BaseModel], updated: type[BaseModel]
    ) -> dict[str, EventType]:
        return {
            "created": EventType(f"{self.entity}.created", version, read, f"A {self.entity} was created."),
            "updated": EventType(f"{self.entity}.updated", version, updated, f"A {self.entity} changed."),
            "archived": EventType(f"{self.entity}.archived", version, read, f"A {self.entity} was archived."),
        }

    def redact(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record without its commercial fields (for a caller without 'commercial:read')."""
        if not self.commercial:
            return record
        out = {k: v for k, v in record.items() if k not in self.commercial}
        for path in self.commercial:
            child, _, name = path.partition(".")
            if name and isinstance(out.get(child), list):
                out[child] = [
                    {k: v for k, v in item.items() if k != name} if isinstance(item, dict) else item
                    for item in out[child]
                ]
        return out


def _without(model: type[BaseModel], paths: frozenset[str], title: str) -> type[BaseModel]:
    """A copy of ``model`` without the fields named (``lines.unit_price`` inside a list field)."""
    nested: dict[str, set[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, set()).add(rest)
    defs: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in paths:
            continue
        annotation: Any = info.annotation
        if name in nested:
            (item,) = get_args(annotation)
            inner = _without(item, frozenset(nested[name]), f"{item.__name__}V1")
            annotation = list[inner]  # type: ignore[valid-type]
        defs[name] = (annotation, info)
    return create_model(title, __config__=ConfigDict(extra="forbid"), **defs)
