"""What a caller may see of an event: the commercial fields of a record need 'commercial:read'.

Resource events carry the record (``created``, ``archived``) or ``{"record", "changed"}``
(``updated``); the record loses its prices and terms the way an answer does. Shared by the
event list, webhooks and exports so that no channel shows more than another.
"""

from __future__ import annotations

import functools
from typing import Any

from supplyline.kernel.scope import Scope
from supplyline.resources.catalog import ResourceCatalog
from supplyline.resources.spec import ResourceSpec


@functools.cache
def redaction_for(catalog: ResourceCatalog) -> EventRedaction:
    """One per catalog (built once: the event list calls it on every request)."""
    return EventRedaction(catalog)


class EventRedaction:
    def __init__(self, catalog: ResourceCatalog) -> None:
        self.specs: dict[str, ResourceSpec] = {}
        for spec in catalog:
            if spec.commercial:
                for et in (*spec.retired_event_types, *spec.event_types.values()):
                    self.specs[et.type] = spec

    def shown(self, scope: Scope, event: dict[str, Any]) -> dict[str, Any]:
        spec = self.specs.get(event["type"])
        if spec is None or scope.can("commercial"):
            return event
        data = event["data"]
        if isinstance(data.get("record"), dict):
            data = {**data, "record": spec.redact(data["record"])}
        else:
            data = spec.redact(data)
        return {**event, "data": data}
