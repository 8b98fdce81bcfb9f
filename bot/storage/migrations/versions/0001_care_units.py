"""Clinic directory: care units, their texts per language and dated exceptions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_units",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("postal_code", sa.String(5), nullable=True),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("weekly_hours", sa.Text, nullable=False),
        sa.Column("closed_on_holidays", sa.Boolean, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("as_of", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "care_unit_texts",
        sa.Column(
            "unit_id", sa.String(64),
            sa.ForeignKey("care_units.id", ondelete="CASCADE"), primary_key=True,
        ),
        sa.Column("language", sa.String(2), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("street", sa.Text, nullable=True),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("district", sa.Text, nullable=True),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="ck_care_unit_texts_language"),
    )
    op.create_table(
        "care_unit_exceptions",
        sa.Column(
            "unit_id", sa.String(64),
            sa.ForeignKey("care_units.id", ondelete="CASCADE"), primary_key=True,
        ),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("opens", sa.String(5), nullable=True),
        sa.Column("closes", sa.String(5), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint(
            "(opens IS NULL) = (closes IS NULL)", name="ck_care_unit_exceptions_both_or_none"
        ),
    )


def downgrade() -> None:
    op.drop_table("care_unit_exceptions")
    op.drop_table("care_unit_texts")
    op.drop_table("care_units")
