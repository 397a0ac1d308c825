"""Analyst coding pages (no JavaScript needed):

- `/analyse/answers/{answer_id}`: the coding editor. The answer as submitted and as
  redacted, the current codes with their source, confidence and evidence, a checkbox per
  theme of the published codeframe and the stance; saving records a human coding that
  supersedes the earlier decisions (never updates them); the full history below.
- `/analyse/proposals/{proposal_id}/review`: the review queue (borderline model codings and
  codings carried to a split theme), paged, each item linking to its editor; and, on
  request, the uncoded answers the model is least sure about (active learning).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.coding import editor, service
from app.coding.schemas import CodesIn
from app.db import SessionDep
from app.enums import Stance
from app.errors import ConsultError
from app.users.dependencies import OptionalUser
from app.web import render, verify_csrf

router = APIRouter(include_in_schema=False)

ANSWER_PAGE = "/analyse/answers/{answer_id}"
REVIEW_PAGE = "/analyse/proposals/{proposal_id}/review"


def _sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _local(target: str | None) -> str | None:
    return target if target and target.startswith("/") and not target.startswith("//") else None


@router.get(ANSWER_PAGE, response_class=HTMLResponse)
async def answer_page(
    answer_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    view = await editor.editor_view(session, answer_id=answer_id, user=user)
    return render(
        request,
        "coding/answer.html",
        {
            "view": view,
            "current_user": user,
            "errors": [],
            "saved": request.query_params.get("saved") == "1",
            "back": _local(request.query_params.get("back")),
        },
    )


@router.post(ANSWER_PAGE, response_class=HTMLResponse)
async def save_codes(
    answer_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    back = _local(str(form.get("back") or ""))
    stance_raw = str(form.get("stance") or "")
    errors: list[dict[str, str]] = []
    data: CodesIn | None = None
    try:
        codeframe_id = uuid.UUID(str(form.get("codeframe_id") or ""))
        stance = Stance(stance_raw) if stance_raw else None
        data = CodesIn(
            codeframe_id=codeframe_id,
            themes=[str(v) for v in form.getlist("themes")],
            stance=stance,
        )
    except ValueError:
        errors.append({"field_id": "themes", "message": "Choose themes from the list."})
    if data is not None:
        try:
            await service.set_codes(session, answer_id=answer_id, user=user, data=data)
        except ConsultError as exc:
            if exc.status_code not in (409, 422):
                raise
            await session.rollback()
            await session.refresh(user)
            errors.append({"field_id": "themes", "message": exc.to_body()["message"]})
    if errors:
        view = await editor.editor_view(session, answer_id=answer_id, user=user)
        return render(
            request,
            "coding/answer.html",
            {"view": view, "current_user": user, "errors": errors, "saved": False, "back": back},
            status_code=422,
        )
    suffix = f"&back={quote(back)}" if back else ""
    return RedirectResponse(
        ANSWER_PAGE.format(answer_id=answer_id) + "?saved=1" + suffix, status_code=303
    )


@router.get(REVIEW_PAGE, response_class=HTMLResponse)
async def review_page(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    try:
        page = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        page = 1
    suggest = request.query_params.get("suggest") == "1"
    view = await editor.review_view(
        session, proposal_id=proposal_id, user=user, page=page, suggest=suggest
    )
    here = REVIEW_PAGE.format(proposal_id=proposal_id)
    last = max(1, -(-view.queue.total // view.queue.per_page))
    context: dict[str, Any] = {
        "view": view,
        "current_user": user,
        "errors": [],
        "here": here,
        "back": quote(f"{here}?page={page}"),
        "prev_href": f"{here}?page={page - 1}" if page > 1 else None,
        "next_href": f"{here}?page={page + 1}" if page < last else None,
        "page": page,
        "last": last,
    }
    return render(request, "coding/review.html", context)
