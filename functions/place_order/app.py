"""Storefront API (API Gateway REST, Lambda proxy): POST /orders, GET /orders/{order_id}, and an order's returns
(order_returns.py). Parse, call, map errors."""

from typing import Annotated

import order_returns
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from dawra.bootstrap import build_storefront_api
from dawra.contracts import metrics as M
from dawra.contracts import problems
from dawra.contracts.api import (
    ORDER_ID_PATTERN,
    PLACE_ORDER_RESPONSES,
    VIEW_ORDER_RESPONSES,
    OrderSummary,
    OrderView,
    PlaceOrderRequest,
    order_summary,
    order_view,
)
from dawra.contracts.env import settings
from dawra.entrypoints import rest_resolver
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
app = rest_resolver(logger)
app.include_router(order_returns.router)
api = build_storefront_api(settings())


@app.post("/orders", summary="Place an order", status_code=201, responses=PLACE_ORDER_RESPONSES)
@tracer.capture_method
def post_order(
    order: Annotated[PlaceOrderRequest, Body()],
    idempotency_key: Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128,
                                           description="Unique per checkout attempt; replays return the same order")],
) -> Response[OrderSummary]:
    placed = api.checkout.place_order(idempotency_key, order)
    metrics.add_metric(name=M.ORDERS_PLACED, unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=order_summary(placed),
                    headers={"Location": f"/orders/{placed.order_id}"})


@app.get("/orders/<order_id>", summary="An order's status, lines, totals, shipments and timeline",
         responses=VIEW_ORDER_RESPONSES)
@tracer.capture_method
def get_order(order_id: Annotated[str, Path(pattern=ORDER_ID_PATTERN)]) -> OrderView:
    return order_view(*api.view_order(order_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return problems.guard_api_event(event) or app.resolve(event, context)
