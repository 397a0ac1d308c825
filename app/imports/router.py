"""POST /api/v1/consultations/{slug}/imports: upload a file of responses (analysts, admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from app.config import get_settings
from app.db import SessionDep
from app.imports import service
from app.imports.schemas import ImportOut
from app.users.dependencies import AnalystUser
from app.users.models import User

router = APIRouter(prefix="/api/v1/consultations/{slug}/imports", tags=["imports"])


async def importer(slug: str, session: SessionDep, user: AnalystUser) -> User:
    """An admin, or an analyst who is a member of the consultation (checked before the upload
    is read, so an outsider learns nothing from validation errors)."""
    await service.authorise(session, slug=slug, user=user)
    return user


Importer = Annotated[User, Depends(importer)]


@router.post(
    "",
    response_model=ImportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Import responses from a file (all rows or none)",
    description=(
        "Multipart upload. `file`: CSV, XLSX, JSONL, or a zip of the Consult/ThemeFinder "
        "layout (`inputs/question_part_N/responses.jsonl`, `inputs/respondents.jsonl`). "
        "`format` (optional) overrides the extension. `mapping` (optional) is a JSON object "
        '`{"column": "question number" | respondent field | "attribute" | null}`. '
        "Any problem answers 422 `import_failed` with up to 20 fields, each naming the row "
        "and column, and stores nothing."
    ),
)
async def import_file(
    slug: str,
    session: SessionDep,
    user: Importer,
    file: Annotated[UploadFile, File(description="The file of responses.")],
    mapping: Annotated[str | None, Form(description="JSON mapping of columns.")] = None,
    format: Annotated[str | None, Form(description="csv, xlsx, jsonl or themefinder.")] = None,
) -> ImportOut:
    # Size: BodySizeLimit refuses uploads over CONSULT_MAX_UPLOAD_BYTES (413) before this runs.
    data = await file.read()
    result = await service.import_responses(
        session,
        slug=slug,
        user=user,
        filename=file.filename or "upload",
        data=data,
        file_format=format,
        mapping=service.parse_mapping(mapping),
        max_answer_chars=get_settings().max_answer_chars,
    )
    return ImportOut(
        import_id=result.import_id,
        format=result.format,
        filename=result.filename,
        responses=result.responses,
        answers=result.answers,
    )
