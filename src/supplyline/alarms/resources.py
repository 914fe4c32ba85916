"""Escalation policies are data: CRUD, history and events come from the resource spec."""

from __future__ import annotations

from supplyline.alarms.model import EscalationPolicyIn
from supplyline.alarms.tables import alarms_escalation_policy
from supplyline.resources import Ref, ResourceSpec

ESCALATION_POLICIES = ResourceSpec(
    name="escalation-policies",
    entity="escalation_policy",
    title="EscalationPolicy",
    capability="alarms",
    table=alarms_escalation_policy,
    fields=EscalationPolicyIn,
    refs=(Ref("organization_id", "organizations"),),
    natural_keys=(("code",),),
    filters=("code", "organization_id"),
    description="Who an unacknowledged alarm goes to next, and after how long.",
)

RESOURCES = [ESCALATION_POLICIES]
