from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.enums import ResponseStatus


class BadEvent(BaseModel):
    seq: int
    id: uuid.UUID
    reason: str


class VerifyOut(BaseModel):
    ok: bool
    events_checked: int
    first_bad: BadEvent | None
    # The head of the chain up to the first bad event: note it down (or publish it) to detect
    # a wholesale rewrite of the log later.
    last_seq: int | None
    last_hash: str | None


class ExcludeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ResponseStatusOut(BaseModel):
    id: uuid.UUID
    status: ResponseStatus
    status_reason: str | None
    status_changed_at: datetime | None
