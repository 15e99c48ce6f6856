"""Errors as API clients see them: one shape everywhere, `application/problem+json` (RFC 9457).

    {"type": "urn:dawra:problem:out_of_stock", "title": "Out of stock", "status": 409,
     "detail": "...", "code": "out_of_stock", "errors": [{"path": "lines[0].quantity", "message": "..."}]}

`errors` appears on validation problems only. This module is the one map from domain errors to HTTP (inside a
state machine task the error's class name is the Step Functions error name instead: see dawra.domain.errors), and
the guard every request body passes before anything parses it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain import accounts, cod, cod_rules, errors, inventory, return_claims, return_lines, stock_feeds
from dawra.domain.availability import LineAvailability, ShortOfStock
from dawra.domain.returns import PickupNotOffered

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 1
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16


class FieldProblem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    path: str = Field(description="Where in the request, e.g. lines[0].quantity or headers.Idempotency-Key")
    message: str


class Problem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: str = Field(description="A URI naming the kind of problem: urn:dawra:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="The kind of problem, stable for programs to match on")
    errors: list[FieldProblem] | None = None


class StockProblem(Problem):
    """A checkout refused as out of stock: each line the stock cannot cover, what it asked for and what there is."""

    availability: list[LineAvailability] | None = Field(
        default=None, description="Out of stock at checkout: each short line (sku, requested, available across "
                                  "every location); absent on other problems")


@dataclass(frozen=True)
class Kind:
    status: int
    code: str
    title: str


HTTP: dict[type[errors.DomainError], Kind] = {
    errors.InvalidOrder: Kind(422, "invalid_order", "The order cannot be placed as asked"),
    errors.OrderNotFound: Kind(404, "order_not_found", "No such order"),
    errors.InvalidCustomerDetails: Kind(422, "invalid_details", "These details cannot be used as given"),
    errors.PaymentDeclined: Kind(402, "payment_declined", "The payment was declined"),
    errors.OutOfStock: Kind(409, "out_of_stock", "Out of stock"),
    errors.CatalogProblem: Kind(409, "catalog_problem", "An item cannot be sold as the catalog describes it"),
    errors.IdempotencyKeyReused: Kind(422, "idempotency_key_reused", "Idempotency-Key used for another request"),
    errors.TransientError: Kind(503, "temporarily_unavailable", "Temporarily unavailable; retry"),
    errors.ConcurrentChange: Kind(503, "temporarily_unavailable", "Temporarily unavailable; retry"),
    errors.IllegalTransition: Kind(409, "illegal_transition", "Not possible in the order's current status"),
    errors.WebhookRejected: Kind(400, "webhook_rejected", "Webhook rejected"),
    inventory.StockRefused: Kind(409, "stock_refused", "The stock cannot change as asked"),
    inventory.TransferNotFound: Kind(404, "transfer_not_found", "No such transfer"),
    return_lines.LinesNotReturnable: Kind(409, "not_returnable", "Some items cannot be returned"),
    return_lines.ReturnNotFound: Kind(404, "return_not_found", "No such return"),
    return_claims.LinesNotClaimable: Kind(409, "not_claimable", "Some items cannot be claimed for"),
    cod.RemittanceFileInvalid: Kind(422, "remittance_file_invalid", "The remittance file cannot be read"),
    stock_feeds.FeedInvalid: Kind(422, "stock_feed_invalid", "The stock feed cannot be read"),
    stock_feeds.FeedIdReused: Kind(422, "feed_id_reused", "This feed id was imported with other content"),
    stock_feeds.FeedNotFound: Kind(404, "stock_feed_not_found", "No such stock feed"),
    cod_rules.CashOnDeliveryRefused: Kind(422, "cash_on_delivery_refused", "Cash on delivery is not offered for "
                                                                             "this order"),
    cod.RemittanceNotFound: Kind(404, "remittance_not_found", "No such remittance file"),
    accounts.AccountNotFound: Kind(404, "account_not_found", "No such business account"),
    errors.Unauthenticated: Kind(401, "unauthenticated", "Sign in first"),
    errors.Forbidden: Kind(403, "forbidden", "Your role does not allow this"),
    errors.TooManyRequests: Kind(429, "too_many_requests", "Too many requests; try again later"),
    errors.PickupNotOffered: Kind(422, "pickup_not_offered", "This store offers no pickup for this order"),
    errors.PickupCodeRefused: Kind(422, "pickup_code_refused", "This is not the order's pickup code"),
    errors.PickupLocked: Kind(429, "pickup_locked", "Too many wrong pickup codes; try again later"),
    # Says no more than that: which rule or threshold is never told (it would teach a fraudster the limits).
    errors.InvalidAvailabilityQuery: Kind(400, "invalid_query", "The query is not valid"),
    errors.RefusedByRiskScreening: Kind(403, "refused_by_risk_screening", "The order cannot be accepted"),
}
VALIDATION = Kind(422, "invalid_request", "The request is not valid")
NOT_FOUND = Kind(404, "not_found", "No such resource")
METHOD_NOT_ALLOWED = Kind(405, "method_not_allowed", "Method not allowed")
TOO_LARGE = Kind(413, "payload_too_large", "The request body is too large")
UNSUPPORTED_MEDIA_TYPE = Kind(415, "unsupported_media_type", "Send application/json")
MALFORMED = Kind(400, "malformed_request", "The request body is not valid JSON")
INTERNAL = Kind(500, "internal_error", "Something went wrong on our side")


def kind_of(error: errors.DomainError) -> Kind:
    for cls in type(error).__mro__:
        if cls in HTTP:
            return HTTP[cls]
    return Kind(400, "bad_request", "Bad request")


def body(kind: Kind, detail: str, field_problems: list[FieldProblem] | None = None) -> dict[str, Any]:
    problem = Problem(type=f"urn:dawra:problem:{kind.code}", title=kind.title, status=kind.status, detail=detail,
                      code=kind.code, errors=field_problems)
    return problem.model_dump(exclude_none=True)


def headers(kind: Kind) -> dict[str, str]:
    """503 and 429 tell the client when to retry (with the same Idempotency-Key); 401 names the scheme to sign in
    with (RFC 9110: a 401 carries WWW-Authenticate): a Cognito ID token as a bearer token."""
    if kind.status in (429, 503):
        return {"Retry-After": str(RETRY_AFTER_S)}
    if kind.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return {}


def from_domain_error(error: errors.DomainError) -> tuple[Kind, dict[str, Any]]:
    kind = kind_of(error)
    field = [FieldProblem(path=error.field, message=error.message)] if error.field else None
    document = body(kind, error.message, field)
    if isinstance(error, ShortOfStock):  # RFC 9457 extension member: what each short line can have
        document["availability"] = [line.model_dump(mode="json") for line in error.lines]
    if isinstance(error, return_lines.LinesNotReturnable | return_claims.LinesNotClaimable):  # each refused line
        document["lines"] = [line.model_dump(mode="json") for line in error.lines]
    if isinstance(error, PickupNotOffered):  # the days and windows a courier can come
        document["pickup_days"] = [slot.model_dump(mode="json") for slot in error.offered]
    return kind, document


def path_of(location: Sequence[str | int]) -> str:
    """("body", "lines", 0, "quantity") -> "lines[0].quantity"; ("header", "idempotency-key") -> headers.Idempotency-Key."""
    parts = list(location)
    if parts and parts[0] == "header":
        return "headers." + "-".join(word.capitalize() for word in str(parts[-1]).split("-"))
    if parts and parts[0] in ("body", "path", "query"):
        prefix = "" if parts[0] == "body" else f"{parts[0]}."
        parts = parts[1:]
    else:
        prefix = ""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return prefix + (text or "body")


def message_of(problem: Mapping[str, Any]) -> str:
    message = str(problem.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def from_validation(problems: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    field_problems = [FieldProblem(path=path_of(p.get("loc", ())), message=message_of(p)) for p in problems]
    if any(p.get("type") == "json_invalid" for p in problems):
        return body(MALFORMED, "the body is not valid JSON")
    return body(VALIDATION, "the request is not valid; see errors", field_problems)


# --- the guard every request body passes first -------------------------------------------------------------------
class Refused(Exception):
    def __init__(self, kind: Kind, detail: str):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest (strings skipped), without parsing: no recursion, no surprise."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def guard_json_body(raw: bytes, content_type: str | None) -> Any:
    """The parsed JSON body of a request, or Refused with the problem to answer."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Refused(UNSUPPORTED_MEDIA_TYPE, f"Content-Type must be application/json, not {media_type or 'absent'}")
    if len(raw) > MAX_BODY_BYTES:
        raise Refused(TOO_LARGE, f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(MALFORMED, "the body is not UTF-8") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise Refused(MALFORMED, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except ValueError:  # JSONDecodeError, and integers longer than Python converts
        raise Refused(MALFORMED, "the body is not valid JSON") from None


def proxy_response(kind: Kind, detail: str, extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway (REST, Lambda proxy) response carrying a problem."""
    return {"statusCode": kind.status, "body": json.dumps(body(kind, detail)),
            "headers": {"Content-Type": PROBLEM_JSON, **headers(kind), **(extra_headers or {})}}


def guard_api_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse a request whose body could not be parsed safely (size, media type, encoding, nesting) before any
    framework touches it; None when the request may go on."""
    if event.get("httpMethod") not in ("POST", "PUT", "PATCH"):
        return None
    import base64

    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8", "surrogatepass")
    content_type = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "content-type"), None)
    try:
        guard_json_body(data, content_type)
    except Refused as refused:
        return proxy_response(refused.kind, refused.detail)
    return None
