"""How an import file names things, derived from the resource catalog rather than written per entity.

A section is a resource without child tables (``asset_types`` for ``asset-types``). Each
reference ``x_id -> target`` may also be written ``x: <code>``, matched against the target's
natural key; a compound key such as a zone's ``(site_id, code)`` takes ``site_id`` from the
referencing row. A new resource in the catalog is importable with no change here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from supplyline.resources import ResourceCatalog, ResourceSpec


@dataclass(frozen=True)
class RefColumn:
    key: str  # what the file writes: "site"
    field: str  # the resource field: "site_id"
    target: str  # the resource referred to: "sites"
    lookup: str  # the target column a code is matched against: "code"
    context: tuple[str, ...]  # leading columns of a compound key, read from the referring row
    is_self: bool  # an asset's parent is another asset


@dataclass(frozen=True)
class Section:
    name: str
    spec: ResourceSpec
    refs: tuple[RefColumn, ...]

    @cached_property
    def by_key(self) -> dict[str, RefColumn]:
        return {r.key: r for r in self.refs}

    @cached_property
    def by_field(self) -> dict[str, RefColumn]:
        return {r.field: r for r in self.refs}

    @cached_property
    def columns(self) -> frozenset[str]:
        """Every top-level name a row may use."""
        return frozenset(self.spec.fields.model_fields) | frozenset(self.by_key)

    @cached_property
    def lookup_key(self) -> tuple[str, ...] | None:
        return lookup_key(self.spec)


def section_name(spec: ResourceSpec) -> str:
    return spec.name.replace("-", "_")


def lookup_key(spec: ResourceSpec) -> tuple[str, ...] | None:
    """The natural key other rows name this resource by: a code, optionally inside a parent."""
    ref_fields = {r.field for r in spec.refs}
    for key in spec.natural_keys:
        if all(c in ref_fields for c in key[:-1]) and key[-1] not in ref_fields:
            return key
    return None


def _ref_columns(spec: ResourceSpec, catalog: ResourceCatalog) -> tuple[RefColumn, ...]:
    fields = set(spec.fields.model_fields)
    refs = {r.field: r for r in spec.refs}
    keys = {
        f.removesuffix("_id"): f for f in refs if f.endswith("_id") and f.removesuffix("_id") not in fields
    }
    keys.update(spec.import_keys)
    out = []
    for key, field in keys.items():
        if field not in refs:
            raise ValueError(f"{spec.name}: import key '{key}' names '{field}', which is not a reference")
        target_key = lookup_key(catalog[refs[field].target])
        if target_key is None or not set(target_key[:-1]) <= fields:
            continue  # nothing to match a code against: only the UUID form is accepted
        target = refs[field].target
        out.append(RefColumn(key, field, target, target_key[-1], target_key[:-1], target == spec.name))
    # Compound lookups read their context from simple ones, so those resolve first.
    return tuple(sorted(out, key=lambda r: len(r.context)))


def _dependency_order(specs: list[ResourceSpec]) -> list[ResourceSpec]:
    """Referenced resources before the ones that refer to them; catalog order breaks ties."""
    names = {s.name for s in specs}
    needs = {s.name: {r.target for r in s.refs if r.target != s.name and r.target in names} for s in specs}
    ordered: list[ResourceSpec] = []
    done: set[str] = set()
    while len(ordered) < len(specs):
        ready = [s for s in specs if s.name not in done and needs[s.name] <= done]
        if not ready:
            cycle = ", ".join(s.name for s in specs if s.name not in done)
            raise ValueError(f"resources refer to each other in a cycle: {cycle}")
        ordered.append(ready[0])
        done.add(ready[0].name)
    return ordered


def importable(catalog: ResourceCatalog) -> dict[str, Section]:
    """The sections an import file may have, in the order they are written."""
    specs = [s for s in catalog if not s.children]
    return {
        section_name(s): Section(section_name(s), s, _ref_columns(s, catalog))
        for s in _dependency_order(specs)
    }


def canonical(name: str, known: Iterable[str]) -> str | None:
    """Accept ``asset-types`` as well as ``asset_types``."""
    normal = name.strip().replace("-", "_")
    return normal if normal in set(known) else None
