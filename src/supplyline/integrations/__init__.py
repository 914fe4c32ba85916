"""Integrations: the outbox of messages to other systems, the ERP adapter, webhooks."""

from supplyline.integrations.delivery import Breakers, DeliveryPolicy
from supplyline.integrations.erp import ErpAdapter, erp_message
from supplyline.integrations.events import EVENT_TYPES, NOTIFICATION_QUEUED
from supplyline.integrations.outbox import (
    Deliverer,
    SecretsFor,
    deliveries_of,
    enqueue,
    list_deliveries,
    queue_webhook,
    redeliver,
    replayed,
)
from supplyline.integrations.signing import new_secret, secret_key
from supplyline.integrations.ssrf import TargetPolicy, check_url

__all__ = [
    "EVENT_TYPES",
    "NOTIFICATION_QUEUED",
    "Breakers",
    "Deliverer",
    "DeliveryPolicy",
    "ErpAdapter",
    "SecretsFor",
    "TargetPolicy",
    "check_url",
    "deliveries_of",
    "enqueue",
    "erp_message",
    "list_deliveries",
    "new_secret",
    "queue_webhook",
    "redeliver",
    "replayed",
    "secret_key",
]
