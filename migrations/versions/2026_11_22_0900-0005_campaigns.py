"""Campaigns: clusters of near-identical responses, and each response's campaign.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("consultation_id", sa.UUID(), nullable=False),
        sa.Column("run_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("template_text", sa.Text(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_campaigns_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        op.f("ix_campaigns_consultation_id"), "campaigns", ["consultation_id"], unique=False
    )
    op.create_index(op.f("ix_campaigns_run_id"), "campaigns", ["run_id"], unique=False)
    op.add_column("responses", sa.Column("campaign_id", sa.UUID(), nullable=True))
    op.create_index(op.f("ix_responses_campaign_id"), "responses", ["campaign_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_responses_campaign_id_campaigns"),
        "responses",
        "campaigns",
        ["campaign_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_responses_campaign_id_campaigns"), "responses", type_="foreignkey")
    op.drop_index(op.f("ix_responses_campaign_id"), table_name="responses")
    op.drop_column("responses", "campaign_id")
    op.drop_index(op.f("ix_campaigns_run_id"), table_name="campaigns")
    op.drop_index(op.f("ix_campaigns_consultation_id"), table_name="campaigns")
    op.drop_table("campaigns")
