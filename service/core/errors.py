"""Domain exceptions: what services raise when a request cannot be done (the HTTP layer,
`service/http/errors.py`, turns them into responses; services never raise HTTPException).

Every error body has the same shape: {"code": ..., "message": ..., "details": ...}.
"""

from __future__ import annotations

from typing import Any


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


class ReadOnly(Forbidden):
    """A read-only access token asked to change something."""

    code = "read_only"


class NotFound(DomainError):
    status, code = 404, "not_found"


class OfficeNotFound(NotFound):
    code = "office_not_found"


class DivisionNotFound(NotFound):
    code = "division_not_found"


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class Unavailable(DomainError):
    """Something the service needs is missing on this machine (the operator can fix it)."""

    status, code = 503, "unavailable"


class MethodNotAllowed(DomainError):
    status, code = 405, "method_not_allowed"


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


class InvalidParameter(Invalid):
    """A query parameter the request cannot be answered with: a 400, as the OGC API
    standards ask (a body that fails validation stays a 422)."""

    status, code = 400, "invalid_parameter"


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
