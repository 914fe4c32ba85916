"""Integrations: installed plug-ins and the tenants' connections to them, the outbox of messages
to other systems, the ERP integration, webhooks' delivery."""

from supplyline.integrations.connections import (
    ConnectionDispatcher,
    Enable,
    Sealer,
    archive,
    enable,
    get,
    headers_for,
    list_connections,
    set_status,
    target,
    test,
)
from supplyline.integrations.erp import ErpAdapter, ErpConfig, ErpIntegration, erp_message
from supplyline.integrations.events import EVENT_TYPES, NOTIFICATION_QUEUED
from supplyline.integrations.outbox import Deliverer, enqueue, list_deliveries, queue_webhook
from supplyline.integrations.plugins import EndpointDown, Integration, Manifest, Message, Registry, installed

__all__ = [
    "EVENT_TYPES",
    "NOTIFICATION_QUEUED",
    "ConnectionDispatcher",
    "Deliverer",
    "Enable",
    "EndpointDown",
    "ErpAdapter",
    "ErpConfig",
    "ErpIntegration",
    "Integration",
    "Manifest",
    "Message",
    "Registry",
    "Sealer",
    "archive",
    "enable",
    "enqueue",
    "erp_message",
    "get",
    "headers_for",
    "installed",
    "list_connections",
    "list_deliveries",
    "queue_webhook",
    "set_status",
    "target",
    "test",
]
