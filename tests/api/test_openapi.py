"""The OpenAPI document says what the server answers: every error, its media type, the bounds.

A client generated from /openapi.json must expect each problem+json error an operation can
give and refuse the values the server would refuse (tests/api/test_fuzz.py checks the answers
against the document; these check the document itself).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.requests import Request

from supplyline.api import idempotency
from supplyline.api.openapi import PROBLEM_MEDIA_TYPE
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    out: dict[str, Any] = (await client.get("/openapi.json")).json()
    return out


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def _errors(operation: dict[str, Any]) -> set[int]:
    return {int(code) for code in operation["responses"] if int(code) >= 400}


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [p for p in operation.get("parameters", ()) if p["in"] == "header" and p["name"] == name]
    return found[0] if found else None


async def test_every_error_is_problem_json_with_one_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"instance", "errors"} <= set(problem["properties"])
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert set(schemas["FieldError"]["required"]) == {"field", "reason"}
    for method, path, operation in _operations(document):
        for code, response in operation["responses"].items():
            if int(code) >= 400 and (path, code) != ("/readyz", "503"):  # readiness, as JSON
                assert response["content"] == {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}, (method, path)
                assert response["description"], (method, path, code)
        assert "x-supplyline-errors" not in operation


async def test_errors_follow_from_what_each_route_depends_on(document: dict[str, Any]) -> None:
    ops = {(m, p): op for m, p, op in _operations(document)}
    assert _errors(ops["GET", "/v1/sites"]) == {401, 403, 422, 429}
    assert _errors(ops["GET", "/v1/sites/{id}"]) == {401, 403, 404, 422, 429}
    assert _errors(ops["POST", "/v1/sites"]) == {400, 401, 403, 409, 413, 422, 429}
    assert _errors(ops["PATCH", "/v1/sites/{id}"]) == {400, 401, 403, 404, 409, 412, 413, 422, 429}
    assert _errors(ops["GET", "/v1/roles"]) == {401, 403, 429}
    assert {401, 403, 413, 422, 429} <= _errors(ops["POST", "/v1/telemetry"])
    assert 401 in _errors(ops["POST", "/v1/auth/login"])
    assert _errors(ops["GET", "/healthz"]) == set()
    assert set(ops["GET", "/v1/sites"]["responses"]["429"]["headers"]) == {"Retry-After"}
    assert set(ops["GET", "/v1/sites"]["responses"]["401"]["headers"]) == {"WWW-Authenticate"}
    # Every write that goes through idempotency.write says it takes an Idempotency-Key.
    for (method, path), operation in ops.items():
        key = _header(operation, "Idempotency-Key")
        if key is not None:
            assert method != "GET" and 409 in _errors(operation), path
            assert {"minLength": 1, "maxLength": 255}.items() <= key["schema"]["anyOf"][0].items()
    assert _header(ops["POST", "/v1/sites"], "Idempotency-Key") is not None
    assert _header(ops["POST", "/v1/api-keys/{key_id}/revoke"], "Idempotency-Key") is not None
    assert _header(ops["POST", "/v1/auth/logout"], "Idempotency-Key") is None
    assert _header(ops["PATCH", "/v1/sites/{id}"], "If-Match") is not None


async def test_metrics_are_text_and_readiness_documents_its_503(document: dict[str, Any]) -> None:
    metrics = document["paths"]["/metrics"]["get"]["responses"]
    assert list(metrics) == ["200"] and list(metrics["200"]["content"]) == ["text/plain"]
    ready = document["paths"]["/readyz"]["get"]["responses"]
    assert set(ready) == {"200", "503"}
    assert ready["503"]["content"]["application/json"]["schema"]["required"] == ["status", "checks"]


async def test_request_schemas_carry_the_bounds_the_server_enforces(
    client: httpx.AsyncClient, tenant: TenantCtx, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["TenantCreate"]["properties"]["slug"]["pattern"] == "^[a-z0-9][a-z0-9-]*$"
    assert schemas["SiteIn"]["properties"]["code"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._:/-]*$"
    assert schemas["ProductIn"]["properties"]["sku"]["maxLength"] == 64
    user = schemas["UserIn"]["properties"]
    assert user["email"]["pattern"] and user["password"]["minLength"] == 12
    assert schemas["SubscribeIn"]["properties"]["url"]["pattern"].endswith("://[^/?#]+")
    assert schemas["RoleIn"]["properties"]["permissions"]["items"]["pattern"] == "^[^:]+:[^:]+$"
    # What the document refuses, the server refuses, with its own reasons.
    h = tenant.headers
    r = await client.post("/v1/users", json={"email": "nobody", "password": "x" * 12}, headers=h)
    assert_problem(r, 422, "email", "e-mail")
    r = await client.post("/v1/users", json={"email": "a@b.example", "password": "short"}, headers=h)
    assert_problem(r, 422, "password", "at least 12")
    assert_problem(await client.post("/v1/webhooks", json={"url": "ftp://x"}, headers=h), 422, "url")
    body = {"name": "r", "permissions": ["sites"]}
    assert_problem(await client.put("/v1/roles/r1", json=body, headers=h), 422, "permissions[0]")
    r = await client.post("/v1/sites", json={"code": "S"}, headers={**h, "Idempotency-Key": "k" * 256})
    assert_problem(r, 422, "Idempotency-Key")


async def test_a_write_that_does_not_declare_its_idempotency_key_does_not_run() -> None:
    """``idempotency.write`` runs only where the route declares IDEMPOTENT: otherwise the
    OpenAPI would not say that the route takes an Idempotency-Key or answers 409."""
    request = Request({"type": "http", "method": "POST", "path": "/v1/x", "headers": [], "state": {}})

    async def action(uow: Any) -> dict[str, Any]:
        raise AssertionError("must not run")

    with pytest.raises(RuntimeError, match="does not declare IDEMPOTENT"):
        await idempotency.write(request, None, None, action)  # type: ignore[arg-type]
