"""The ASGI application: routers, pages, error handling, database lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from app.config import get_settings
from app.db import make_engine, make_sessionmaker
from app.errors import ConsultError
from app.middleware import BodySizeLimit
from app.security import server_key

STATIC_DIR = Path(__file__).parent / "static"


def _loc(loc: tuple[Any, ...]) -> list[Any]:
    # Drop pydantic's "body" prefix and union tags so locations name the client's own fields.
    return [part for part in loc if part != "body"]


def error_response(request: Request, status: int, body: dict[str, Any]) -> Any:
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(body, status_code=status)
    from app.web import render_error

    return render_error(request, status, body)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ConsultError)
    async def consult_error(request: Request, exc: ConsultError) -> Any:
        return error_response(request, exc.status_code, exc.to_body())

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Any:
        fields = [
            {"loc": _loc(tuple(e["loc"])), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        body = {
            "code": "validation_failed",
            "message": "The request is not valid.",
            "fields": fields,
        }
        return error_response(request, 422, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        phrase = HTTPStatus(exc.status_code).phrase
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        message = exc.detail if isinstance(exc.detail, str) else phrase
        return error_response(request, exc.status_code, {"code": code, "message": message})


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Tests install their own sessionmaker (bound to a rolled-back transaction).
    engine = None
    if getattr(app.state, "sessionmaker", None) is None:
        settings = get_settings()
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set; start the app with `consult serve`.")
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.sessionmaker = make_sessionmaker(engine)
    try:
        yield
    finally:
        if engine is not None:
            await engine.dispose()
            app.state.sessionmaker = None


def api_routers() -> list[Any]:
    """Each domain's JSON API router (one line per domain)."""
    from app.audit.router import router as audit
    from app.campaigns.router import router as campaigns
    from app.challenges.router import router as challenges
    from app.codeframes.router import router as codeframes
    from app.coding.router import router as coding
    from app.coding.runs_router import router as coding_runs
    from app.consultations.router import router as consultations
    from app.discovery.router import router as discovery
    from app.exports.router import router as exports
    from app.imports.router import router as imports
    from app.jobs.router import router as jobs
    from app.responses.router import router as responses
    from app.samples.router import router as samples
    from app.themes.router import router as themes

    return [
        consultations,
        responses,
        imports,
        audit,
        jobs,
        codeframes,
        coding,
        coding_runs,
        exports,
        samples,
        challenges,
        campaigns,
        discovery,
        themes,
    ]


def page_routers() -> list[Any]:
    from app.challenges.pages import router as challenge_pages
    from app.codeframes.pages import router as codeframe_pages
    from app.coding.pages import router as coding_pages
    from app.consultations.pages import router as consultation_pages
    from app.reports.pages import router as report_pages
    from app.samples.pages import router as sample_pages
    from app.themes.pages import router as theme_pages
    from app.users.pages import router as user_pages

    return [
        consultation_pages,
        user_pages,
        codeframe_pages,
        coding_pages,
        challenge_pages,
        report_pages,
        sample_pages,
        theme_pages,
    ]


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Consult",
        version="0.1.0",
        description="Public consultation responses: intake, coding into themes, external audit.",
        lifespan=lifespan,
    )
    app.state.sessionmaker = None
    install_error_handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=server_key().decode(),
        session_cookie="consult_session",
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request) -> JSONResponse:
        from app.migrate import head_revision

        try:
            async with request.app.state.sessionmaker() as session:
                current = await session.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception as exc:  # any database failure means "not ready"
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, 503)
        if current != head_revision():
            return JSONResponse({"status": "migrating", "revision": current}, status_code=503)
        return JSONResponse({"status": "ok", "revision": current})

    for api_router in api_routers():
        app.include_router(api_router)
    for pages_router in page_routers():
        app.include_router(pages_router)
    return app
