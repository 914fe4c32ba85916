"""The outbox's retry policy, breaker, SSRF guard and signatures, on their own."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from supplyline import integrations
from supplyline.integrations.signing import signed_headers
from supplyline.kernel.errors import Invalid
from supplyline.settings import Settings


def test_backoff_is_full_jitter_under_a_doubling_bound_and_a_cap() -> None:
    policy = integrations.DeliveryPolicy(backoff_base_s=2, backoff_cap_s=60)
    assert [policy.bound_s(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [2, 4, 8, 16, 32, 60, 60]
    rng = random.Random(7)
    for attempts in (1, 3, 6, 20):
        waits = [policy.backoff_s(attempts, rng) for _ in range(2000)]
        bound = policy.bound_s(attempts)
        assert all(0 <= w <= bound for w in waits)
        # Spread over the whole range, not bunched at the bound (no jitter) or at zero.
        assert min(waits) < 0.05 * bound and max(waits) > 0.95 * bound
        assert 0.4 * bound < sum(waits) / len(waits) < 0.6 * bound


def test_the_policy_is_read_from_the_settings() -> None:
    policy = integrations.DeliveryPolicy.of(
        Settings(
            webhook_timeout_s=1.5,
            webhook_concurrency=3,
            webhook_backoff_base_s=0.5,
            webhook_backoff_cap_s=9,
            webhook_max_attempts=4,
            webhook_dead_after_hours=2,
            webhook_breaker_failures=7,
            webhook_breaker_cooldown_s=11,
            webhook_allowed_cidrs=["10.1.0.0/16"],
        )
    )
    assert (policy.timeout_s, policy.concurrency, policy.max_attempts) == (1.5, 3, 4)
    assert (policy.bound_s(1), policy.bound_s(10), policy.dead_after) == (0.5, 9, timedelta(hours=2))
    assert (policy.breaker_failures, policy.breaker_cooldown_s) == (7, 11)
    assert policy.targets.refusal(__import__("ipaddress").ip_address("10.1.2.3")) is None
    with pytest.raises(ValueError, match="not a network"):
        Settings(webhook_allowed_cidrs=["10.1.0.0/33"])


def test_a_breaker_opens_after_n_failures_and_half_opens_after_the_cooldown() -> None:
    now = datetime(2026, 12, 8, tzinfo=UTC)
    breakers = integrations.Breakers(failures=3, cooldown_s=30)
    url = "https://a.example/in"
    assert not breakers.failed(url, now) and not breakers.failed(url, now)
    assert breakers.state(url, now) == "closed" and breakers.open_urls(now) == []
    assert breakers.failed(url, now)  # the third
    assert breakers.state(url, now) == "open" and breakers.open_urls(now) == [url]
    later = now + timedelta(seconds=31)
    assert breakers.state(url, later) == "half-open" and breakers.open_urls(later) == []
    assert breakers.failed(url, later)  # the probe failed: open again, for a new cool-down
    assert breakers.open_urls(later + timedelta(seconds=29)) == [url]
    breakers.succeeded(url)
    assert breakers.state(url, later) == "closed"


REFUSED = [
    ("http://10.0.0.1/in", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://[::1]:8080/in", "loopback"),
    ("http://[::ffff:127.0.0.1]/in", "loopback"),
    ("http://[::ffff:10.0.0.1]/in", "private"),
    ("http://localhost:8080/in", "localhost resolves to"),
    ("http://127.0.0.1/in", "loopback"),
    ("http://2130706433/in", "loopback"),  # 127.0.0.1 written as one number
    ("http://[fe80::1]/in", "link-local"),
    ("http://[fc00::1]/in", "private"),
    ("http://224.0.0.1/in", "multicast"),
    ("http://240.0.0.1/in", "reserved"),
    ("http://0.0.0.0/in", "unspecified"),
    ("http://100.64.0.1/in", "non-public"),  # carrier-grade NAT
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_private_loopback_link_local_and_reserved_targets_are_refused(url: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        await integrations.check_url(url, integrations.TargetPolicy())
    assert str(refused.value).startswith("url: ") and reason in str(refused.value)


async def test_public_targets_and_allowed_networks_pass() -> None:
    guard = integrations.TargetPolicy()
    for url in ("https://1.1.1.1/in", "https://[2606:4700::1111]/in", "https://unresolved.example/in"):
        await integrations.check_url(url, guard)
    loopback = integrations.TargetPolicy.of(False, ["127.0.0.0/8", "::1/128"])
    for url in (
        "http://127.0.0.1:9/in",
        "http://[::1]/in",
        "http://[::ffff:127.0.0.1]/in",
        "http://localhost/in",
    ):
        await integrations.check_url(url, loopback)
    with pytest.raises(Invalid):
        await integrations.check_url("http://10.0.0.1/in", loopback)
    await integrations.check_url("http://10.0.0.1/in", integrations.TargetPolicy.of(True, []))


def test_our_signatures_verify_with_the_reference_library_whatever_the_body() -> None:
    secret = integrations.new_secret()
    other = integrations.new_secret()
    now = int(datetime.now(UTC).timestamp())
    for body in (b"{}", '{"name":"Zürich ✓"}'.encode(), b"\xff\xfe not utf-8"):
        keys = [integrations.secret_key(other), integrations.secret_key(secret)]
        headers = signed_headers(keys, "msg_1", now, body)
        Webhook(secret).verify(body, headers, json_parse=False)
        Webhook(other).verify(body, headers, json_parse=False)
    assert "webhook-signature" not in signed_headers([], "msg_1", now, b"{}")
