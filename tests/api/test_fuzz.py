"""The API fuzzed from its own OpenAPI document: no input gives a 5xx, nothing is undocumented.

Schemathesis generates requests for every operation of ``/openapi.json`` (valid ones and ones
that break the schema), sends them to the in-process app and checks each answer: not a server
error, a status code and a content type the operation documents, a body matching the
documented schema. The seed is fixed and the examples per operation bounded, so a run is
reproducible and takes the same time. SQLite only: the OpenAPI is the same on every backend,
and the contract suites already hold the two backends to the same behaviour.

The caller is the admin API key of a seeded tenant (the platform admin token for the platform
routes). Path parameters are sometimes the id of a seeded object of the right kind, so that
the fuzzer reaches past 404 into the use cases. Objects whose change would lock the caller
out (its own key, its own tenant) are never offered: the ones offered belong to a second key
and a second tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from supplyline import access
from supplyline.api import create_app
from supplyline.bootstrap import Services
from supplyline.db.migrate import upgrade
from tests.api.samples import assert_problem
from tests.conftest import PLATFORM_HEADERS, Backend, TenantCtx, make_services, new_tenant, run_sync
from tests.factories import post, world

MAX_EXAMPLES = 20
SEED = 20261122
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Operations left to test_what_the_fuzzer_never_does_to_its_own_key_by_hand, because a valid
# request would lock the test's own key out for every operation after it. None is needed today:
# the only objects offered to the fuzzer are another key's and another tenant's (revoking
# them, or setting them a quota of 0.001/s, leaves the fuzzer's key alone), and logout refuses
# an API key (422). An entry is "METHOD /path": "why".
EXCLUDED: dict[str, str] = {}


def _seed(svc: Services) -> dict[str, Any]:
    """A tenant with one of everything the fuzzer can point a path parameter at."""
    ids: dict[str, Any] = {}

    async def run() -> None:
        ctx = await new_tenant(svc, "fuzz")
        victim = await new_tenant(svc, "victim")
        app = create_app(svc, run_consumers=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            h = ctx.headers
            w = await world(c, h)
            key = await post(c, h, "api-keys", {"name": "fuzz victim", "role": "operator"})
            user = await post(c, h, "users", {"email": "ops@fuzz.example", "password": "correct horse 1"})
            hook = await post(c, h, "webhooks", {"url": "https://hooks.example/in"})
            hold = await post(c, h, "governance/legal-holds", {"reason": "fuzz"})
        ids.update(
            token=ctx.token,
            tenant_id=str(victim.id),
            key_id=key["id"],
            user_id=user["id"],
            subscription_id=hook["id"],
            hold_id=hold["id"],
            world={k: v["id"] for k, v in w.items()},
        )

    run_sync(run)
    return ids


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("fuzz")
    backend = Backend("sqlite", f"sqlite:///{tmp / 'fuzz.db'}", None)

    async def create() -> None:
        engine = backend.engine()
        await upgrade(engine)  # migrated, not created from the tables: /readyz answers ready
        await engine.dispose()

    run_sync(create)
    # Seeded in a loop of its own with services of its own: the app under test starts with
    # nothing bound to that loop.
    seeding = make_services(backend, tmp, admin_token="platform-secret")
    ids = _seed(seeding)
    run_sync(seeding.close)
    svc = make_services(backend, tmp, admin_token="platform-secret")
    app = create_app(svc, run_consumers=False)
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    _offer_seeded_ids(schema, ids)
    schema.supplyline_ids = ids  # type: ignore[attr-defined]
    yield schema


def _offer_seeded_ids(schema: Any, ids: dict[str, Any]) -> None:
    w = ids["world"]
    by_collection = {
        "sites": w["dc"],
        "regions": w["region"],
        "organizations": w["carrier"],
        "asset-types": w["trailer_type"],
        "assets": w["trailer"],
        "device-profiles": w["profile"],
        "devices": w["tracker"],
        "products": w["product"],
        "lots": w["lot"],
    }

    @schema.hook  # type: ignore[untyped-decorator]
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        if not path_parameters:
            return st.just(path_parameters)
        path = context.operation.path
        collection = path.removeprefix("/v1/").split("/")[0]
        known = {
            "id": by_collection.get(collection),
            "key_id": ids["key_id"],
            "user_id": ids["user_id"],
            "subscription_id": ids["subscription_id"],
            "hold_id": ids["hold_id"] if collection == "governance" else None,
            "tenant_id": ids["tenant_id"],
        }
        choices = {}
        for name, value in path_parameters.items():
            seeded = known.get(name)
            choices[name] = st.sampled_from([seeded, value]) if seeded else st.just(value)
        return st.fixed_dictionaries(choices)


def _fuzz(operation: Any, headers: dict[str, str]) -> str | None:
    """Fuzz one operation; the failure report of the smallest failing case, or None."""
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except (Exception, FailureGroup) as exc:  # FailureGroup: a BaseExceptionGroup of check failures
        return f"{operation.label}: {exc}"
    return None


def test_no_input_gives_a_server_error_or_an_undocumented_answer(fuzzed: Any) -> None:
    ids = fuzzed.supplyline_ids
    failures, covered = [], 0
    for result in fuzzed.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        platform = operation.definition.raw.get("x-supplyline-scope") == "platform"
        headers = PLATFORM_HEADERS if platform else {"Authorization": f"Bearer {ids['token']}"}
        failure = _fuzz(operation, headers)
        covered += 1
        if failure:
            failures.append(failure)
    print(f"fuzzed {covered} operations, {MAX_EXAMPLES} examples each")
    assert not failures, f"{len(failures)} of {covered} operations failed:\n\n" + "\n\n".join(failures)


def test_nothing_is_excluded_without_a_reason() -> None:
    assert all(re.search(r"\w", why) for why in EXCLUDED.values())


async def test_what_the_fuzzer_never_does_to_its_own_key_by_hand(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """Revoking the caller's own key, the smallest quota on it, logging a session out: each
    answers as documented, and what follows is refused as documented, never a 5xx."""
    h = tenant.headers
    r = await client.post("/v1/users", json={"email": "me@fuzz.example", "password": "p" * 12}, headers=h)
    assert r.status_code == 201, r.text
    login = {"tenant": tenant.slug, "email": "me@fuzz.example", "password": "p" * 12}
    session = (await client.post("/v1/auth/login", json=login)).json()["token"]
    sh = {"Authorization": f"Bearer {session}"}
    assert (await client.post("/v1/auth/logout", headers=sh)).status_code == 204
    assert_problem(await client.get("/v1/auth/me", headers=sh), 401)
    assert_problem(await client.post("/v1/auth/logout", headers=h), 422, "Authorization")
    other = await post(client, h, "api-keys", {"name": "second admin", "role": "admin"})
    oh = {"Authorization": f"Bearer {other['token']}"}
    mine = (
        (await client.get("/v1/auth/me", headers=h)).json()["principal"].split()[0].removeprefix("api-key:")
    )
    quota = {"requests_per_s": access.MIN_RATE, "requests_burst": 1}
    r = await client.put(f"/v1/api-keys/{mine}/quotas", json=quota, headers=h)
    assert r.status_code == 200, r.text
    refused = await client.get("/v1/sites", headers=h)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 86_400
    assert (await client.post(f"/v1/api-keys/{mine}/revoke", headers=oh)).status_code == 200
    assert_problem(await client.get("/v1/sites", headers=h), 401)
    assert (await client.get("/v1/sites", headers=oh)).status_code == 200
