"""Web chat: sessions (by token hash) and every message of a session in order.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webchat_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("sender_id", sa.String(64), nullable=False, unique=True),
        sa.Column("acked_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webchat_messages",
        sa.Column("sender_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("author IN ('resident', 'bot', 'nurse')",
                           name="ck_webchat_messages_author"),
    )


def downgrade() -> None:
    op.drop_table("webchat_messages")
    op.drop_table("webchat_sessions")
