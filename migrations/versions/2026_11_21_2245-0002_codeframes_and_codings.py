"""Codeframes (versioned), themes, codings and stances.

Codings and stances are append-only: a trigger refuses every UPDATE except turning
`is_current` off when a newer decision supersedes the row (and a deleted user's id becoming
NULL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 22:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION consult_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'is_current' - 'user_id') IS DISTINCT FROM
           (to_jsonb(OLD) - 'is_current' - 'user_id')
       OR (NEW.is_current AND NOT OLD.is_current)
       OR (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        RAISE EXCEPTION '% are never updated in place: insert a superseding decision',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "codeframes",
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "superseded",
                name="codeframe_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("based_on_id", sa.UUID(), nullable=True),
        sa.Column(
            "change_log",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["codeframes.id"],
            name=op.f("fk_codeframes_based_on_id_codeframes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_codeframes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_codeframes_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codeframes")),
        sa.UniqueConstraint(
            "proposal_id", "version", name=op.f("uq_codeframes_proposal_id_version")
        ),
    )
    op.create_index(op.f("ix_codeframes_proposal_id"), "codeframes", ["proposal_id"], unique=False)
    op.create_index(
        "uq_codeframes_proposal_id_draft",
        "codeframes",
        ["proposal_id"],
        unique=True,
        postgresql_where="status = 'draft'",
    )
    op.create_index(
        "uq_codeframes_proposal_id_published",
        "codeframes",
        ["proposal_id"],
        unique=True,
        postgresql_where="status = 'published'",
    )
    op.create_table(
        "themes",
        sa.Column("codeframe_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("include_guidance", sa.Text(), server_default="", nullable=False),
        sa.Column("exclude_guidance", sa.Text(), server_default="", nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column(
            "examples", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column(
            "origin_theme_ids",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["codeframe_id"],
            ["codeframes.id"],
            name=op.f("fk_themes_codeframe_id_codeframes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["themes.id"],
            name=op.f("fk_themes_parent_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("codeframe_id", "code", name=op.f("uq_themes_codeframe_id_code")),
    )
    op.create_index(op.f("ix_themes_parent_id"), "themes", ["parent_id"], unique=False)
    op.create_table(
        "codings",
        sa.Column("answer_id", sa.UUID(), nullable=False),
        sa.Column("theme_id", sa.UUID(), nullable=False),
        sa.Column("codeframe_id", sa.UUID(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "human",
                "model",
                name="coding_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column(
            "evidence", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("supersedes_id", sa.UUID(), nullable=True),
        sa.Column("carried_from_id", sa.UUID(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_codings_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["codings.id"],
            name=op.f("fk_codings_carried_from_id_codings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["codeframe_id"],
            ["codeframes.id"],
            name=op.f("fk_codings_codeframe_id_codeframes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["codings.id"],
            name=op.f("fk_codings_supersedes_id_codings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_codings_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_codings_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codings")),
    )
    op.create_index(
        "ix_codings_answer_id_codeframe_id", "codings", ["answer_id", "codeframe_id"], unique=False
    )
    op.create_index(
        "ix_codings_carried_from_id",
        "codings",
        ["carried_from_id"],
        unique=False,
        postgresql_where=sa.text("carried_from_id IS NOT NULL"),
    )
    op.create_index(
        "ix_codings_codeframe_id_theme_id_present_current",
        "codings",
        ["codeframe_id", "theme_id", "answer_id"],
        unique=False,
        postgresql_where=sa.text("is_current AND present"),
    )
    op.create_index(
        "ix_codings_run_id",
        "codings",
        ["run_id"],
        unique=False,
        postgresql_where=sa.text("run_id IS NOT NULL"),
    )
    op.create_index(
        "ix_codings_supersedes_id",
        "codings",
        ["supersedes_id"],
        unique=False,
        postgresql_where=sa.text("supersedes_id IS NOT NULL"),
    )
    op.create_index(op.f("ix_codings_theme_id"), "codings", ["theme_id"], unique=False)
    op.create_index(
        "uq_codings_answer_id_theme_id_current",
        "codings",
        ["answer_id", "theme_id"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "stances",
        sa.Column("answer_id", sa.UUID(), nullable=True),
        sa.Column("response_id", sa.UUID(), nullable=False),
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column(
            "value",
            sa.Enum(
                "support",
                "oppose",
                "mixed",
                "neutral",
                "unclear",
                name="stance_value",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "human",
                "model",
                name="coding_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column(
            "evidence", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("supersedes_id", sa.UUID(), nullable=True),
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_stances_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_stances_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_stances_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["stances.id"],
            name=op.f("fk_stances_supersedes_id_stances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_stances_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stances")),
    )
    op.create_index(op.f("ix_stances_answer_id"), "stances", ["answer_id"], unique=False)
    op.create_index(
        "ix_stances_proposal_id_value_current",
        "stances",
        ["proposal_id", "value", "response_id"],
        unique=False,
        postgresql_where=sa.text("is_current"),
    )
    op.create_index(
        "ix_stances_supersedes_id",
        "stances",
        ["supersedes_id"],
        unique=False,
        postgresql_where=sa.text("supersedes_id IS NOT NULL"),
    )
    op.create_index(
        "uq_stances_response_id_proposal_id_current",
        "stances",
        ["response_id", "proposal_id"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.execute(APPEND_ONLY_FUNCTION)
    for table in ("codings", "stances"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consult_decisions_append_only()"
        )


def downgrade() -> None:
    for table in ("codings", "stances"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS consult_decisions_append_only()")
    op.drop_index(
        "uq_stances_response_id_proposal_id_current",
        table_name="stances",
        postgresql_where=sa.text("is_current"),
    )
    op.drop_index("ix_stances_supersedes_id", table_name="stances")
    op.drop_index(
        "ix_stances_proposal_id_value_current",
        table_name="stances",
        postgresql_where=sa.text("is_current"),
    )
    op.drop_index(op.f("ix_stances_answer_id"), table_name="stances")
    op.drop_table("stances")
    op.drop_index(
        "uq_codings_answer_id_theme_id_current",
        table_name="codings",
        postgresql_where=sa.text("is_current"),
    )
    op.drop_index(op.f("ix_codings_theme_id"), table_name="codings")
    op.drop_index("ix_codings_supersedes_id", table_name="codings")
    op.drop_index(
        "ix_codings_run_id", table_name="codings", postgresql_where=sa.text("run_id IS NOT NULL")
    )
    op.drop_index(
        "ix_codings_codeframe_id_theme_id_present_current",
        table_name="codings",
        postgresql_where=sa.text("is_current AND present"),
    )
    op.drop_index("ix_codings_carried_from_id", table_name="codings")
    op.drop_index("ix_codings_answer_id_codeframe_id", table_name="codings")
    op.drop_table("codings")
    op.drop_index(op.f("ix_themes_parent_id"), table_name="themes")
    op.drop_table("themes")
    op.drop_index(
        "uq_codeframes_proposal_id_published",
        table_name="codeframes",
        postgresql_where="status = 'published'",
    )
    op.drop_index(
        "uq_codeframes_proposal_id_draft",
        table_name="codeframes",
        postgresql_where="status = 'draft'",
    )
    op.drop_index(op.f("ix_codeframes_proposal_id"), table_name="codeframes")
    op.drop_table("codeframes")
