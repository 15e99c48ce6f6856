"""Domain errors, and the one place that says what each means to an API client or to Step Functions.

A Lambda that raises one of these inside a state machine task fails with the class name as the error name, so
Retry/Catch in the ASL match on `OutOfStock`, `TransientError`, ... Keep the class names stable."""

from __future__ import annotations


class DomainError(Exception):
    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


class InvalidOrder(DomainError):
    http_status = 422
    code = "invalid_order"


class OrderNotFound(DomainError):
    http_status = 404
    code = "order_not_found"


class PaymentDeclined(DomainError):
    http_status = 402
    code = "payment_declined"


class OutOfStock(DomainError):
    http_status = 409
    code = "out_of_stock"


class IdempotencyKeyReused(DomainError):
    http_status = 422
    code = "idempotency_key_reused"


class TransientError(DomainError):
    """Worth retrying: a dependency was briefly unavailable. Retried by the ASL and by API clients."""

    http_status = 503
    code = "temporarily_unavailable"


class InvalidTaskInput(DomainError):
    code = "invalid_task_input"


class WebhookRejected(DomainError):
    """A carrier webhook that will never be processable (bad signature, unknown carrier, malformed body)."""

    http_status = 400
    code = "webhook_rejected"
