"""The procrastinate job queue schema and analysis runs.

Procrastinate's objects come from its packaged `schema.sql` (the version installed). When
procrastinate is upgraded, a new revision applies the files of its `sql/migrations` folder
that are newer than this one (see `procrastinate schema --migrations-path`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "running", "succeeded", "failed")
PROCRASTINATE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
PROCRASTINATE_TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def _status(name: str) -> sa.Column:
    return sa.Column(
        "status",
        sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True, length=32),
        server_default="queued",
        nullable=False,
    )


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    # The packaged SQL holds '%' and several statements: run it on the driver connection
    # (psycopg sends a query without parameters as it is), inside the migration's transaction.
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())

    op.create_table(
        "analysis_runs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("consultation_id", sa.UUID(), nullable=False),
        sa.Column("proposal_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _status("run_status"),
        sa.Column("progress_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("parameters", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("seed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("code_version", sa.String(length=100), server_default="", nullable=False),
        sa.Column(
            "package_versions", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("data_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=True),
        sa.Column("artefact_hash", sa.String(length=64), nullable=True),
        sa.Column("metrics", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("timings", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("chunk_count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_analysis_runs_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_analysis_runs_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_analysis_runs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_runs")),
    )
    op.create_index(op.f("ix_analysis_runs_consultation_id"), "analysis_runs", ["consultation_id"])
    op.create_index(op.f("ix_analysis_runs_proposal_id"), "analysis_runs", ["proposal_id"])
    op.create_table(
        "analysis_run_chunks",
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("lower_id", sa.UUID(), nullable=True),
        sa.Column("upper_id", sa.UUID(), nullable=True),
        sa.Column("planned", sa.Integer(), server_default="0", nullable=False),
        _status("run_chunk_status"),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("data_hash", sa.String(length=64), nullable=True),
        sa.Column("output_hash", sa.String(length=64), nullable=True),
        sa.Column("metrics", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_runs.id"],
            name=op.f("fk_analysis_run_chunks_run_id_analysis_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "index", name=op.f("pk_analysis_run_chunks")),
    )


def downgrade() -> None:
    op.drop_table("analysis_run_chunks")
    op.drop_index(op.f("ix_analysis_runs_proposal_id"), table_name="analysis_runs")
    op.drop_index(op.f("ix_analysis_runs_consultation_id"), table_name="analysis_runs")
    op.drop_table("analysis_runs")
    # Procrastinate's tables (their triggers and indexes go with them), every function it
    # created (whatever its version suffix), then its types. plpgsql stays: it is built in.
    op.execute(f"DROP TABLE IF EXISTS {', '.join(PROCRASTINATE_TABLES)} CASCADE")
    op.execute(
        """
        DO $$
        DECLARE fn record;
        BEGIN
            FOR fn IN
                SELECT p.oid::regprocedure AS signature
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema()
                  AND starts_with(p.proname, 'procrastinate_')
            LOOP
                EXECUTE 'DROP FUNCTION ' || fn.signature || ' CASCADE';
            END LOOP;
        END
        $$
        """
    )
    op.execute(f"DROP TYPE IF EXISTS {', '.join(PROCRASTINATE_TYPES)} CASCADE")
