"""Challenge pages under /audit/challenges: the list with counts, the "challenge this coding"
form, and a thread page with reply/withdraw (reviewers) and accept/reject (analysts).

Every form works without JavaScript; a refused form is shown again with its error summary.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.challenges import service
from app.challenges.models import ChallengeStatus
from app.challenges.schemas import AcceptIn, ChallengeIn, MessageIn, RejectIn, WithdrawIn
from app.db import SessionDep
from app.errors import Conflict, NotFound, ValidationFailed
from app.users.dependencies import OptionalUser
from app.users.models import User
from app.web import render, verify_csrf

router = APIRouter(prefix="/audit/challenges", include_in_schema=False)

CHALLENGE_IN: TypeAdapter[Any] = TypeAdapter(ChallengeIn)


def _sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _errors(exc: ValidationFailed | Conflict, default_field: str) -> list[dict[str, str]]:
    if not exc.fields:
        return [{"field_id": default_field, "message": exc.message}]
    out = []
    for f in exc.fields:
        loc = [str(part) for part in f.get("loc", [])]
        field_id = loc[0] if loc else default_field
        out.append({"field_id": field_id, "message": str(f.get("message") or exc.message)})
    return out


def _pydantic_errors(exc: PydanticValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        loc = [str(part) for part in e["loc"] if part not in ("coding", "theme", "figure")]
        out.append({"field_id": loc[0] if loc else "reason", "message": e["msg"]})
    return out


async def _form(request: Request) -> FormData:
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    return form


# --------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def list_page(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    consultation: str | None = None,
    status: str | None = None,
) -> Response:
    if user is None:
        return _sign_in(request)
    chosen = ChallengeStatus(status) if status in set(ChallengeStatus) else None
    view = await service.list_view(session, user=user, slug=consultation, status=chosen)
    return render(
        request,
        "challenges/list.html",
        {"current_user": user, "view": view, "status": chosen.value if chosen else None},
    )


# --------------------------------------------------------------------------------------
# Raising
# --------------------------------------------------------------------------------------


async def _new_page(
    request: Request,
    session: SessionDep,
    user: User,
    params: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    form = await service.new_form(
        session,
        user=user,
        kind=params.get("kind") or ("coding" if params.get("answer_id") else "figure"),
        answer_id=params.get("answer_id"),
        codeframe_id=params.get("codeframe_id"),
        theme=params.get("theme"),
        slug=params.get("consultation"),
    )
    return render(
        request,
        "challenges/new.html",
        {"current_user": user, "form": form, "values": params, "errors": errors or []},
        status_code=status_code,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_page(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """`?answer_id=...&theme=P1-03` (a coding), `?kind=theme&codeframe_id=...&theme=...`
    or `?kind=figure&consultation=slug`."""
    if user is None:
        return _sign_in(request)
    return await _new_page(request, session, user, dict(request.query_params))


@router.post("/new", response_class=HTMLResponse)
async def raise_challenge(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is None:
        return _sign_in(request)
    form = await _form(request)
    params = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "proposed_themes")}
    body: dict[str, Any] = {k: v for k, v in params.items() if v != "" or k == "reason"}
    kind = params.get("kind")
    if kind == "coding":
        body["proposed_themes"] = [str(v) for v in form.getlist("proposed_themes")]
    slug = body.pop("consultation", "")
    for key in ("proposed_description", "proposed_text"):
        if key in params:
            body[key] = params[key]
    try:
        data = CHALLENGE_IN.validate_python(body)
        async with session.begin_nested():
            created = await service.raise_challenge(session, slug=slug, user=user, data=data)
    except PydanticValidationError as exc:
        params["proposed_themes"] = ",".join(body.get("proposed_themes", []))
        return await _new_page(request, session, user, params, _pydantic_errors(exc), 422)
    except (ValidationFailed, Conflict) as exc:
        params["proposed_themes"] = ",".join(body.get("proposed_themes", []))
        return await _new_page(request, session, user, params, _errors(exc, "reason"), 422)
    return RedirectResponse(f"/audit/challenges/{created.id}?done=raised", status_code=303)


# --------------------------------------------------------------------------------------
# The thread
# --------------------------------------------------------------------------------------


async def _thread(
    request: Request,
    session: SessionDep,
    user: User,
    challenge_id: uuid.UUID,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await service.thread_view(session, challenge_id=challenge_id, user=user)
    return render(
        request,
        "challenges/thread.html",
        {
            "current_user": user,
            "view": view,
            "c": view.challenge,
            "errors": errors or [],
            "values": values or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/{challenge_id}", response_class=HTMLResponse)
async def thread_page(
    challenge_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    return await _thread(request, session, user, challenge_id)


@router.post("/{challenge_id}/{action}", response_class=HTMLResponse)
async def act(
    challenge_id: uuid.UUID,
    action: str,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
) -> Response:
    if user is None:
        return _sign_in(request)
    form = await _form(request)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    field = {"reply": "body", "withdraw": "note", "accept": "resolution", "reject": "reason"}
    if action not in field:
        raise NotFound("No such page.")
    try:
        async with session.begin_nested():
            await _do(session, challenge_id, user, action, values, form)
    except PydanticValidationError as exc:
        errors = [{"field_id": field[action], "message": e["msg"]} for e in exc.errors()]
        return await _thread(request, session, user, challenge_id, errors, values, 422)
    except (ValidationFailed, Conflict) as exc:
        code = 409 if isinstance(exc, Conflict) else 422
        errors = _errors(exc, field[action])
        for e in errors:
            if e["field_id"] not in field.values() and action != "accept":
                e["field_id"] = field[action]
        return await _thread(request, session, user, challenge_id, errors, values, code)
    done = {"reply": "replied", "withdraw": "withdrawn", "accept": "accepted", "reject": "rejected"}
    anchor = "#thread" if action == "reply" else ""
    return RedirectResponse(
        f"/audit/challenges/{challenge_id}?done={done[action]}{anchor}", status_code=303
    )


async def _do(
    session: AsyncSession,
    challenge_id: uuid.UUID,
    user: User,
    action: str,
    values: dict[str, str],
    form: FormData,
) -> None:
    """One service call per action (inside the caller's savepoint)."""
    if action == "reply":
        data_m = MessageIn(body=values.get("body", ""))
        await service.add_message(session, challenge_id=challenge_id, user=user, data=data_m)
    elif action == "withdraw":
        data_w = WithdrawIn(note=values.get("note", ""))
        await service.withdraw(session, challenge_id=challenge_id, user=user, data=data_w)
    elif action == "reject":
        data_r = RejectIn(reason=values.get("reason", ""))
        await service.reject(session, challenge_id=challenge_id, user=user, data=data_r)
    else:
        # The analyst's own set of themes (coding) or wording (theme), when the form sent one.
        themes = [str(v) for v in form.getlist("themes")] if "themes_given" in values else None
        data_a = AcceptIn(
            resolution=values.get("resolution", ""),
            themes=themes,
            label=values.get("label") or None,
            description=values.get("description"),
        )
        await service.accept(session, challenge_id=challenge_id, user=user, data=data_a)
