"""Errors the service layer raises; the API turns them into DESIGN.md's error shape, the CLI into exit 2."""
from __future__ import annotations


class HubError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class Invalid(HubError):
    status, code = 422, "validation_error"


class Unauthorized(HubError):
    status, code = 401, "unauthorized"


class Forbidden(HubError):
    status, code = 403, "forbidden"


class NotFound(HubError):
    status, code = 404, "not_found"


class Conflict(HubError):
    status, code = 409, "conflict"


class RateLimited(HubError):
    """Too many attempts; `retry_after` (seconds) is sent as the Retry-After header."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
