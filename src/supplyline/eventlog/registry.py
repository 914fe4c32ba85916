"""The schema registry: every event type has a JSON Schema, and appends are checked against it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from supplyline.kernel.errors import Invalid
from supplyline.kernel.events import EventType


class UnknownEventType(Invalid):
    def __init__(self, type_: str) -> None:
        super().__init__("type", f"event type '{type_}' is not registered")


class EventTypeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(self, event_type: EventType) -> None:
        existing = self._types.get(event_type.type)
        if existing is not None and existing.data_model is not event_type.data_model:
            raise ValueError(f"{event_type.type} is already registered with another shape")
        self._types[event_type.type] = event_type

    def register_all(self, event_types: list[EventType]) -> None:
        for et in event_types:
            self.register(et)

    def get(self, type_: str) -> EventType:
        try:
            return self._types[type_]
        except KeyError:
            raise UnknownEventType(type_) from None

    def all(self) -> list[EventType]:
        return sorted(self._types.values(), key=lambda et: et.type)

    def schema(self, type_: str) -> dict[str, Any]:
        et = self.get(type_)
        schema = et.data_model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:supplyline:event:{et.type}"
        return schema

    def check(self, type_: str, data: dict[str, Any]) -> None:
        """Refuse data that does not match the type's schema, naming the first bad field."""
        model: type[BaseModel] = self.get(type_).data_model
        try:
            model.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "data"
            raise Invalid(f"data.{field}", f"{type_}: {err['msg']}") from None
