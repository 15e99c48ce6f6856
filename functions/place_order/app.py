"""Storefront API (API Gateway REST, Lambda proxy): POST /orders, GET /orders/{order_id}.

Thin: parse and validate (Powertools + pydantic), call the checkout logic, map errors to HTTP."""


from typing import Annotated

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from dawra.adapters import aws
from dawra.adapters.inventory import InventoryStore
from dawra.adapters.lifecycle import Lifecycle
from dawra.adapters.orders import OrdersStore
from dawra.api import order_view, validation_error_body
from dawra.checkout import Checkout, CheckoutCommand
from dawra.errors import DomainError, OrderNotFound
from dawra.models import PlaceOrderRequest
from dawra.payments import SandboxPaymentProvider
from dawra.settings import settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)

config = settings()
orders = OrdersStore(config.orders_table)
checkout = Checkout(
    orders=orders,
    inventory=InventoryStore(config.inventory_table),
    lifecycle=Lifecycle(config.order_lifecycle_arn),
    payments=SandboxPaymentProvider(),
)
idempotency = IdempotencyConfig(
    event_key_jmespath="idempotency_key",
    payload_validation_jmespath="request",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
persistence = DynamoDBPersistenceLayer(table_name=config.idempotency_table or "", boto3_client=aws.client("dynamodb"))


@idempotent_function(data_keyword_argument="command", config=idempotency, persistence_store=persistence)
def place_order_once(command: CheckoutCommand) -> dict:
    """Same Idempotency-Key, same response: one order, one execution."""
    return checkout.place_order(command)


@app.post("/orders", summary="Place an order", responses={201: {"description": "Order placed"}})
@tracer.capture_method
def post_order(
    order: Annotated[PlaceOrderRequest, Body()],
    idempotency_key: Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                                           description="Unique per checkout attempt; replays return the same order")],
) -> Response[dict]:
    summary = place_order_once(command=CheckoutCommand(idempotency_key=idempotency_key, request=order))
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=summary,
                    headers={"Location": f"/orders/{summary['order_id']}"})


@app.get("/orders/<order_id>", summary="An order's status, lines, totals, shipments and timeline")
@tracer.capture_method
def get_order(order_id: Annotated[str, Path(pattern=r"^ord_[a-f0-9]{24}$")]) -> dict:
    order, shipments, timeline = orders.load(order_id)
    if order is None:
        raise OrderNotFound(f"order {order_id} does not exist")
    return order_view(order, shipments, timeline)


@app.exception_handler(DomainError)
def domain_error(error: DomainError) -> Response:
    logger.info("request refused", extra={"code": error.code, "status": error.http_status})
    return Response(status_code=error.http_status, content_type=content_types.APPLICATION_JSON,
                    body=error.to_body())


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON,
                    body=validation_error_body(error.errors()))


@app.exception_handler(IdempotencyValidationError)
def key_reused(_: IdempotencyValidationError) -> Response:
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body={"error": {
        "code": "idempotency_key_reused", "message": "this Idempotency-Key was used for a different order"}})


@app.exception_handler(IdempotencyAlreadyInProgressError)
def in_progress(_: IdempotencyAlreadyInProgressError) -> Response:
    return Response(status_code=409, content_type=content_types.APPLICATION_JSON, body={"error": {
        "code": "checkout_in_progress", "message": "a checkout with this Idempotency-Key is in progress; retry"}})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
