"""Audit samples, their items and reviewers' blind reviews.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 09:03:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _jsonb(name: str) -> sa.Column:
    return sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), nullable=False)


def upgrade() -> None:
    op.create_table(
        "audit_samples",
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column("codeframe_id", sa.UUID(), nullable=False),
        sa.Column("design", _enum("sample_design", "simple", "stratified"), nullable=False),
        sa.Column(
            "stratify_by",
            _enum("sample_stratification", "theme", "respondent_kind", "confidence_band"),
            nullable=True,
        ),
        sa.Column("allocation", sa.String(length=20), nullable=False),
        sa.Column("min_per_stratum", sa.Integer(), nullable=False),
        sa.Column("requested_size", sa.Integer(), nullable=True),
        sa.Column("target_margin", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("expected_rate", sa.Float(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        _jsonb("population_sizes"),
        _jsonb("sample_sizes"),
        sa.Column("population_hash", sa.String(length=64), nullable=False),
        sa.Column("drawn_by", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["codeframe_id"],
            ["codeframes.id"],
            name=op.f("fk_audit_samples_codeframe_id_codeframes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["drawn_by"],
            ["users.id"],
            name=op.f("fk_audit_samples_drawn_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_audit_samples_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_samples")),
    )
    op.create_index(
        op.f("ix_audit_samples_codeframe_id"), "audit_samples", ["codeframe_id"], unique=False
    )
    op.create_index(
        op.f("ix_audit_samples_proposal_id"), "audit_samples", ["proposal_id"], unique=False
    )
    op.create_table(
        "audit_sample_items",
        sa.Column("sample_id", sa.UUID(), nullable=False),
        sa.Column("answer_id", sa.UUID(), nullable=False),
        sa.Column("stratum", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _jsonb("codes"),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_audit_sample_items_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["audit_samples.id"],
            name=op.f("fk_audit_sample_items_sample_id_audit_samples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_sample_items")),
        sa.UniqueConstraint(
            "sample_id", "answer_id", name=op.f("uq_audit_sample_items_sample_id_answer_id")
        ),
        sa.UniqueConstraint(
            "sample_id", "position", name=op.f("uq_audit_sample_items_sample_id_position")
        ),
    )
    op.create_index(
        op.f("ix_audit_sample_items_answer_id"),
        "audit_sample_items",
        ["answer_id"],
        unique=False,
    )
    op.create_table(
        "audit_reviews",
        sa.Column("sample_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=True),
        _jsonb("themes"),
        sa.Column(
            "stance",
            _enum("stance_value", "support", "oppose", "mixed", "neutral", "unclear"),
            nullable=True,
        ),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["audit_sample_items.id"],
            name=op.f("fk_audit_reviews_item_id_audit_sample_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_audit_reviews_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["audit_samples.id"],
            name=op.f("fk_audit_reviews_sample_id_audit_samples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_reviews")),
        sa.UniqueConstraint(
            "item_id", "reviewer_id", name=op.f("uq_audit_reviews_item_id_reviewer_id")
        ),
    )
    op.create_index(
        "ix_audit_reviews_sample_id_reviewer_id",
        "audit_reviews",
        ["sample_id", "reviewer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_reviews_sample_id_reviewer_id", table_name="audit_reviews")
    op.drop_table("audit_reviews")
    op.drop_index(op.f("ix_audit_sample_items_answer_id"), table_name="audit_sample_items")
    op.drop_table("audit_sample_items")
    op.drop_index(op.f("ix_audit_samples_proposal_id"), table_name="audit_samples")
    op.drop_index(op.f("ix_audit_samples_codeframe_id"), table_name="audit_samples")
    op.drop_table("audit_samples")
