"""What partners subscribe to: webhooks that carry exactly the events their grants reach.

A subscription belongs to the key or user that made it; every event is checked against that
principal's grants as they stand when the event is handled (a revoked key, an expired grant or
a disabled user gets nothing more), through the same visibility rule as ``GET /v1/events``,
and reaches the partner redacted the same way.
"""

from supplyline.sharing.service import (
    Subscribe,
    archive_subscription,
    list_subscriptions,
    subscribe,
)
from supplyline.sharing.webhooks import WebhookFanout

__all__ = [
    "Subscribe",
    "WebhookFanout",
    "archive_subscription",
    "list_subscriptions",
    "subscribe",
]
