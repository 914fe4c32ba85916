"""What partners subscribe to: webhooks that carry exactly the events their grants reach.

A subscription belongs to the key or user that made it; every event is checked against that
principal's grants as they stand when the event is handled (a revoked key, an expired grant or
a disabled user gets nothing more), through the same visibility rule as ``GET /v1/events``,
and reaches the partner redacted the same way, signed with the subscription's secret
(Standard Webhooks, docs/webhooks.md).
"""

from supplyline.sharing.service import (
    Replay,
    SecretBox,
    Subscribe,
    archive_subscription,
    list_deliveries,
    list_subscriptions,
    replay,
    retry_delivery,
    rotate_secret,
    subscribe,
    target_of,
    vet_url,
)
from supplyline.sharing.webhooks import WebhookFanout, WebhookSecrets

__all__ = [
    "Replay",
    "SecretBox",
    "Subscribe",
    "WebhookFanout",
    "WebhookSecrets",
    "archive_subscription",
    "list_deliveries",
    "list_subscriptions",
    "replay",
    "retry_delivery",
    "rotate_secret",
    "subscribe",
    "target_of",
    "vet_url",
]
