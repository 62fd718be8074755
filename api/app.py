"""The application factory: one settings object in, one FastAPI app out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from api import auth, health, openapi, problems
from api.compression import CompressionMiddleware
from api.deps import SessionGate, throttle_guard
from api.jobs_wiring import start_jobs
from api.methods import allowed_methods
from api.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from api.retry_middleware import TransactionRetryMiddleware, mark_retryable
from api.settings import Environment, Settings
from api.v1 import admin as api_v1_admin
from api.v1 import auth as api_v1_auth
from api.v1 import router as api_v1_router
from surveys.db import make_engine, make_session_factory, pool_capacity
from surveys.errors import DomainError, RateLimited
from surveys.retry import DEFAULT_POLICY, TransactionRetriesExhausted, retryable_sqlstate
from web import (
    admin,
    auth_pages,
    coordinator,
    evidence_pages,
    job_pages,
    map_pages,
    official_pages,
    pages,
    wave_pages,
)
from web.errors import render_error_page
from web.respondent import pages as respondent_pages
from web.respondent.unavailable import kept_answers_page
from web.templating import STATIC_DIR

logger = logging.getLogger("accessgap")


def create_app(settings: Settings) -> FastAPI:
    """Build the app against the database the settings name. The schema must be migrated."""
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        isolation_level=settings.database_isolation,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs = start_jobs(settings, app.state.session_factory)
        yield
        if jobs is not None:
            jobs.stop()
        engine.dispose()

    app = FastAPI(
        title="accessgap",
        version="0.1.0",
        summary="Surveys and equity maps of access to hi-tech cancer care",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.session_gate = SessionGate(pool_capacity(settings.db_pool_size))
    app.state.throttle_guard = throttle_guard(settings)

    app.include_router(health.router)
    app.include_router(api_v1_router)
    app.include_router(api_v1_auth.router, prefix="/api/v1")
    app.include_router(api_v1_admin.router, prefix="/api/v1")
    app.include_router(pages.router)
    app.include_router(auth_pages.router)
    app.include_router(admin.router)
    app.include_router(coordinator.router)
    app.include_router(respondent_pages.router)
    app.include_router(map_pages.router)
    app.include_router(official_pages.router)
    app.include_router(wave_pages.router)
    app.include_router(job_pages.router)
    app.include_router(evidence_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    pages.mount_vendor_assets(app)

    _install_error_handlers(app)
    auth.install(app, settings, render_error_page=render_error_page)
    openapi.install(app, settings)
    app.add_middleware(TransactionRetryMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware, hsts=settings.environment is Environment.PRODUCTION
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = problems.STATUS_BY_KIND[exc.kind]
        if auth.wants_json(request):
            response: Response = problems.from_domain_error(request, exc)
        else:
            response = render_error_page(request, status, exc.title, exc.detail)
            if status == 503:
                response.headers["Retry-After"] = problems.RETRY_AFTER_SECONDS
            if isinstance(exc, RateLimited):
                response.headers["Retry-After"] = str(exc.retry_after)
        sqlstate = retryable_sqlstate(exc)
        return response if sqlstate is None else mark_retryable(response, sqlstate)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if auth.wants_json(request):
            return problems.from_validation_error(request, exc)
        return render_error_page(
            request, 422, "Invalid request", "The address or the form data is not valid."
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # every route of the path counts, not the first one
            allow = ", ".join(allowed_methods(request.app, request.scope))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": allow})
            headers = {**(exc.headers or {}), "Allow": allow}
            exc = StarletteHTTPException(405, exc.detail, headers=headers)
        if auth.wants_json(request):
            return problems.from_http_exception(request, exc)
        # Our own 429s carry a sentence for people; framework 404/405 details stay hidden.
        detail = str(exc.detail) if exc.status_code == 429 else ""
        response = render_error_page(request, exc.status_code, _page_title(exc.status_code), detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        sqlstate = retryable_sqlstate(exc)
        if sqlstate is not None:  # a lost race: run the request again, else 503 database_busy
            busy = TransactionRetriesExhausted(
                sqlstate=sqlstate, attempts=DEFAULT_POLICY.retries + 1
            )
            kept = (
                None
                if auth.wants_json(request)
                else await kept_answers_page(request, problems.RETRY_AFTER_SECONDS)
            )
            return mark_retryable(kept or await domain_error(request, busy), sqlstate)
        return await unexpected_error(request, exc)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DBAPIError) and problems.is_database_unavailable(exc):
            if auth.wants_json(request):
                return problems.from_database_unavailable(request, exc)
            kept = await kept_answers_page(request, problems.RETRY_AFTER_SECONDS)
            if kept is not None:
                return kept
            response = render_error_page(
                request,
                503,
                "Service temporarily unavailable",
                "The database cannot be reached. Nothing was saved; please try again shortly.",
            )
            response.headers["Retry-After"] = problems.RETRY_AFTER_SECONDS
            return response
        logger.exception("unhandled error (request %s)", getattr(request.state, "request_id", "-"))
        if auth.wants_json(request):
            return problems.internal_error(request)
        return render_error_page(
            request, 500, "Internal error", "Something went wrong on our side."
        )


def _page_title(status: int) -> str:
    return {
        404: "Page not found",
        405: "Method not allowed",
        413: "Request too large",
        429: "Too many attempts",
    }.get(status, "Request failed")
