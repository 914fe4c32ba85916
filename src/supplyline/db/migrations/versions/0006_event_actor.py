"""event actor

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The event log can be large: add and drop the column in place (SQLite 3.35+), never by
# copying the table as batch mode otherwise does on SQLite.


def upgrade() -> None:
    with op.batch_alter_table("eventlog_event", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eventlog_event", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("actor")
