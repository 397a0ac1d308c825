"""Analysis runs and their chunks: state, progress and provenance of every analysis."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAt, UUIDPrimaryKey
from app.enums import checked_enum


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class RunKind(StrEnum):
    redact = "redact"
    dedupe = "dedupe"
    discover = "discover"
    code = "code"
    stance = "stance"


class AnalysisRun(UUIDPrimaryKey, CreatedAt, Base):
    """One analysis over a consultation (or one proposal): what ran, on what, how it went."""

    __tablename__ = "analysis_runs"

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    # A plain string: later kinds (discover, code, stance, dedupe) need no migration.
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[RunStatus] = mapped_column(
        checked_enum(RunStatus, "run_status"), default=RunStatus.queued
    )
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Provenance: same parameters, seed, code and data give the same result.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    code_version: Mapped[str] = mapped_column(String(100), default="")
    package_versions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    data_count: Mapped[int] = mapped_column(Integer, default=0)
    data_hash: Mapped[str | None] = mapped_column(String(64))
    artefact_hash: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 1, plus one per retry.
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)


class AnalysisRunChunk(Base):
    """A slice of a run's input (answers with lower_id <= id < upper_id): one job.

    Its status makes work idempotent: a chunk's results and its `succeeded` mark are written
    in one transaction, and a chunk already `succeeded` is skipped, so a job that runs twice
    (retried after a crash, delivered again) neither writes twice nor counts twice.
    """

    __tablename__ = "analysis_run_chunks"

    run_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("analysis_runs.id", ondelete="CASCADE"),
        primary_key=True,
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    lower_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    upper_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    planned: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[RunStatus] = mapped_column(
        checked_enum(RunStatus, "run_chunk_status"), default=RunStatus.queued
    )
    done: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The procrastinate job (no foreign key: finished jobs may be deleted by the worker).
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    data_hash: Mapped[str | None] = mapped_column(String(64))
    output_hash: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    seconds: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
