"""The set of resources this installation knows; capabilities and plug-ins add to it."""

from __future__ import annotations

from collections.abc import Iterator

from supplyline.kernel.events import EventType
from supplyline.resources.spec import ResourceSpec


class ResourceCatalog:
    def __init__(self, specs: list[ResourceSpec] | None = None) -> None:
        self._specs: dict[str, ResourceSpec] = {}
        for spec in specs or []:
            self.add(spec)

    def add(self, spec: ResourceSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"resource '{spec.name}' declared twice")
        self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> ResourceSpec:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ResourceSpec]:
        return iter(self._specs.values())

    def check(self) -> None:
        """Fail at start-up, not at the first request, if a reference names nothing."""
        for spec in self:
            for ref in (*spec.refs, *(r for c in spec.children for r in c.refs)):
                if ref.target not in self._specs:
                    raise ValueError(f"{spec.name}.{ref.field} refers to unknown '{ref.target}'")

    def event_types(self) -> list[EventType]:
        return [et for spec in self for et in (*spec.retired_event_types, *spec.event_types.values())]
