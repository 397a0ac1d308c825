"""Challenges raised by reviewers and the analysts' answers.

A decided challenge (accepted, rejected, withdrawn) never changes again: a trigger refuses
every UPDATE of it except a deleted user's or codeframe's id becoming NULL. Messages are
never edited (same trigger idea).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 09:04:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED_FUNCTION = """
CREATE FUNCTION consult_challenges_decided_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'open' AND (
           (to_jsonb(NEW) - 'raised_by' - 'decided_by' - 'applied_codeframe_id') IS DISTINCT FROM
           (to_jsonb(OLD) - 'raised_by' - 'decided_by' - 'applied_codeframe_id')
           OR (NEW.raised_by IS NOT NULL AND NEW.raised_by IS DISTINCT FROM OLD.raised_by)
           OR (NEW.decided_by IS NOT NULL AND NEW.decided_by IS DISTINCT FROM OLD.decided_by)
           OR (NEW.applied_codeframe_id IS NOT NULL
               AND NEW.applied_codeframe_id IS DISTINCT FROM OLD.applied_codeframe_id)) THEN
        RAISE EXCEPTION 'a decided challenge never changes (challenge %, status %)',
            OLD.id, OLD.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$
"""

MESSAGES_FUNCTION = """
CREATE FUNCTION consult_challenge_messages_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'author_id') IS DISTINCT FROM (to_jsonb(OLD) - 'author_id')
       OR (NEW.author_id IS NOT NULL AND NEW.author_id IS DISTINCT FROM OLD.author_id) THEN
        RAISE EXCEPTION 'challenge messages are never edited'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$
"""


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("consultation_id", sa.UUID(), nullable=False),
        sa.Column("proposal_id", sa.UUID(), nullable=True),
        sa.Column("kind", _enum("challenge_kind", "coding", "theme", "figure"), nullable=False),
        sa.Column(
            "status",
            _enum("challenge_status", "open", "accepted", "rejected", "withdrawn"),
            nullable=False,
        ),
        sa.Column("raised_by", sa.UUID(), nullable=True),
        sa.Column("answer_id", sa.UUID(), nullable=True),
        sa.Column("codeframe_id", sa.UUID(), nullable=True),
        sa.Column("theme_code", sa.String(length=20), nullable=True),
        sa.Column("figure", sa.String(length=300), server_default="", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "snapshot", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("decided_by", sa.UUID(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "applied", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("applied_codeframe_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind <> 'coding' OR (answer_id IS NOT NULL AND codeframe_id IS NOT NULL"
            " AND theme_code IS NOT NULL))"
            " AND (kind <> 'theme' OR (codeframe_id IS NOT NULL AND theme_code IS NOT NULL))"
            " AND (kind <> 'figure' OR figure <> '')",
            name=op.f("ck_challenges_target_present"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)"
            " AND (status <> 'rejected' OR btrim(resolution) <> '')",
            name=op.f("ck_challenges_decision_recorded"),
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_challenges_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["applied_codeframe_id"],
            ["codeframes.id"],
            name=op.f("fk_challenges_applied_codeframe_id_codeframes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["codeframe_id"],
            ["codeframes.id"],
            name=op.f("fk_challenges_codeframe_id_codeframes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_challenges_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_challenges_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_challenges_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["raised_by"],
            ["users.id"],
            name=op.f("fk_challenges_raised_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    op.create_index(
        "ix_challenges_answer_id",
        "challenges",
        ["answer_id"],
        unique=False,
        postgresql_where="answer_id IS NOT NULL",
    )
    op.create_index(
        "ix_challenges_consultation_id_status",
        "challenges",
        ["consultation_id", "status"],
        unique=False,
    )
    op.create_index(op.f("ix_challenges_proposal_id"), "challenges", ["proposal_id"], unique=False)
    op.create_index(op.f("ix_challenges_raised_by"), "challenges", ["raised_by"], unique=False)
    op.create_table(
        "challenge_messages",
        sa.Column("challenge_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=True),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            _enum("challenge_message_kind", "reply", "accepted", "rejected", "withdrawn"),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_challenge_messages_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_messages_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_messages")),
    )
    op.create_index(
        "ix_challenge_messages_challenge_id",
        "challenge_messages",
        ["challenge_id", "created_at"],
        unique=False,
    )
    op.execute(DECIDED_FUNCTION)
    op.execute(
        "CREATE TRIGGER challenges_decided_immutable BEFORE UPDATE ON challenges "
        "FOR EACH ROW EXECUTE FUNCTION consult_challenges_decided_immutable()"
    )
    op.execute(MESSAGES_FUNCTION)
    op.execute(
        "CREATE TRIGGER challenge_messages_append_only BEFORE UPDATE ON challenge_messages "
        "FOR EACH ROW EXECUTE FUNCTION consult_challenge_messages_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS challenge_messages_append_only ON challenge_messages")
    op.execute("DROP FUNCTION IF EXISTS consult_challenge_messages_append_only()")
    op.execute("DROP TRIGGER IF EXISTS challenges_decided_immutable ON challenges")
    op.execute("DROP FUNCTION IF EXISTS consult_challenges_decided_immutable()")
    op.drop_index("ix_challenge_messages_challenge_id", table_name="challenge_messages")
    op.drop_table("challenge_messages")
    op.drop_index(op.f("ix_challenges_raised_by"), table_name="challenges")
    op.drop_index(op.f("ix_challenges_proposal_id"), table_name="challenges")
    op.drop_index("ix_challenges_consultation_id_status", table_name="challenges")
    op.drop_index("ix_challenges_answer_id", table_name="challenges")
    op.drop_table("challenges")
