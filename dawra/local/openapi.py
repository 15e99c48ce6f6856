"""The storefront API's OpenAPI document, generated from the handlers (Powertools builds it from the routes'
signatures and models) plus the webhook routes (carriers', payment providers'), which API Gateway hands straight to
SQS.

No cloud is needed: the handler module is imported with placeholder settings (it makes no AWS call at import)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from dawra.contracts import env
from dawra.contracts.partners import PARTNER_SIGNATURE_HEADER
from dawra.contracts.problems import PROBLEM_JSON, Problem
from dawra.contracts.webhook import CONTENT_TYPES, PAYMENT_SIGNATURE_HEADER, SIGNATURE_HEADER
from dawra.domain.payment_events import PaymentEventKind
from dawra.topology import TOPOLOGY

TITLE = "Dawra storefront API"
DESCRIPTION = """Everything after the buy button. Money is integer minor units with an ISO 4217 currency; times are UTC
ISO-8601; errors are application/problem+json (RFC 9457). On AWS the storefront routes are signed with SigV4 (IAM);
carriers and payment providers sign their webhooks with an HMAC (see dawra/adapters/carriers/sandbox.py and
dawra/adapters/payments/sandbox.py). Sandbox payment tokens: tok_sandbox_approve, tok_sandbox_decline (402),
tok_sandbox_insufficient (402), tok_sandbox_unavailable (503: retry with the same Idempotency-Key),
tok_sandbox_expired (the authorisation lapses before capture: re-authorised at shipping), tok_sandbox_expired_no_reauth
(re-authorisation declined: the order is held for a person), tok_sandbox_capture_retry (the first capture fails
with a processor error and is retried)."""
SERVERS = [{"url": "http://127.0.0.1:8080", "description": "make up (the local stack)"},
           {"url": "https://{api}.execute-api.{region}.amazonaws.com/v1", "description": "deployed (stack output ApiUrl)",
            "variables": {"api": {"default": "abc123"}, "region": {"default": "us-east-1"}}}]


@contextmanager
def _placeholder_settings() -> Iterator[None]:
    values = {env.ORDERS_TABLE: "dawra-orders", env.INVENTORY_TABLE: "dawra-inventory",
              env.ORDER_LIFECYCLE_ARN: "arn:aws:states:us-east-1:123456789012:stateMachine:dawra-order-lifecycle",
              "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
              "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Dawra"}
    env.settings.cache_clear()
    with mock.patch.dict(os.environ, {**values, **{k: v for k, v in os.environ.items() if k in values}}):
        yield
    env.settings.cache_clear()


# Storage first: any body is stored, and judged when processed, so the route promises no schema; what the sandbox
# carrier sends (dawra/adapters/carriers/sandbox.py) is described in words and examples.
_SANDBOX_WEBHOOK = (
    "The sandbox carrier's report: event_id, tracking_number (SBX + 12 hex digits), status (its own word, e.g. "
    "DELIVERED), occurred_at (ISO-8601 with a zone), location (optional), and on a DELIVERED report of a parcel paid "
    "in cash at the door, cod_collected: {amount (integer minor units), currency}, what the courier collected "
    "(optional; an amount other than what was due is flagged to operations). Another carrier posts its own format, "
    "read by its adapter.")


def _signed_webhook_operation(*, summary: str, description: str, operation_id: str, sender: str, example: str,
                              signature_header: str, body_schema: dict[str, Any],
                              examples: dict[str, Any], not_found: str, key: str = "secret",
                              body_description: str | None = None) -> dict[str, Any]:
    """A route that stores a signed webhook as it came on a queue (storage first) and answers 202: the sender named
    in the path (`sender`, e.g. `example`), its HMAC (with `key`) in `signature_header`. Any body is stored as it came
    (the signature covers its raw bytes) and judged when processed: `body_schema` describes, never refuses."""
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    body: dict[str, Any] = {"required": False}
    if body_description is not None:
        body["description"] = body_description
    body["content"] = {**{t: {"schema": {}} for t in CONTENT_TYPES},
                       "application/json": {"schema": body_schema, "examples": examples}}
    return {
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "parameters": [
            {"name": sender, "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,32}$", "example": example}},
            {"name": signature_header, "in": "header", "required": False,
             "schema": {"type": "string", "example": "t=1764583200,v1=3f6c..."},
             "description": f"t=<unix seconds>,v1=<hex HMAC-SHA256({key}, '<t>.' + raw body)>"},
        ],
        "requestBody": body,
        "responses": {
            "202": {"description": "Stored for processing", "content": {"application/json": {"schema": {
                "type": "object", "required": ["accepted", "request_id"],
                "properties": {"accepted": {"type": "boolean"}, "request_id": {"type": "string"}}}}}},
            "404": {"description": not_found, "content": problem},
            "415": {"description": f"Not one of {', '.join(CONTENT_TYPES)}", "content": problem},
            "500": {"description": "Could not be stored; retry", "content": problem},
        },
    }


def _carrier_webhook_operation() -> dict[str, Any]:
    return _signed_webhook_operation(
        summary="A carrier's tracking webhook",
        description="Stored raw (body and signature) on a queue and answered 202 at once; the signature is "
                    "verified when it is processed. A webhook that can never be processed (forged, unknown "
                    "carrier, malformed) is recorded with its reason and dropped.",
        operation_id="post_carrier_webhook", sender="carrier", example="sandbox",
        signature_header=SIGNATURE_HEADER, body_description=_SANDBOX_WEBHOOK, body_schema={},
        examples={
            "delivered": {"summary": "Delivered", "value": {
                "event_id": "evt-1", "tracking_number": "SBX0123456789AB", "status": "DELIVERED",
                "occurred_at": "2026-11-23T12:00:00Z"}},
            "cash_on_delivery": {"summary": "Delivered, cash on delivery: what the courier collected", "value": {
                "event_id": "evt-2", "tracking_number": "SBX0123456789AB", "status": "DELIVERED",
                "occurred_at": "2026-11-23T12:00:00Z", "cod_collected": {"amount": 18975, "currency": "SAR"}}}},
        not_found="No such carrier")


# The sandbox payment provider's event (dawra/adapters/payments/sandbox.py). Described, not constrained: the route
# stores any body (storage first, answered 202) and the consumer judges it, so a schema would promise a refusal
# the route never makes.
_SANDBOX_PAYMENT_EVENT: dict[str, Any] = {
    "description": "Any body is stored. The sandbox payment provider's event (another provider posts its own "
                   "format, read by its adapter) is a JSON object: event_id (1-64 of [A-Za-z0-9._:-]), type ("
                   + ", ".join(k.value for k in PaymentEventKind) + "), authorization_id, payment_reference (the "
                   "authorisation's merchant reference: the checkout's chk_<sha256 of its Idempotency-Key>), "
                   "optional reference (the key of the capture or refund it is about), amount (minor units) and "
                   "currency, occurred_at (ISO-8601 with a zone), optional reason (at most 200 characters).",
}


def _payment_webhook_operation() -> dict[str, Any]:
    return _signed_webhook_operation(
        summary="A payment provider's webhook",
        description="Stored raw (body and signature) on a queue and answered 202 at once; the signature is "
                    "verified when it is processed (5 minutes' replay window), each event applied once by its "
                    "id, in any order: a payment link paid releases the order's hold; captures and refunds "
                    "settled or failed, and disputes, go on the order's timeline (failures and disputes alert "
                    "operations). A webhook that can never be processed is recorded with its reason and dropped.",
        operation_id="post_payment_webhook", sender="provider", example="sandbox",
        signature_header=PAYMENT_SIGNATURE_HEADER, body_schema=_SANDBOX_PAYMENT_EVENT,
        examples={"link_paid": {"summary": "A payment link paid", "value": {
            "event_id": "evt_1", "type": "payment_link.paid", "authorization_id": "auth_0123456789abcdef01234567",
            "payment_reference": "chk_" + "0" * 64, "amount": 18975, "currency": "SAR",
            "occurred_at": "2026-11-23T12:00:00Z"}}},
        not_found="No such provider")


def _partner_callback_operation() -> dict[str, Any]:
    """A partner's (a 3PL's, a dropshipper's) callback: dawra/contracts/partners.py has the protocol."""
    return _signed_webhook_operation(
        summary="A partner's callback: a shipment it prepares is accepted, picked or packed",
        description="Stored raw (body and signature) on a queue and answered 202 at once; the signature (the "
                    "partner's own key, 5 minutes' replay window) is verified when it is processed, and the word "
                    "applied against the shipment as it is: sent twice or out of order, it changes nothing more. "
                    "Packed: the carrier is booked next. A callback that can never be processed (forged, an "
                    "unknown partner, malformed, a shipment not at the partner's location) is dropped.",
        operation_id="post_partner_callback", sender="partner", example="dammam-3pl",
        signature_header=PARTNER_SIGNATURE_HEADER, key="partner's secret",
        body_schema={"description": "Any body is stored. A partner's callback is a JSON object: event_id, order_id, "
                                    "shipment_id (as Dawra sent them), status (accepted, picked or packed), "
                                    "optional tracking_number (the partner's own), occurred_at (ISO-8601 with a "
                                    "zone)."},
        examples={"packed": {"summary": "Packed", "value": {
            "event_id": "dmm-1", "order_id": "ord_" + "0" * 32, "shipment_id": "shp_" + "0" * 20,
            "status": "packed", "tracking_number": "DMM-0001", "occurred_at": "2026-11-23T12:00:00Z"}}},
        not_found="No such partner")


