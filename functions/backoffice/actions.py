"""Admin API: what an operator does to an order. Each answers the order, the audit entry and whether it was a replay
of a request already applied (the Idempotency-Key); an action the order's status does not allow is a 409."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import ORDER, Key, OrderId, Why, acted, caller, office

from dawra.contracts import admin

router = APIGatewayRouter()


@router.post(f"{ORDER}/cancel", summary="Cancel the whole order (the workflow compensates)", status_code=202)
def cancel(order_id: OrderId, body: Why, key: Key) -> Response[admin.ActionResult]:
    actor = caller(router)
    outcome = acted(actor, office.actions.cancel(actor, order_id, key, body.reason))
    return Response(status_code=202, content_type="application/json", body=outcome)


@router.post(f"{ORDER}/lines/<sku>/cancel", summary="Cancel one line that has not shipped")
def cancel_line(order_id: OrderId, sku: Annotated[str, Path(max_length=64)], body: Why, key: Key) -> admin.ActionResult:
    actor = caller(router)
    return admin.ActionResult.model_validate(acted(actor, office.actions.cancel_line(actor, order_id, key, sku,
                                                                                     body.reason)))


@router.post(f"{ORDER}/refunds", summary="Refund part of what was captured")
def refund(order_id: OrderId, body: Annotated[admin.RefundRequest, Body()], key: Key) -> admin.ActionResult:
    actor = caller(router)
    outcome = office.actions.refund(actor, order_id, key, body.amount, body.reason)
    return admin.ActionResult.model_validate(acted(actor, outcome))


@router.post(f"{ORDER}/address", summary="Change the shipping address before a label exists")
def address(order_id: OrderId, body: Annotated[admin.AddressChange, Body()], key: Key) -> admin.ActionResult:
    actor = caller(router)
    outcome = office.actions.change_address(actor, order_id, key, body.address, body.reason)
    return admin.ActionResult.model_validate(acted(actor, outcome))
