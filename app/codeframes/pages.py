"""The codeframe editor page: /analyse/proposals/{proposal_id}/codeframe (no JavaScript needed).

Every action is a plain HTML form (POST with the CSRF token) that calls one function of
app/codeframes/editor.py and redirects back (303) with a confirmation; refused input
re-renders the page with a GOV.UK error summary and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.codeframes import editor
from app.codeframes.schemas import MergeOp, RetireOp, SplitOp, ThemeIn, ThemeUpdate
from app.db import SessionDep
from app.discovery import service as discovery
from app.discovery.schemas import DiscoverCreate
from app.errors import ConsultError
from app.jobs.worker import queue_app
from app.users.dependencies import OptionalUser
from app.users.models import User
from app.web import render, verify_csrf

router = APIRouter(include_in_schema=False)

PAGE = "/analyse/proposals/{proposal_id}/codeframe"
DONE = {
    "created": "New draft version started.",
    "added": "Theme added to the draft.",
    "edited": "Theme updated.",
    "retired": "Theme retired from the draft.",
    "merged": "Themes merged.",
    "split": "Theme split.",
    "accepted": "Suggestions added to the draft.",
    "published": "Version published.",
    "discovering": "Theme discovery started. Reload this page in a moment to see suggestions.",
}


def _page(proposal_id: uuid.UUID) -> str:
    return PAGE.format(proposal_id=proposal_id)


def _sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


async def _render(
    request: Request,
    session: SessionDep,
    user: User,
    proposal_id: uuid.UUID,
    *,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await editor.editor_view(session, proposal_id=proposal_id, user=user)
    done = DONE.get(request.query_params.get("done") or "")
    return render(
        request,
        "codeframes/editor.html",
        {
            "view": view,
            "current_user": user,
            "errors": errors or [],
            "values": values or {},
            "done": None if errors else done,
            "page": _page(proposal_id),
        },
        status_code=status_code,
    )


@router.get(PAGE, response_class=HTMLResponse)
async def editor_page(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    if user is None:
        return _sign_in(request)
    return await _render(request, session, user, proposal_id)


def _errors(exc: Exception, prefix: str) -> list[dict[str, str]]:
    if isinstance(exc, ValidationError):
        out = []
        for e in exc.errors():
            name = str(e["loc"][-1]) if e["loc"] else ""
            what = name.replace("_", " ") or "value"
            out.append({"field_id": f"{prefix}{name}", "message": f"Check the {what}: {e['msg']}."})
        return out
    assert isinstance(exc, ConsultError)
    body = exc.to_body()
    fields = body.get("fields") or []
    if fields:
        return [{"field_id": "", "message": str(f.get("message"))} for f in fields]
    return [{"field_id": "", "message": str(body.get("message"))}]


async def _act(
    request: Request,
    session: SessionDep,
    user: User | None,
    proposal_id: uuid.UUID,
    done: str,
    action: Callable[[FormData, User], Awaitable[Any]],
    prefix: str = "",
) -> Response:
    if user is None:
        return _sign_in(request)
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    try:
        await action(form, user)
    except (ValidationError, ConsultError) as exc:
        if isinstance(exc, ConsultError) and exc.status_code not in (409, 422):
            raise
        # Nothing of the refused action is kept; objects are reloaded after the rollback.
        await session.rollback()
        await session.refresh(user)
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        status = 422 if isinstance(exc, ValidationError) else exc.status_code
        return await _render(
            request,
            session,
            user,
            proposal_id,
            errors=_errors(exc, prefix),
            values=values,
            status_code=status,
        )
    return RedirectResponse(f"{_page(proposal_id)}?done={done}", status_code=303)


@router.post(PAGE + "/new")
async def new_version(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        await editor.new_version(session, proposal_id=proposal_id, user=user)

    return await _act(request, session, user, proposal_id, "created", action)


@router.post(PAGE + "/themes")
async def add_theme(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        data = ThemeIn(
            label=_text(form, "label"),
            description=_text(form, "description"),
            include_guidance=_text(form, "include_guidance"),
            exclude_guidance=_text(form, "exclude_guidance"),
        )
        await editor.add_theme(session, proposal_id=proposal_id, user=user, data=data)

    return await _act(request, session, user, proposal_id, "added", action, prefix="add-")


@router.post(PAGE + "/themes/{code}")
async def edit_theme(
    proposal_id: uuid.UUID, code: str, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        data = ThemeUpdate(
            label=_text(form, "label"),
            description=_text(form, "description"),
            include_guidance=_text(form, "include_guidance"),
            exclude_guidance=_text(form, "exclude_guidance"),
        )
        await editor.edit_theme(session, proposal_id=proposal_id, code=code, user=user, data=data)

    return await _act(request, session, user, proposal_id, "edited", action, prefix=f"{code}-")


@router.post(PAGE + "/themes/{code}/retire")
async def retire_theme(
    proposal_id: uuid.UUID, code: str, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        op = RetireOp(op="retire", code=code)
        await editor.operate(session, proposal_id=proposal_id, user=user, operation=op)

    return await _act(request, session, user, proposal_id, "retired", action)


@router.post(PAGE + "/themes/{code}/split")
async def split_theme(
    proposal_id: uuid.UUID, code: str, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        labels = [_text(form, f"label_{i}") for i in (1, 2, 3)]
        into = [ThemeIn(label=label) for label in labels if label]
        op = SplitOp(op="split", code=code, into=into)
        await editor.operate(session, proposal_id=proposal_id, user=user, operation=op)

    return await _act(request, session, user, proposal_id, "split", action, prefix=f"{code}-split-")


@router.post(PAGE + "/merge")
async def merge_themes(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        codes = [str(c) for c in form.getlist("codes")]
        op = MergeOp(op="merge", codes=codes, into=ThemeIn(label=_text(form, "label")))
        await editor.operate(session, proposal_id=proposal_id, user=user, operation=op)

    return await _act(request, session, user, proposal_id, "merged", action, prefix="merge-")


@router.post(PAGE + "/publish")
async def publish(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        await editor.publish(session, proposal_id=proposal_id, user=user)

    return await _act(request, session, user, proposal_id, "published", action)


@router.post(PAGE + "/suggestions")
async def accept_suggestions(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        chosen = []
        for value in form.getlist("suggestion"):
            try:
                sid = uuid.UUID(str(value))
            except ValueError:
                continue
            chosen.append((sid, _text(form, f"label_{sid}")))
        if not chosen:
            from app.errors import ValidationFailed, field_error

            message = "Select at least one suggestion."
            raise ValidationFailed(message, fields=[field_error(["suggestion"], message)])
        merge = _text(form, "merge") == "yes"
        await editor.accept(session, proposal_id=proposal_id, user=user, chosen=chosen, merge=merge)

    return await _act(request, session, user, proposal_id, "accepted", action)


@router.post(PAGE + "/discover")
async def discover(
    proposal_id: uuid.UUID, request: Request, session: SessionDep, user: OptionalUser
) -> Response:
    async def action(form: FormData, user: User) -> None:
        await discovery.start_discovery(
            session,
            queue=queue_app(),
            proposal_id=proposal_id,
            user=user,
            data=DiscoverCreate(),
        )

    return await _act(request, session, user, proposal_id, "discovering", action)
