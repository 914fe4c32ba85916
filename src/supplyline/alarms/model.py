"""Alarm vocabulary and escalation policies as data.

An alarm is active or cleared, and unacknowledged or acknowledged, independently (the four
states operators of ThingsBoard know). An escalation policy lists levels: unacknowledged for
``after_s`` at one level, the alarm goes to the next level's assignee. Which policy applies
depends on who owns the asset: the policy naming the owner organisation, else the default.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["active_unack", "active_ack", "cleared_unack", "cleared_ack"]
STATUSES: tuple[Status, ...] = ("active_unack", "active_ack", "cleared_unack", "cleared_ack")
SEVERITY_RANK = {"critical": 5, "major": 4, "minor": 3, "warning": 2, "indeterminate": 1}


def status_of(active: bool, acknowledged: bool) -> Status:
    return f"{'active' if active else 'cleared'}_{'ack' if acknowledged else 'unack'}"  # type: ignore[return-value]


class EscalationLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_s: int = Field(ge=1, le=30 * 86_400, description="Unacknowledged this long at the level before.")
    assignee: str = Field(
        min_length=1, max_length=200, description="Who the alarm goes to: a person or a team."
    )
    notify_url: str | None = Field(
        default=None, max_length=2000, description="A webhook told of the escalation."
    )


class EscalationPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="Applies to alarms on assets this organisation owns; none: the tenant default.",
    )
    levels: list[EscalationLevel] = Field(min_length=1, max_length=10)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    assignee: str | None = Field(max_length=200, description="None unassigns.")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=4000)
