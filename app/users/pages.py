"""Sign in and out of the pages (a signed session cookie)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.db import SessionDep
from app.users import service
from app.web import render, verify_csrf

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a signed-in user to another site.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "users/login.html",
        {"next": _safe_next(request.query_params.get("next")), "errors": []},
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: SessionDep) -> Any:
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    user = await service.user_for_password(session, email=email, password=password)
    if user is None:
        errors = [{"field_id": "email", "message": "Enter a correct email address and password."}]
        return render(
            request,
            "users/login.html",
            {"next": _safe_next(str(form.get("next") or "")), "errors": errors, "email": email},
            status_code=401,
        )
    request.session.clear()
    request.session["user_id"] = str(user.id)
    return RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    form = await request.form()
    verify_csrf(request, str(form.get("csrf_token") or ""))
    request.session.clear()
    return RedirectResponse("/", status_code=303)
