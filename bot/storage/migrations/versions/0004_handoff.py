"""Nurse handoff: nurses, console sessions, login attempts, tickets, ticket messages, audit log.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nurses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False, server_default="fi"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "nurse_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("nurse_id", sa.Integer, sa.ForeignKey("nurses.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(64), nullable=False, index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("topic", sa.String(64)),
        sa.Column("level", sa.String(16)),
        sa.Column("summary", sa.Text, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="waiting"),
        sa.Column("nurse_id", sa.Integer, sa.ForeignKey("nurses.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('waiting', 'claimed', 'closed')", name="ck_tickets_status"),
    )
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("nurse_id", sa.Integer, sa.ForeignKey("nurses.id")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("author IN ('resident', 'nurse', 'bot')",
                           name="ck_ticket_messages_author"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("nurse_id", sa.Integer, sa.ForeignKey("nurses.id")),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL")),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "ticket_messages", "tickets", "login_attempts",
                  "nurse_sessions", "nurses"):
        op.drop_table(table)
