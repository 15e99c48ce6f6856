"""The one map from domain errors to what an API client sees. (Inside a state machine task the error's class name
is the Step Functions error name instead: see dawra.domain.errors.)"""

from __future__ import annotations

from dataclasses import dataclass

from dawra.domain import errors

RETRY_AFTER_S = 1


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str


HTTP: dict[type[errors.DomainError], HttpError] = {
    errors.InvalidOrder: HttpError(422, "invalid_order"),
    errors.OrderNotFound: HttpError(404, "order_not_found"),
    errors.PaymentDeclined: HttpError(402, "payment_declined"),
    errors.OutOfStock: HttpError(409, "out_of_stock"),
    errors.IdempotencyKeyReused: HttpError(422, "idempotency_key_reused"),
    errors.TransientError: HttpError(503, "temporarily_unavailable"),
    errors.IllegalTransition: HttpError(409, "illegal_transition"),
    errors.ConcurrentChange: HttpError(503, "temporarily_unavailable"),
    errors.WebhookRejected: HttpError(400, "webhook_rejected"),
}


def http_error(error: errors.DomainError) -> HttpError:
    for cls in type(error).__mro__:
        if cls in HTTP:
            return HTTP[cls]
    return HttpError(400, "bad_request")


def error_body(error: errors.DomainError) -> dict:
    body: dict = {"code": http_error(error).code, "message": error.message}
    if error.field:
        body["field"] = error.field
    return {"error": body}


def error_headers(error: errors.DomainError) -> dict[str, str]:
    """503s tell the client when to retry (with the same Idempotency-Key)."""
    return {"Retry-After": str(RETRY_AFTER_S)} if http_error(error).status == 503 else {}


def validation_error_body(problems: list[dict]) -> dict:
    """Field-level messages: {"field": "lines.0.quantity", "message": "..."}."""
    fields = []
    for problem in problems:
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body",)]
        fields.append({"field": ".".join(location) or "body", "message": problem.get("msg", "invalid")})
    return {"error": {"code": "invalid_request", "message": "the request is not valid", "fields": fields}}
