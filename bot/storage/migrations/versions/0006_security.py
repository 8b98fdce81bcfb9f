"""Security: sign-in throttling in one row per key, idle web chat sessions, and the
SMS message ids already processed (kept past the retention period, against replays).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("login_attempts")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True)),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
    )
    with op.batch_alter_table("webchat_sessions") as table:
        table.add_column(sa.Column("last_active_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE webchat_sessions SET last_active_at = created_at")
    op.create_table(
        "sms_seen",
        sa.Column("sid_hash", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sms_seen")
    with op.batch_alter_table("webchat_sessions") as table:
        table.drop_column("last_active_at")
    op.drop_table("login_throttle")
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