def _resolver(function_id: str) -> Any:
    """The function's Powertools resolver, its module imported as Lambda would (its folder's modules importable)."""
    function = TOPOLOGY.function(function_id)
    path = function.code_path / f"{function.handler.rsplit('.', 1)[0]}.py"
    spec = importlib.util.spec_from_file_location(f"dawra_openapi_{function_id.replace('-', '_')}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a module")
    module = importlib.util.module_from_spec(spec)
    before = set(sys.modules)
    sys.path.insert(0, str(function.code_path))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(function.code_path))
        for name in set(sys.modules) - before:  # the folder's own modules: not left behind for others
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(function.code_path)):
                del sys.modules[name]
    return module.app


def _merge(doc: dict[str, Any], other: dict[str, Any]) -> None:
    """Another storefront function's paths and schemas into the document (one API, several functions behind it); a
    schema both declare must be the same."""
    for path, operations in other.get("paths", {}).items():
        for operation in operations.values():  # the resolver's own 422: these functions answer a bad query 400
            if operation["responses"].get("422", {}).get("description") == "Validation Error":
                del operation["responses"]["422"]
        doc["paths"][path] = operations
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in other.get("components", {}).get("schemas", {}).items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two storefront functions describe {name} differently")


def document() -> dict[str, Any]:
    with _placeholder_settings():
        app = _resolver("orders-api")
        doc: dict[str, Any] = json.loads(app.get_openapi_json_schema(title=TITLE, version="0.1.0",
                                                                    description=DESCRIPTION, servers=SERVERS))
        _merge(doc, json.loads(_resolver("availability-api").get_openapi_json_schema(title=TITLE, version="0.1.0")))
    for route in (r for r in TOPOLOGY.routes if r.target_kind == "queue"):
        operation = (_payment_webhook_operation() if route.target == "payment-events"
                     else _partner_callback_operation() if route.target == "partner-callbacks"
                     else _carrier_webhook_operation())
        doc["paths"][route.path] = {route.method.lower(): operation}
    return doc


