"""Domain exceptions and the one place that maps them to HTTP responses.

Every error body has the same shape: {"code": ..., "message": ..., "details": ...}.
Services raise these; they never raise HTTPException.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("registry.errors")


class DomainError(Exception):
    """Base of every expected failure; `status` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


class NotAuthenticated(DomainError):
    status, code = 401, "not_authenticated"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class OfficeNotFound(NotFound):
    code = "office_not_found"


class DivisionNotFound(NotFound):
    code = "division_not_found"


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TownshipHasOffice(Conflict):
    code = "township_has_office"


class AlreadyExists(Conflict):
    code = "already_exists"


class DemoAndRealData(Conflict):
    """A real tenant next to the demo tenants, or the demo next to a real tenant."""

    code = "demo_and_real_data"


class PreconditionFailed(DomainError):
    status, code = 412, "precondition_failed"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


class Invalid(DomainError):
    status, code = 422, "invalid"


class InvalidLocation(Invalid):
    code = "invalid_location"


class DivisionMismatch(Invalid):
    code = "division_mismatch"


class NameConvention(Invalid):
    code = "name_convention"


class ImportRejected(Invalid):
    code = "import_rejected"


class PreconditionRequired(DomainError):
    status, code = 428, "precondition_required"


class TooManyAttempts(DomainError):
    status, code = 429, "too_many_attempts"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


def _field_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        out.append(
            {
                "field": ".".join(loc) or str(err.get("loc", ("body",))[0]),
                "problem": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "")),
            }
        )
    return out


def register_error_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to the common error body."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status,
            headers={
                **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}),
                **(exc.headers or {}),
            }
            or None,
        )

    async def _validation(
        request: Request, exc: RequestValidationError | ValidationError
    ) -> JSONResponse:
        fields = _field_errors(exc)
        summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
        return JSONResponse(
            error_body("invalid_request", f"invalid request: {summary}", fields), status_code=422
        )

    # Request parsing errors and model errors raised inside a route look the same to clients.
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _validation)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Checks run before writing; this is what a race between two requests looks like.
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        return JSONResponse(
            error_body(
                "conflict",
                "the change conflicts with existing data (made concurrently?); retry",
                {"constraint": constraint},
            ),
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        return JSONResponse(
            error_body("invalid", "a value is out of range or of the wrong type", None),
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    async def _unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return JSONResponse(
            error_body("unavailable", "the database is unavailable; try again shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "internal error; the request was not applied"),
            status_code=500,
        )
