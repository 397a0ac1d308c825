from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.enums import CodeframeStatus

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, description="e.g. P2-07")]


class ThemeIn(BaseModel):
    code: Code | None = Field(default=None, description="Generated (P<proposal>-<nn>) if omitted.")
    label: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    include_guidance: str = Field(default="", max_length=5000)
    exclude_guidance: str = Field(default="", max_length=5000)
    parent_code: Code | None = None
    examples: list[Annotated[str, Field(max_length=5000)]] = Field(
        default_factory=list, max_length=50
    )


class ThemeUpdate(BaseModel):
    label: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    include_guidance: str | None = Field(default=None, max_length=5000)
    exclude_guidance: str | None = Field(default=None, max_length=5000)
    parent_code: Code | None = None
    examples: list[Annotated[str, Field(max_length=5000)]] | None = Field(
        default=None, max_length=50
    )


class AddOp(BaseModel):
    op: Literal["add"]
    theme: ThemeIn


class RenameOp(BaseModel):
    op: Literal["rename"]
    code: Code
    label: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class MergeOp(BaseModel):
    op: Literal["merge"]
    codes: list[Code] = Field(min_length=2, max_length=50)
    into: ThemeIn


class SplitOp(BaseModel):
    op: Literal["split"]
    code: Code
    into: list[ThemeIn] = Field(min_length=2, max_length=20)


class RetireOp(BaseModel):
    op: Literal["retire"]
    code: Code


Operation = Annotated[AddOp | RenameOp | MergeOp | SplitOp | RetireOp, Field(discriminator="op")]


class CodeframeCreate(BaseModel):
    """Empty, from a list of themes, or `based_on` the published version with `operations`."""

    themes: list[ThemeIn] = Field(default_factory=list, max_length=500)
    based_on: uuid.UUID | None = None
    operations: list[Operation] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def one_source(self) -> Self:
        if self.based_on is not None and self.themes:
            raise ValueError("Give either themes or based_on (with operations), not both.")
        if self.operations and self.based_on is None:
            raise ValueError("operations apply to a previous version: set based_on.")
        return self


class ThemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    label: str
    description: str
    include_guidance: str
    exclude_guidance: str
    parent_code: str | None
    examples: list[str]
    origin_theme_ids: list[uuid.UUID]
    position: int


class CodeframeSummary(BaseModel):
    id: uuid.UUID
    proposal_id: uuid.UUID
    version: int
    status: CodeframeStatus
    based_on_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime
    published_at: datetime | None
    theme_count: int


class CodeframeOut(CodeframeSummary):
    themes: list[ThemeOut]
    change_log: list[dict[str, Any]]
