"""A nurse's reply keeps both versions: as written and as the resident received it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_messages") as table:
        table.add_column(sa.Column("translation", sa.Text))
        table.add_column(sa.Column("translation_language", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as table:
        table.drop_column("translation_language")
        table.drop_column("translation")
