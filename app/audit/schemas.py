from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


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


class HeadOut(BaseModel):
    """The chain's latest event. Publish `seq:hash` outside the database; later,
    `consult audit verify --expect-head SEQ:HASH` fails if the log no longer extends it."""

    seq: int | None
    hash: str | None
    occurred_at: datetime | None
    anchor: str | None = None
