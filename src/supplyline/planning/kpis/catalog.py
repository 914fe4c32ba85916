"""KPI definitions are data: ``definitions.json`` in this package, validated at load.

Each definition names its measure (``MEASURES``), the grains and dimensions it answers for,
the permissions a caller needs (whoever may read the rows a KPI counts may read the KPI, over
the rows they reach) and the parameters its measure takes. A definition is never edited in
place: a change is a new version beside the old one, so a figure exported last quarter can be
recomputed by the definition it was made with.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib.resources import files
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from supplyline.planning.kpis.facts import Aggregate, Dimension, Grain, Measure
from supplyline.planning.kpis.measures import MEASURES

DEFINITIONS_FILE = "definitions.json"


class KpiDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=2000, description="The formula in words.")
    unit: str = Field(min_length=1, max_length=40)
    direction: Literal["higher is better", "lower is better"]
    grains: tuple[Grain, ...] = Field(min_length=1)
    dimensions: tuple[Dimension, ...] = ()
    permissions: tuple[str, ...] = Field(min_length=1)
    measure: str
    numerator: str = Field(min_length=1, max_length=300)
    denominator: str = Field(min_length=1, max_length=300)
    numerator_aggregate: Aggregate = "sum"
    denominator_aggregate: Aggregate = "sum"
    scale: float = Field(default=1.0, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)
    changes: str | None = Field(default=None, max_length=500, description="What this version changed.")

    @model_validator(mode="after")
    def _fits_its_measure(self, info: ValidationInfo) -> KpiDefinition:
        for name, values in (("grains", self.grains), ("dimensions", self.dimensions)):
            if len(set(values)) != len(values):
                raise ValueError(f"{self.name} v{self.version}: {name} repeat a value")
        measures: Mapping[str, Measure] | None = (info.context or {}).get("measures")
        if measures is None:
            return self
        measure = measures.get(self.measure)
        if measure is None:
            raise ValueError(f"{self.name} v{self.version}: no measure {self.measure!r}")
        extra = set(self.dimensions) - measure.dimensions
        if extra:
            raise ValueError(f"{self.name} v{self.version}: {self.measure} has no dimension {sorted(extra)}")
        measure.params.model_validate(self.params)
        return self

    def view(self, current: bool) -> dict[str, Any]:
        """What a client sees of the definition (the measure's wiring stays inside)."""
        out = self.model_dump(mode="json", exclude={"measure", "params", "numerator_aggregate", "scale"})
        out.pop("denominator_aggregate")
        return {**out, "parameters": dict(self.params), "current": current}


class KpiCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    definitions: tuple[KpiDefinition, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _versions_in_order(self) -> KpiCatalog:
        seen: dict[str, list[int]] = {}
        for d in self.definitions:
            seen.setdefault(d.name, []).append(d.version)
        for name, versions in seen.items():
            if sorted(versions) != list(range(1, len(versions) + 1)):
                raise ValueError(
                    f"{name}: versions must run 1, 2, ... without gaps or repeats, got {versions}"
                )
        return self

    def names(self) -> list[str]:
        return sorted({d.name for d in self.definitions})

    def versions(self, name: str) -> list[KpiDefinition]:
        return sorted((d for d in self.definitions if d.name == name), key=lambda d: d.version)

    def find(self, name: str, version: int | None = None) -> KpiDefinition | None:
        """The given version of the KPI, or its latest; None when there is no such one."""
        found = self.versions(name)
        if version is None:
            return found[-1] if found else None
        return next((d for d in found if d.version == version), None)


def load_catalog(text: str | bytes, measures: Mapping[str, Measure]) -> KpiCatalog:
    """Definitions from JSON text, each checked against the measures it names (pydantic's
    ValidationError says which definition and why)."""
    return KpiCatalog.model_validate_json(text, context={"measures": measures})


@functools.cache
def packaged_catalog() -> KpiCatalog:
    """The definitions shipped with supplyline, read and checked once on first use."""
    text = files("supplyline.planning.kpis").joinpath(DEFINITIONS_FILE).read_text(encoding="utf-8")
    return load_catalog(text, MEASURES)