ADMIN_TITLE = "Dawra admin API"
ADMIN_DESCRIPTION = """The back office's API, for operators (Cognito groups agent, warehouse, manager). Send the
operator's Cognito ID token in the Authorization header; API Gateway's Cognito authorizer verifies it before any
function runs (401 otherwise), and each action checks the operator's role (403, saying what is not allowed). Every
change carries an Idempotency-Key: a replay returns the first result and acts once. An action the order's status
does not allow is a 409 that says why. Every change is written with its audit entry (who, when, what, why, before and
after) in one transaction. Errors are application/problem+json (RFC 9457), as on the storefront API."""


def admin_document() -> dict[str, Any]:
    with _placeholder_settings():
        app = _resolver("admin-api")
        doc: dict[str, Any] = json.loads(app.get_openapi_json_schema(
            title=ADMIN_TITLE, version="0.1.0", description=ADMIN_DESCRIPTION, servers=SERVERS))
    doc.setdefault("components", {})["securitySchemes"] = {"cognito": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "The operator's Cognito ID token (API Gateway's Cognito user pools authorizer)"}}
    doc["security"] = [{"cognito": []}]
    schemas = doc["components"].setdefault("schemas", {})
    for name, schema in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs",
                                                                                                   {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault("Problem", {k: v for k, v in Problem.model_json_schema(
        ref_template="#/components/schemas/{model}").items() if k != "$defs"})
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            answers = {"401": "No valid ID token of the operators' pool (answered by the gateway)",
                       "403": "The operator's role does not allow this (the problem says what)",
                       "503": "Briefly unavailable (throttled, or the order kept changing): retry, same key"}
            if "{" in path:
                answers["404"] = "No such order or transfer"
            if method == "post":
                answers["409"] = "Not possible now: the order's status (or the stock) does not allow it; says why"
            for status, why in answers.items():
                operation["responses"].setdefault(status, {"description": why, "content": problem})
    return doc


CUSTOMER_TITLE = "Dawra customer API"
CUSTOMER_DESCRIPTION = """The customer's order, for a storefront that shows it on its own pages. Every customer message
carries a link to the order's page, https://<site>/my-order/<token>; the same token, sent as a bearer token, reads the
order here. A token is signed, expires and is revoked by an operator (then only the newest message's link works); any
token that opens no order, for whatever reason, gets the same 404. The guest lookup sends an order's link to the
contact on the order when its reference and contact match, and answers the same whether or not they did; it is rate
limited per caller and per contact (429). The HTML pages (/my-order/...) are for browsers and not described here.
Errors are application/problem+json (RFC 9457), as on the storefront API."""


def customer_document() -> dict[str, Any]:
    with _placeholder_settings():
        app = _resolver("customer")
        doc: dict[str, Any] = json.loads(app.get_openapi_json_schema(
            title=CUSTOMER_TITLE, version="0.1.0", description=CUSTOMER_DESCRIPTION, servers=SERVERS))
    doc.setdefault("components", {})["securitySchemes"] = {"orderLink": {
        "type": "http", "scheme": "bearer",
        "description": "The token of the order's link (the last path segment of /my-order/<token>)"}}
    doc["paths"]["/customer/order"]["get"]["security"] = [{"orderLink": []}]
    return doc
