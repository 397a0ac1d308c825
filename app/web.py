"""Server-rendered pages: one Jinja environment, CSRF tokens, HTML error pages."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.errors import ConsultError

APP_DIR = Path(__file__).parent


class CsrfFailed(ConsultError):
    status_code = 403
    code = "csrf_failed"
    message = "The form expired or did not come from this site. Go back, reload and try again."


@lru_cache
def templates() -> Jinja2Templates:
    # Shared layouts in app/templates; each domain's pages in app/<domain>/templates/<domain>/.
    folders = [APP_DIR / "templates", *sorted(APP_DIR.glob("*/templates"))]
    env = Environment(
        loader=FileSystemLoader([str(f) for f in folders]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def verify_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not secrets.compare_digest(str(expected), submitted):
        raise CsrfFailed()


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    base = {"request": request, "csrf_token": csrf_token(request)}
    return templates().TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status_code
    )


def render_error(request: Request, status: int, body: dict[str, Any]) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "error": body}, status_code=status)
