"""create_app(): settings, database, routers, templates, static files, background worker."""

import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import home, lifecycle
from app.admission import AdmissionLimit
from app.auth.dependencies import load_user_and_check_csrf
from app.auth.exceptions import LoginRequired
from app.auth.router import router as auth_router
from app.community.pages import router as community_pages
from app.community.router import router as community_api
from app.config import Settings, get_settings
from app.datasets.photos_router import router as dataset_photos_router
from app.datasets.router import router as datasets_router
from app.db import POOL_MAX, make_engine, make_sessionmaker
from app.errors import DomainError
from app.evaluate.card_router import router as evaluation_card_router
from app.evaluate.compare_router import router as compare_router
from app.evaluate.router import router as evaluate_router
from app.lab.router import router as lab_router
from app.lessons.router import router as lessons_router
from app.mywork.router import router as mywork_router
from app.privacy.router import router as privacy_router
from app.quiz.authoring_router import router as quiz_authoring_router
from app.review.router import router as review_router
from app.security import SecurityMiddleware
from app.strict_input import refuse_loose_api_input
from app.text_input import refuse_control_characters
from app.upload_gate import UploadGate
from app.web import STATIC_DIR, redirect, render

log = logging.getLogger("loraface")
# Requests inside the app at once: below the connection pool (POOL_MAX) and anyio's 40 threads,
# with room left for CLI sessions on the same pool.
ADMITTED_REQUESTS = min(32, POOL_MAX - 8)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def _error_response(request: Request, status_code: int, detail, headers=None):
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
    message = detail if isinstance(detail, str) else "The request was not valid."
    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
        headers=headers,
    )


def _validation_detail(exc: RequestValidationError) -> list[dict]:
    """Pydantic errors without the echoed input (which may be a password or a file)."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Map every error once: JSON under /api, a page elsewhere, never a traceback."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={target}")

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        return _error_response(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing here."
        return _error_response(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        if _wants_json(request):
            return JSONResponse({"detail": _validation_detail(exc)}, status_code=422)
        fields = ", ".join(str(e["loc"][-1]) for e in _validation_detail(exc) if e["loc"])
        return _error_response(request, 422, f"Some fields are missing or not valid: {fields}.")

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception):
        # An id or number too large for the database column: a bad request, not our failure.
        # No row can have such an id, so the answer is the same as for any unknown id.
        if "NUL" in str(exc):  # text the request checks missed (a file's content, say)
            return _error_response(request, 400, "The text contains a NUL character; remove it.")
        return _error_response(request, 404, "There is nothing with that id (the number is out of range).")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_response(request, 500, "Something went wrong on our side. It has been logged.")


def include_routers(app: FastAPI) -> None:
    """Every domain's router; pages and /api live side by side."""
    app.include_router(home.router)
    app.include_router(auth_router)

    app.include_router(lessons_router)

    app.include_router(datasets_router)

    app.include_router(dataset_photos_router)

    app.include_router(privacy_router)
    app.include_router(compare_router)  # before /models/{model_id}: "compare" is no model id
    app.include_router(evaluation_card_router)
    app.include_router(mywork_router)
    app.include_router(lab_router)

    app.include_router(evaluate_router)

    app.include_router(review_router)
    app.include_router(community_api)
    app.include_router(community_pages)

    app.include_router(quiz_authoring_router)


def create_app(settings: Settings | None = None, *, start_worker: bool | None = None) -> FastAPI:
    """The application; tests pass their own settings, `start_worker=False` keeps it passive."""
    settings = settings or get_settings()
    settings.ensure_data_dir()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await lifecycle.startup(app)
        try:
            yield
        finally:
            await lifecycle.shutdown(app)

    app = FastAPI(
        title="LoRAFace",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[
            Depends(load_user_and_check_csrf),
            Depends(refuse_control_characters),
            Depends(refuse_loose_api_input),
        ],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.secret_key = settings.resolved_secret_key()
    app.state.start_worker = settings.worker == "thread" if start_worker is None else start_worker

    app.add_middleware(UploadGate)  # inside the security headers, before any body is read
    app.add_middleware(
        SecurityMiddleware,
        secret_key=app.state.secret_key,
        max_body_bytes=settings.max_upload_bytes,
        hsts_seconds=settings.hsts_seconds,
    )
    # Outermost: requests wait here before they hold a thread or a connection (see app.admission).
    app.add_middleware(AdmissionLimit, limit=ADMITTED_REQUESTS)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    install_error_handlers(app)
    include_routers(app)
    return app
