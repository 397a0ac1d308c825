from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class ImportOut(BaseModel):
    import_id: uuid.UUID
    format: str = Field(description="csv, xlsx, jsonl or themefinder")
    filename: str
    responses: int = Field(description="Responses stored (one per row).")
    answers: int = Field(description="Answers stored (non-blank cells of question columns).")
