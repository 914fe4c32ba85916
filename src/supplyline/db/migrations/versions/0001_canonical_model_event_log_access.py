"""canonical model, event log, access

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from supplyline.db.revision_0001 import core, logistics, registry

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    core.upgrade()
    registry.upgrade()
    logistics.upgrade()


def downgrade() -> None:
    logistics.downgrade()
    registry.downgrade()
    core.downgrade()
