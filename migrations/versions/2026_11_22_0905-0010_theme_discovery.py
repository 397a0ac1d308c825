"""Theme discovery: stored candidate themes of a discovery run.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 09:05:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_suggestions",
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("top_terms", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("answer_count", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column(
            "representative_answer_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False
        ),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_theme_suggestions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_runs.id"],
            name=op.f("fk_theme_suggestions_run_id_analysis_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_suggestions")),
        sa.UniqueConstraint(
            "run_id", "position", name=op.f("uq_theme_suggestions_run_id_position")
        ),
    )
    op.create_index(
        op.f("ix_theme_suggestions_proposal_id"), "theme_suggestions", ["proposal_id"], unique=False
    )
    op.create_index(
        op.f("ix_theme_suggestions_run_id"), "theme_suggestions", ["run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_theme_suggestions_run_id"), table_name="theme_suggestions")
    op.drop_index(op.f("ix_theme_suggestions_proposal_id"), table_name="theme_suggestions")
    op.drop_table("theme_suggestions")
