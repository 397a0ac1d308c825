"""One exception hierarchy: each error carries its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any


class ConsultError(Exception):
    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, fields: list[dict[str, Any]] | None = None):
        self.message = message or self.message
        self.fields = fields or []
        super().__init__(self.message)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class NotAuthenticated(ConsultError):
    status_code = 401
    code = "not_authenticated"
    message = "Authentication required: send a bearer token or log in."


class Forbidden(ConsultError):
    status_code = 403
    code = "forbidden"
    message = "You do not have access to this."


class NotFound(ConsultError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(ConsultError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class ConsultationClosed(Conflict):
    code = "consultation_closed"
    message = "This consultation is not open for responses."


class AlreadyExists(Conflict):
    code = "already_exists"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


class PayloadTooLarge(ConsultError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."


class ValidationFailed(ConsultError):
    status_code = 422
    code = "validation_failed"
    message = "The request is not valid."


class ImportFailed(ValidationFailed):
    code = "import_failed"
    message = "The import was rejected; nothing was stored."


class RateLimited(ConsultError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests; try again in a minute."


def field_error(loc: list[str | int], message: str, type_: str = "invalid") -> dict[str, Any]:
    return {"loc": loc, "message": message, "type": type_}
