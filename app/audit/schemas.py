from __future__ import annotations

import uuid

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
