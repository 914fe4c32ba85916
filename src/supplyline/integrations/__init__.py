"""Integrations: the outbox of messages to other systems, the ERP adapter, webhooks."""

from supplyline.integrations.erp import ErpAdapter, erp_message
from supplyline.integrations.events import EVENT_TYPES, NOTIFICATION_QUEUED
from supplyline.integrations.outbox import Deliverer, enqueue, list_deliveries, queue_webhook

__all__ = [
    "EVENT_TYPES",
    "NOTIFICATION_QUEUED",
    "Deliverer",
    "ErpAdapter",
    "enqueue",
    "erp_message",
    "list_deliveries",
    "queue_webhook",
]
