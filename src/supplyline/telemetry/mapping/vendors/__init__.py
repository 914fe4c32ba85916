"""Built-in vendor payload mappings, shipped as data next to a sample payload of each.

Each ``<code>.v<version>.json`` is exactly what ``POST /v1/payload-mappings`` takes, so a tenant
can copy one and adapt it; ``<code>.v<version>.sample.json`` is a payload the vendor sends.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from supplyline.telemetry.mapping.compiler import PayloadMappingSpec

SAMPLE = ".sample.json"


@cache
def _documents() -> tuple[tuple[str, dict[str, Any]], ...]:
    out = []
    for entry in sorted(files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json") or entry.name.endswith(SAMPLE):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        key = f"{doc['code']}@{doc['mapping_version']}"
        if entry.name != f"{doc['code']}.v{doc['mapping_version']}.json":
            raise ValueError(f"{entry.name} holds {key}: the file name must say the code and version")
        out.append((key, doc))
    return tuple(out)


def builtin_mapping_documents() -> dict[str, dict[str, Any]]:
    """The mapping documents keyed ``"<code>@<version>"`` (code, mapping_version, name, spec)."""
    return {key: json.loads(json.dumps(doc)) for key, doc in _documents()}


@cache
def _specs() -> tuple[tuple[str, PayloadMappingSpec], ...]:
    return tuple((key, PayloadMappingSpec.model_validate(doc["spec"])) for key, doc in _documents())


def builtin_mappings() -> dict[str, PayloadMappingSpec]:
    """The built-in mapping specs keyed ``"<code>@<version>"``, such as ``"acme-reefer@1"``."""
    return dict(_specs())


def builtin_sample(key: str) -> Any:
    """The sample payload shipped with the built-in mapping ``key`` (``"acme-reefer@1"``)."""
    if key not in dict(_documents()):
        raise KeyError(f"no built-in mapping {key!r}")
    code, _, version = key.partition("@")
    return json.loads(files(__name__).joinpath(f"{code}.v{version}{SAMPLE}").read_text(encoding="utf-8"))
