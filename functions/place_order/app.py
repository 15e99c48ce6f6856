"""Storefront API (API Gateway REST, Lambda proxy): POST /orders, GET /orders/{order_id}. Parse, call, map errors."""

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from dawra.bootstrap import build_storefront_api
from dawra.contracts import metrics as M
from dawra.contracts.api import ORDER_ID_PATTERN, PlaceOrderRequest, order_summary, order_view
from dawra.contracts.env import settings
from dawra.contracts.errors import error_body, error_headers, http_error, validation_error_body
from dawra.domain.errors import DomainError

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)
api = build_storefront_api(settings())


@app.post("/orders", summary="Place an order", responses={201: {"description": "Order placed"}})
@tracer.capture_method
def post_order(
    order: Annotated[PlaceOrderRequest, Body()],
    idempotency_key: Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                                           description="Unique per checkout attempt; replays return the same order")],
) -> Response[dict]:
    placed = api.checkout.place_order(idempotency_key, order)
    metrics.add_metric(name=M.ORDERS_PLACED, unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=order_summary(placed),
                    headers={"Location": f"/orders/{placed.order_id}"})


@app.get("/orders/<order_id>", summary="An order's status, lines, totals, shipments and timeline")
@tracer.capture_method
def get_order(order_id: Annotated[str, Path(pattern=ORDER_ID_PATTERN)]) -> dict:
    return order_view(*api.view_order(order_id))


@app.exception_handler(DomainError)
def domain_error(error: DomainError) -> Response:
    status = http_error(error).status
    logger.info("request refused", extra={"error": type(error).__name__, "status": status})
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(error),
                    headers=error_headers(error))


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON,
                    body=validation_error_body(error.errors()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
