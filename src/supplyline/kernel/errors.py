"""Domain errors. The API maps each class to one HTTP status and a problem+json body."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One reason a value was refused; ``field`` is a dotted path such as ``lines.0.quantity``."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class DomainError(Exception):
    """Base of every error a user can act on."""

    status = 400
    title = "Bad request"
    # RFC 9457 extension members the answer carries beside the standard ones (a job's id).
    extensions: dict[str, Any] | None = None

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Invalid(DomainError):
    status = 422
    title = "Invalid input"

    def __init__(self, field: str, reason: str, *, more: list[FieldError] | None = None) -> None:
        errors = [FieldError(field, reason), *(more or [])]
        super().__init__(f"{field}: {reason}", errors)

    @classmethod
    def many(cls, errors: list[FieldError]) -> Invalid:
        first, *rest = errors
        return cls(first.field, first.reason, more=rest)


class BadParameter(DomainError):
    """A request parameter the server cannot take: unknown, repeated or malformed (400, naming
    it). ``problem_type`` is the URI a standard binding gives the error (EPCIS 2.0 answers
    ``epcisException:QueryParameterException``); None: the platform's own."""

    status = 400
    title = "Bad query parameter"

    def __init__(self, parameter: str, reason: str, *, problem_type: str | None = None) -> None:
        super().__init__(f"{parameter}: {reason}", [FieldError(parameter, reason)])
        self.problem_type = problem_type


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


MAX_RETRY_AFTER_S = 86_400


class QuotaExceeded(DomainError):
    """A quota refused the work; trying again after ``retry_after`` seconds may pass.

    ``quota`` names it as a user reads it (``tenant requests/s``, ``api key requests/s``,
    ``readings/s``, ``devices``) and ``limit`` is its value."""

    status = 429
    title = "Too many requests"

    def __init__(self, quota: str, limit: float, retry_after: float, detail: str) -> None:
        # Retry-After carries whole seconds; 0 would invite an immediate, futile retry, and a
        # wait beyond a day (or not a number at all) is said as a day: a hint, never a crash.
        wait = retry_after if math.isfinite(retry_after) else MAX_RETRY_AFTER_S
        self.retry_after = max(1, math.ceil(min(wait, MAX_RETRY_AFTER_S)))
        super().__init__(f"{detail}; retry after {self.retry_after} s")
        self.quota = quota
        self.limit = limit
