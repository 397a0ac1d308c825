from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.jobs.models import RunKind, RunStatus


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RunKind = Field(description="What to run: `redact` recomputes every redacted text.")
    chunk_size: int | None = Field(
        default=None, ge=100, le=1_000_000, description="Answers per job (default 10,000)."
    )


class Progress(BaseModel):
    done: int
    total: int


class RunOut(BaseModel):
    """An analysis run: its state, progress and provenance."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    consultation_id: uuid.UUID
    proposal_id: uuid.UUID | None
    kind: str
    status: RunStatus
    progress: Progress
    error: str | None
    chunks: int
    attempts: int
    parameters: dict[str, Any]
    seed: int
    code_version: str
    package_versions: dict[str, Any]
    data_count: int
    data_hash: str | None
    artefact_hash: str | None
    metrics: dict[str, Any]
    timings: dict[str, Any]
    created_by: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: Any) -> RunOut:
        return cls.model_validate(
            {
                **{name: getattr(run, name) for name in cls.model_fields if hasattr(run, name)},
                "progress": Progress(done=run.progress_done, total=run.progress_total),
                "chunks": run.chunk_count,
            }
        )
